# Infrastructure for the hook: running commands, acting on guests, the hook's
# config, the parked-guest state and the hook's log.
src_libpvegpu_a_SOURCES += \
	src/subprocess.h src/subprocess.c \
	src/hookconf.h src/hookconf.c \
	src/state.h src/state.c \
	src/hooklog.h src/hooklog.c \
	src/guestctl.h src/guestctl.c

INFRA_TESTS = tests/unit/subprocess.t tests/unit/hookconf.t tests/unit/state.t tests/unit/hooklog.t tests/unit/guestctl.t
check_PROGRAMS += $(INFRA_TESTS)
TESTS += $(INFRA_TESTS)
EXTRA_DIST += tests/unit/testdir.h
tests_unit_subprocess_t_SOURCES = tests/unit/subprocess.t.c tests/unit/testdir.h
tests_unit_hookconf_t_SOURCES = tests/unit/hookconf.t.c tests/unit/testdir.h
tests_unit_state_t_SOURCES = tests/unit/state.t.c tests/unit/testdir.h
tests_unit_hooklog_t_SOURCES = tests/unit/hooklog.t.c tests/unit/testdir.h
tests_unit_guestctl_t_SOURCES = tests/unit/guestctl.t.c tests/unit/testdir.h

# installer: the setup wizard and the library parts only it needs.
src_libpvegpu_a_SOURCES += \
	src/strbuf.h src/strbuf.c \
	src/udiff.h src/udiff.c \
	src/vzdumpconf.h src/vzdumpconf.c src/jobscfg.c

check_PROGRAMS += tests/unit/vzdumpconf.t
TESTS += tests/unit/vzdumpconf.t
tests_unit_vzdumpconf_t_SOURCES = tests/unit/vzdumpconf.t.c tests/unit/tap.h

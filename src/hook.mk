# pve-gpu-backup-hook: a thin dispatcher (main.c) and one file per command.
sbin_PROGRAMS += src/hook/pve-gpu-backup-hook
src_hook_pve_gpu_backup_hook_SOURCES = \
	src/hook/hook.h \
	src/hook/main.c \
	src/hook/status.c \
	src/hook/run.h src/hook/run.c \
	src/hook/phase.c \
	src/hook/park.c \
	src/hook/plan_cmd.c \
	src/hook/recover.c \
	src/hook/rebind_cmd.c

TESTS += tests/bats/status.bats tests/bats/realworld.bats

src_libpvegpu_a_SOURCES += src/plan.h src/plan.c
check_PROGRAMS += tests/unit/plan.t
TESTS += tests/unit/plan.t
tests_unit_plan_t_SOURCES = tests/unit/plan.t.c tests/unit/tap.h

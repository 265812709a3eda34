# pve-gpu-backup-hook: a thin dispatcher (main.c) and one file per command.
sbin_PROGRAMS += src/hook/pve-gpu-backup-hook
src_hook_pve_gpu_backup_hook_SOURCES = \
	src/hook/hook.h \
	src/hook/main.c \
	src/hook/status.c

TESTS += tests/bats/status.bats

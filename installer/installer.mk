# installer: the setup wizard and the library parts only it needs.
src_libpvegpu_a_SOURCES += \
	src/strbuf.h src/strbuf.c \
	src/udiff.h src/udiff.c \
	src/vzdumpconf.h src/vzdumpconf.c src/jobscfg.c

check_PROGRAMS += tests/unit/vzdumpconf.t
TESTS += tests/unit/vzdumpconf.t
tests_unit_vzdumpconf_t_SOURCES = tests/unit/vzdumpconf.t.c tests/unit/tap.h

sbin_PROGRAMS += installer/pve-gpu-backup-setup
installer_pve_gpu_backup_setup_SOURCES = \
	installer/pve-gpu-backup-setup.c installer/setup.h \
	installer/apply.c installer/describe.c \
	installer/gpus.h installer/gpus.c \
	installer/guests-report.h installer/guests-report.c \
	installer/node-report.c
installer_pve_gpu_backup_setup_CFLAGS = $(AM_CFLAGS) $(LIBUDEV_CFLAGS) $(LIBPCI_CFLAGS)
installer_pve_gpu_backup_setup_LDADD = src/libpvegpu.a $(LIBUDEV_LIBS) $(LIBPCI_LIBS)

SETUP_BATS = tests/bats/setup-apply.bats tests/bats/setup-safety.bats \
	tests/bats/setup-cli.bats tests/bats/setup-node.bats tests/bats/setup-realworld.bats \
	tests/bats/setup-readiness.bats
TESTS += $(SETUP_BATS)

dist_man_MANS += man/pve-gpu-backup-setup.8

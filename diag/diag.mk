# diag: gpu-diag, the GPU passthrough checker, and its verdict library.
src_libpvegpu_a_SOURCES += \
	src/gpucheck.h src/gpucheck.c src/gpucheck-host.c src/gpucheck-guest.c src/checkresult.h \
	src/gpuprobe.h src/gpuprobe.c src/gpuhost.c src/gpuquick.c \
	src/gpucard.h src/gpucard.c

check_PROGRAMS += tests/unit/gpucheck.t
TESTS += tests/unit/gpucheck.t
tests_unit_gpucheck_t_SOURCES = tests/unit/gpucheck.t.c tests/unit/tap.h

sbin_PROGRAMS += diag/gpu-diag
diag_gpu_diag_SOURCES = diag/gpu-diag.c diag/checks.h diag/checks.c diag/report.h diag/report.c \
	diag/guests.h diag/guests.c
diag_gpu_diag_CFLAGS = $(AM_CFLAGS) $(LIBUDEV_CFLAGS) $(LIBPCI_CFLAGS)
diag_gpu_diag_LDADD = src/libpvegpu.a $(LIBUDEV_LIBS) $(LIBPCI_LIBS)

dist_man_MANS += man/gpu-diag.8

check_PROGRAMS += tests/unit/gpudump.t
TESTS += tests/unit/gpudump.t
tests_unit_gpudump_t_SOURCES = tests/unit/gpudump.t.c tests/unit/tap.h
tests_unit_gpudump_t_CFLAGS = $(AM_CFLAGS) $(LIBPCI_CFLAGS)
tests_unit_gpudump_t_LDADD = src/libpvegpu.a $(LIBUDEV_LIBS) $(LIBPCI_LIBS)

TESTS += tests/bats/gpu-diag.bats

check_PROGRAMS += tests/unit/gpuquick.t
TESTS += tests/unit/gpuquick.t
tests_unit_gpuquick_t_SOURCES = tests/unit/gpuquick.t.c tests/unit/tap.h

check_PROGRAMS += tests/unit/gpucard.t
TESTS += tests/unit/gpucard.t
tests_unit_gpucard_t_SOURCES = tests/unit/gpucard.t.c tests/unit/tap.h
tests_unit_gpucard_t_LDADD = src/libpvegpu.a $(LIBUDEV_LIBS) $(LIBPCI_LIBS)

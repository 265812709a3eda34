# diag: gpu-diag, the GPU passthrough checker, and its verdict library.
src_libpvegpu_a_SOURCES += \
	src/gpucheck.h src/gpucheck.c \
	src/gpuprobe.h src/gpuprobe.c src/gpuhost.c src/gpuquick.c

check_PROGRAMS += tests/unit/gpucheck.t
TESTS += tests/unit/gpucheck.t
tests_unit_gpucheck_t_SOURCES = tests/unit/gpucheck.t.c tests/unit/tap.h

# issue 4: hand a GPU's IOMMU group back from vfio-pci to its host drivers.

# The fake kernel behind the fake sysfs (LD_PRELOAD) and the bash helper that lays it out.
# Built without the sanitizer flags of CFLAGS: it is preloaded into bash and ASan programs alike.
check_SCRIPTS += tests/sim/fakesys.so
CLEANFILES += tests/sim/fakesys.so
fakesys_files = tests/sim/fakesys.h tests/sim/fakesys.c tests/sim/fakesys-kernel.c
EXTRA_DIST += $(fakesys_files) tests/sim/fakepci.sh
tests/sim/fakesys.so: $(fakesys_files)
	@$(MKDIR_P) tests/sim
	$(AM_V_CCLD)$(CC) $(WARN_CFLAGS) -U_FORTIFY_SOURCE -O2 -g -shared -fPIC \
		-o $@ $(srcdir)/tests/sim/fakesys.c $(srcdir)/tests/sim/fakesys-kernel.c -ldl

TESTS += tests/bats/fakesys.bats

src_libpvegpu_a_SOURCES += src/rebind.h src/rebind.c src/rebind_group.c src/rebind_holders.c

# A small driver of the library for the bats suite, run under fakesys.so.
check_PROGRAMS += tests/sim/rebind-run
tests_sim_rebind_run_SOURCES = tests/sim/rebind-run.c
TESTS += tests/bats/rebind-module.bats

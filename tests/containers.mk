# issue 4 end to end: containers and VMs sharing one GPU, on the simulated node
# (tests/sim) under the fake kernel (tests/sim/fakesys.so).
EXTRA_DIST += tests/bats/ct-helpers.bash
TESTS += tests/bats/ct-igpu.bats tests/bats/ct-nvidia.bats tests/bats/ct-stuck.bats \
	tests/bats/ct-restore-fail.bats tests/bats/ct-own-backup.bats \
	tests/bats/ct-rebind-cmd.bats tests/bats/ct-status.bats

check_PROGRAMS += tests/unit/rebind_drm.t
TESTS += tests/unit/rebind_drm.t
tests_unit_rebind_drm_t_SOURCES = tests/unit/rebind_drm.t.c tests/unit/tap.h tests/unit/testdir.h

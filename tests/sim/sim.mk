# tests/sim: the simulated Proxmox node (qm/pct/ha-manager doubles, vzdump
# driver, fake sysfs) used by the end-to-end bats suites and tools/demo.
EXTRA_DIST += tests/sim/lib.sh tests/sim/conf.sh tests/sim/kernel.sh tests/sim/guest.sh \
	tests/sim/cli.sh tests/sim/qm tests/sim/pct tests/sim/ha-manager tests/sim/vzdump \
	tests/sim/record-hook tests/sim/demo.sh tests/sim/README.md tools/demo
TESTS += tests/bats/sim.bats

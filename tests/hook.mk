# End-to-end suites of the hook on the simulated node (tests/sim): vzdump runs
# the built hook; each suite asserts guest states, the task log and exit codes.
HOOK_E2E_TESTS = \
	tests/bats/hook-demo.bats \
	tests/bats/hook-iommu.bats \
	tests/bats/hook-mapping.bats \
	tests/bats/hook-noop.bats \
	tests/bats/hook-shutdown.bats \
	tests/bats/hook-ha.bats \
	tests/bats/hook-protect.bats \
	tests/bats/hook-kill.bats \
	tests/bats/hook-restore.bats \
	tests/bats/hook-chain.bats \
	tests/bats/hook-badinput.bats \
	tests/bats/hook-cli.bats
TESTS += $(HOOK_E2E_TESTS)

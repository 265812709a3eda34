# shellcheck shell=bash
# shellcheck disable=SC2034,SC2154  # variables for the suites; the harness exports top_srcdir
# Shared by sim.bats, hook-helpers.bash and ct-helpers.bash: a simulated node
# (tests/sim) at $R, the root prefix of every program the test runs.

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load

# sim_node: node pve1 at $BATS_TEST_TMPDIR/node; VZDUMP is its vzdump.
sim_node() {
	. "$top_srcdir/tests/sim/lib.sh"
	R=$BATS_TEST_TMPDIR/node
	sim_init "$R" pve1
	export PVE_GPU_BACKUP_ROOT=$R
	VZDUMP=$top_srcdir/tests/sim/vzdump
}

# hook_conf LINE...: /etc/pve-gpu-backup-hook.conf; short timeouts keep the suites fast.
hook_conf() {
	printf '%s\n' "$@" >"$R/etc/pve-gpu-backup-hook.conf"
}

# hook_runs: "<phase> [<mode> <vmid>] <rc>" for every hook run vzdump made.
hook_runs() { cat "$R/var/lib/sim/hook-runs"; }

# shellcheck shell=bash
# Shared setup of the hook's end-to-end suites (tests/bats/hook-*.bats): a
# simulated node (tests/sim) whose vzdump runs the built hook as its script.

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load
load helpers

HOOK=$(prog_path pve-gpu-backup-hook)
VZDUMP=$top_srcdir/tests/sim/vzdump

hook_setup() {
	. "$top_srcdir/tests/sim/lib.sh"
	R=$BATS_TEST_TMPDIR/node
	sim_init "$R" pve1
	export PVE_GPU_BACKUP_ROOT=$R
	printf 'script: %s\n' "$HOOK" >"$R/etc/vzdump.conf"
	sim_knob "$R" - ha-delay 1
	STATE=$R/var/lib/pve-gpu-backup-hook/parked
}

hook_teardown() {
	sim_teardown "$R"
}

# hook_conf LINE...: /etc/pve-gpu-backup-hook.conf; short timeouts keep the suites fast.
hook_conf() {
	printf '%s\n' "$@" >"$R/etc/pve-gpu-backup-hook.conf"
}

# nvidia_gpu BUS GROUP: VGA (.0) and audio (.1) of one card in one IOMMU group, on vfio-pci.
nvidia_gpu() {
	local bus=${1:-05} group=${2:-14}
	sim_add_pci "$R" "0000:$bus:00.0" 10de 2204 030000 "$group" vfio-pci nvidia
	sim_add_pci "$R" "0000:$bus:00.1" 10de 1aef 040300 "$group" vfio-pci snd_hda_intel
}

# The hook as an admin runs it (the root prefix is exported).
hook() { "$HOOK" "$@"; }

# hook_runs: every hook run the simulated vzdump made, "<argv> <exit code>".
hook_runs() { cat "$R/var/lib/sim/hook-runs"; }

# count_events PATTERN: how many sim events match the extended regex exactly.
count_events() { sim_events "$R" | grep -Ecx -- "$1" || true; }

# event_line PATTERN: line number of the first sim event matching, or nothing.
event_line() { sim_events "$R" | grep -Enx -m1 -- "$1" | cut -d: -f1; }

# record_calls: qm, pct and ha-manager under R log each call to var/lib/sim/calls
# (then do what they do), so a test can prove the hook ran none.
record_calls() {
	local t
	: >"$R/var/lib/sim/calls"
	for t in qm pct ha-manager; do
		rm -f "$R/usr/sbin/$t"
		printf '#!/bin/sh\necho "%s $*" >>"%s"\nexec "%s" "$@"\n' \
			"$t" "$R/var/lib/sim/calls" "$SIM_DIR/$t" >"$R/usr/sbin/$t"
		chmod 755 "$R/usr/sbin/$t"
	done
}
calls() { cat "$R/var/lib/sim/calls"; }

# parked_vmids: the vmids in the hook's state file, one a line.
parked_vmids() { [ -f "$STATE" ] && sed -n 's/^vmid=\([0-9]*\) .*/\1/p' "$STATE"; return 0; }

# wait_for CMD...: poll (at most ~10 s) until CMD succeeds.
wait_for() {
	local i
	for ((i = 0; i < 100; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

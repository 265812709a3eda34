# shellcheck shell=bash
# Shared setup of the hook's end-to-end suites (tests/bats/hook-*.bats): a
# simulated node (tests/sim) whose vzdump runs the hook under test as its script.

load simnode
load helpers

HOOK=$(prog_path pve-gpu-backup-hook)

hook_setup() {
	sim_node
	printf 'script: %s\n' "$HOOK" >"$R/etc/vzdump.conf"
	sim_knob "$R" - ha-delay 1
	STATE=$R/var/lib/pve-gpu-backup-hook/parked
}

hook_teardown() {
	sim_teardown "$R"
}

# nvidia_gpu BUS GROUP: VGA (.0) and audio (.1) of one card in one IOMMU group, on vfio-pci.
nvidia_gpu() {
	local bus=${1:-05} group=${2:-14}
	sim_add_pci "$R" "0000:$bus:00.0" 10de 2204 030000 "$group" vfio-pci nvidia
	sim_add_pci "$R" "0000:$bus:00.1" 10de 1aef 040300 "$group" vfio-pci snd_hda_intel
}

# win_and_gaming: the card at 05:00 (group 14) of stopped VM 102 (win) and of
# VM 104 (gaming), which holds it running.
win_and_gaming() {
	nvidia_gpu 05 14
	sim_add_vm "$R" 102 name=win hostpci0=0000:05:00,pcie=1
	sim_add_vm "$R" 104 name=gaming hostpci0=0000:05:00,pcie=1 running=1
}

# The hook as an admin runs it (the root prefix is exported).
hook() { "$HOOK" "$@"; }

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

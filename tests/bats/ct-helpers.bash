# shellcheck shell=bash
# shellcheck disable=SC2034,SC2154  # variables for the suites; the harness exports top_srcdir, top_builddir
# Shared by the container end-to-end suites (tests/bats/ct-*.bats): a simulated
# node (tests/sim) whose sysfs writes the fake kernel (fakesys.so) applies.

load simnode
load helpers

ct_setup() {
	sim_node
	FAKESYS=$top_builddir/tests/sim/fakesys.so
	HOOK=$(prog_path pve-gpu-backup-hook)
	PCT=$R/usr/sbin/pct QM=$R/usr/sbin/qm
	hook_conf "shutdown-timeout: 2"
}

ct_teardown() {
	sim_teardown "$R"
}

# Under the fake kernel: the hook's and the doubles' sysfs writes take effect.
kernel() { env LD_PRELOAD="$FAKESYS" "$@"; }

# vzdump VMID... [options]: the simulated job with our hook, under the fake kernel.
vzdump() { run kernel "$VZDUMP" "$@" --script "$HOOK"; }

hook() { run kernel "$HOOK" "$@"; }

# The Intel iGPU alone in IOMMU group 0, on i915 with its DRM nodes.
igpu() {
	sim_add_pci "$R" 0000:00:02.0 8086 a780 030000 0 "${1:-i915}" i915 "drm:card0 drm:renderD128"
}

# An NVIDIA card with its audio function in IOMMU group 14, on their host drivers.
nvidia_card() {
	sim_add_pci "$R" 0000:05:00.0 10de 2204 030000 14 "${1:-nvidia}" nvidia nvidia:0
	sim_add_pci "$R" 0000:05:00.1 10de 1aef 040300 14 "${2:-snd_hda_intel}" snd_hda_intel
}

driver_of() {
	local t
	t=$(readlink "$R/sys/bus/pci/devices/$1/driver") || { echo none; return 0; }
	echo "${t##*/}"
}

# binds: the driver moves the fake kernel and the doubles did, in order.
binds() { sim_events "$R" | grep -E '^(bind|unbind) ' || true; }

# parked: the hook's records of parked guests (comment lines left out).
parked() { grep -v '^#' "$R/var/lib/pve-gpu-backup-hook/parked" 2>/dev/null || true; }

# chain_do WHEN COMMAND: a chained hook (the hook's `chain:`) runs COMMAND (bash)
# after our hook's phase WHEN ("backup-end" or "backup-end:102"), e.g. to
# change the node between two phases of one vzdump job. Call hook_conf first.
chain_do() {
	local c=$R/usr/local/sbin/chain-hook
	if [ ! -x "$c" ]; then
		mkdir -p "${c%/*}"
		cat >"$c" <<-'EOS'
		#!/bin/bash
		f=$PVE_GPU_BACKUP_ROOT/var/lib/sim/chain-do
		[ -f "$f" ] || exit 0
		while read -r when cmd; do
			if [ "$when" = "$1" ] || [ "$when" = "$1:${3:-}" ]; then eval "$cmd" || exit 1; fi
		done <"$f"
		exit 0
		EOS
		chmod +x "$c"
		echo "chain: /usr/local/sbin/chain-hook" >>"$R/etc/pve-gpu-backup-hook.conf"
	fi
	printf '%s %s\n' "$1" "$2" >>"$R/var/lib/sim/chain-do"
}

# refuse BDF FILE...: the fake kernel fails writes of FILE (bind, unbind, ...) for BDF.
refuse() {
	local bdf=$1; shift
	echo "$*" >"$R/sys/bus/pci/devices/$bdf/.sim/refuse"
}

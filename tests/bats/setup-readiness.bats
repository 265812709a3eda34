#!/usr/bin/env bats
# The wizard's one-word readiness per GPU, from gpu-diag's checks of the card:
# umockdev recordings stand in for the cards (libudev), the fake node's sysfs
# under the root prefix for the wizard's GPU list and the IOMMU groups.

load setup-helpers

setup() {
	make_root
	printf 'mode: snapshot\n' >"$VZ"
	FIX=$top_srcdir/tests/fixtures/umockdev
	mkdir -p "$ROOT/proc/sys/kernel" "$ROOT/sys/class/iommu/dmar0" "$ROOT/sys/firmware/acpi/tables" \
		"$ROOT/etc/modprobe.d" "$ROOT/sys/module"
	echo "BOOT_IMAGE=/boot/vmlinuz-6.8.12-4-pve root=/dev/mapper/pve-root ro quiet" >"$ROOT/proc/cmdline"
	echo "6.8.12-4-pve" >"$ROOT/proc/sys/kernel/osrelease"
	# the RTX 3080 of the recordings, with its audio function, passed to a stopped VM
	fake_pci 0000:01:00.0 14 vfio-pci 0x10de 0x2206
	fake_pci 0000:01:00.1 14 vfio-pci 0x10de 0x1aef 0x040300
	fake_vm 101 <<-'EOF2'
	name: gaming
	hostpci0: 0000:01:00,pcie=1
	EOF2
}

need_umockdev() {
	command -v umockdev-run >/dev/null || skip "umockdev-run not installed"
}

variant() { # variant FIXTURE SED-EXPR: a modified copy of a recording
	sed -e "$2" "$FIX/$1" >"$BATS_TEST_TMPDIR/$1"
	echo "$BATS_TEST_TMPDIR/$1"
}

on_card() { # on_card RECORDING [ARGS...]: the wizard over a recording
	local f=$1; shift
	run umockdev-run -d "$f" -- "$SETUP" --no-color --dry-run "$@" </dev/null
}

@test "a card whose only finding is a warning: 'warnings', and the gpu-diag command for details" {
	need_umockdev
	on_card "$FIX/nvidia-rtx3080-vfio.umockdev"
	assert_success
	assert_output --partial "0000:01:00.0  [10de:2206]"
	assert_line "      readiness: warnings (details: gpu-diag 0000:01:00.0)"
	# the audio function is no GPU: no line of its own
	refute_output --partial "gpu-diag 0000:01:00.1"
	on_card "$FIX/nvidia-rtx3080-vfio.umockdev" --json
	assert_success
	echo "$output" | jq -e '.gpus == [.gpus[0]] and .gpus[0].readiness == "warnings" and .gpus[0].details == "gpu-diag 0000:01:00.0"'
	echo "$output" | jq -e '.gpus[0].driver == "vfio-pci" and .gpus[0].iommu_group == "14" and .gpus[0].guests[0].vmid == 101'
}

@test "the same card with D3cold off on every function: 'ready'" {
	need_umockdev
	f=$(variant nvidia-rtx3080-vfio.umockdev 's/^A: d3cold_allowed=1/A: d3cold_allowed=0/')
	on_card "$f"
	assert_success
	assert_line "      readiness: ready (details: gpu-diag 0000:01:00.0)"
}

@test "a problem of the audio function counts for the card" {
	need_umockdev
	# the audio function in D3cold without FLR: gpu-diag FAILs its power state
	f=$(variant nvidia-rtx3080-vfio.umockdev 's/^A: d3cold_allowed=1/A: d3cold_allowed=0/;/0000:01:00.1$/,/^$/s|^A: power_state=D0|A: power_state=D3cold|')
	on_card "$f"
	assert_success
	assert_line "      readiness: not ready (details: gpu-diag 0000:01:00.0)"
}

@test "a card fallen off the bus: 'not ready'" {
	need_umockdev
	rm "$ROOT/sys/kernel/iommu_groups/14/devices/0000:01:00.1" "$ROOT/sys/bus/pci/devices/0000:01:00.1"
	on_card "$FIX/nvidia-off-the-bus.umockdev"
	assert_success
	assert_line "      readiness: not ready (details: gpu-diag 0000:01:00.0)"
	on_card "$FIX/nvidia-off-the-bus.umockdev" --json
	echo "$output" | jq -e '.gpus[0].readiness == "not ready"'
}

@test "a GPU that libudev does not show as the same device: 'unknown'" {
	need_umockdev
	# the recording holds another card at this address
	rm -r "$ROOT/sys/devices/pci0000:00/0000:01:00.0"
	fake_pci 0000:01:00.0 14 vfio-pci 0x1002 0x731f
	on_card "$FIX/nvidia-rtx3080-vfio.umockdev"
	assert_success
	assert_line "      readiness: unknown (details: gpu-diag 0000:01:00.0)"
}

@test "not root, config capabilities hidden: 'unknown (needs root)', never a false 'not ready'" {
	need_umockdev
	command -v setpriv >/dev/null || skip "setpriv not installed"
	[ "$(id -u)" = 0 ] || skip "needs root to drop privileges"
	# a card whose bus reset the kernel quirks off (10de:2342): only FLR would do, and FLR is unreadable
	f=$(variant nvidia-rtx3080-vfio.umockdev '/^H: config=DE100622/s/^\(H: config=.\{128\}\).*/\1/;s/^H: config=DE100622/H: config=DE104223/;/0000:01:00.0$/,/^$/s/^A: device=0x2206/A: device=0x2342/')
	rm -r "$ROOT/sys/devices/pci0000:00/0000:01:00.0"
	fake_pci 0000:01:00.0 14 vfio-pci 0x10de 0x2342
	chmod -R a+rX "$BATS_TEST_TMPDIR"
	# nobody must reach the recording and the root through the run's directories
	d=$BATS_TEST_TMPDIR
	while [ "$d" != "$BATS_RUN_TMPDIR" ] && [ "$d" != / ]; do d=$(dirname "$d"); chmod a+x "$d"; done
	run setpriv --reuid=65534 --regid=65534 --clear-groups env TMPDIR=/tmp PVE_GPU_BACKUP_ROOT="$ROOT" \
		umockdev-run -d "$f" -- "$SETUP" --no-color --dry-run </dev/null
	[ "$status" -le 2 ] || skip "cannot run the build as nobody here ($output)"
	assert_line "      readiness: unknown (needs root) (details: gpu-diag 0000:01:00.0)"
}

# The display functions of a recording as "BDF VENDOR DEVICE DRIVER".
recorded_gpus() {
	awk '/^P: /{n=split($2, p, "/"); bdf=p[n]; drv="-"} /^L: driver=/{n=split($2, d, "/"); drv=d[n]}
		/^A: vendor=/{v=substr($2, 8)} /^A: device=/{dv=substr($2, 8)} /^A: class=0x03/{c=1}
		/^$/{if (c) print bdf, v, dv, drv; c=0} END{if (c) print bdf, v, dv, drv}' "$1"
}

@test "the readiness agrees with gpu-diag's own verdict of each card of every recording" {
	need_umockdev
	compared=0
	for rec in "$FIX"/*.umockdev; do
		rm -rf "$ROOT/sys/devices" "$ROOT/sys/bus/pci/devices" "$ROOT/sys/kernel/iommu_groups"
		mkdir -p "$ROOT/sys/bus/pci/devices"
		while read -r bdf vendor device driver; do
			fake_pci "$bdf" "${bdf%.*}" "${driver#-}" "$vendor" "$device"
		done < <(recorded_gpus "$rec")
		run umockdev-run -d "$rec" -- "$SETUP" --json --dry-run </dev/null
		assert_success
		wizard_json=$output
		while read -r bdf _; do
			run umockdev-run -d "$rec" -- "$(prog_path gpu-diag)" --json "$bdf"
			want=$(echo "$output" | jq -r '[.sections[] | select(.kind == "function") | .checks[].verdict] |
				if index("FAIL") then "not ready" elif index("WARN") then "warnings" elif index("UNKNOWN") then "unknown" else "ready" end')
			got=$(echo "$wizard_json" | jq -r --arg a "$bdf" '.gpus[] | select(.pci_addr == $a) | .readiness')
			[ "$got" = "$want" ] || fail "$(basename "$rec") $bdf: the wizard says '$got', gpu-diag '$want'"
			compared=$((compared + 1))
		done < <(recorded_gpus "$rec")
	done
	[ "$compared" -ge 7 ] || fail "only $compared GPUs compared"
}

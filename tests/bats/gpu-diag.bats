#!/usr/bin/env bats
# gpu-diag as an admin runs it: umockdev recordings stand in for the cards,
# a fake root holds IOMMU groups, /proc/cmdline and /sys/module.

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load
load helpers

setup() {
	GPU_DIAG=$(prog_path gpu-diag)
	FIX=$top_srcdir/tests/fixtures/umockdev
	ROOT=$BATS_TEST_TMPDIR/root
	mkdir -p "$ROOT/proc/sys/kernel" "$ROOT/sys/class/iommu/dmar0" "$ROOT/sys/firmware/acpi/tables" \
		"$ROOT/etc/modprobe.d" "$ROOT/sys/module"
	echo "BOOT_IMAGE=/boot/vmlinuz-6.8.12-4-pve root=/dev/mapper/pve-root ro quiet" >"$ROOT/proc/cmdline"
	echo "6.8.12-4-pve" >"$ROOT/proc/sys/kernel/osrelease"
	touch "$ROOT/sys/firmware/acpi/tables/DMAR"
	export PVE_GPU_BACKUP_ROOT=$ROOT
}

group() { # group NAME BDF...
	local g=$1; shift
	mkdir -p "$ROOT/sys/kernel/iommu_groups/$g/devices"
	for d in "$@"; do touch "$ROOT/sys/kernel/iommu_groups/$g/devices/$d"; done
}

need_umockdev() {
	command -v umockdev-run >/dev/null || skip "umockdev-run not installed"
}

diag() { # diag FIXTURE [ARGS...]: run gpu-diag over a recording
	local f=$1; shift
	run umockdev-run -d "$f" -- "$GPU_DIAG" --no-color "$@"
}

variant() { # variant FIXTURE SED-EXPR: a modified copy of a recording
	sed -e "$2" "$FIX/$1" >"$BATS_TEST_TMPDIR/$1"
	echo "$BATS_TEST_TMPDIR/$1"
}

@test "--help lists every option and exits 0" {
	run "$GPU_DIAG" --help
	assert_success
	for o in --guest --json --quiet --strict --no-color --help --version; do assert_output --partial -- "$o"; done
}

@test "the man page documents every --help option and the exit status" {
	man=$(sed 's/\\-/-/g' "$top_srcdir/man/gpu-diag.8")
	run "$GPU_DIAG" --help
	opts=$(echo "$output" | grep -o -- '--[a-z][a-z-]*' | sort -u)
	[ -n "$opts" ]
	for o in $opts; do
		echo "$man" | grep -q -- "$o" || fail "man page lacks $o"
	done
	echo "$man" | grep -q '^.SH EXIT STATUS'
}

@test "a failed write of standard output is an error" {
	[ -w /dev/full ] || skip "no /dev/full"
	run bash -c '"$1" --version >/dev/full' _ "$GPU_DIAG"
	assert_failure 3
	assert_output --partial "gpu-diag: cannot write to standard output"
}

@test "--version prints the package version" {
	run "$GPU_DIAG" --version
	assert_success
	assert_output --regexp '^gpu-diag [0-9]+\.[0-9]+'
}

@test "a bad option, VMID or PCI id says how to get help and exits 2" {
	run "$GPU_DIAG" --frobnicate
	assert_failure 2
	assert_output --partial "Try 'gpu-diag --help' for more information."
	run "$GPU_DIAG" --guest 12x
	assert_failure 2
	assert_output --partial "invalid VMID '12x'"
	run "$GPU_DIAG" 01:00.9
	assert_failure 2
	assert_output --partial "invalid PCI device '01:00.9'"
}

@test "on this machine it says clearly whether there is a GPU and never crashes" {
	unset PVE_GPU_BACKUP_ROOT
	run "$GPU_DIAG" --no-color
	[ "$status" -le 3 ] || fail "exit status $status"
	if ! grep -qs '^0x03' /sys/bus/pci/devices/*/class; then
		assert_failure 3
		assert_output --partial "no GPU found"
	fi
	assert_output --partial "host: Checking if IOMMU is enabled"
	run "$GPU_DIAG" --json
	[ "$status" -le 3 ]
	echo "$output" | jq -e '.exit_status == '"$status"
}

@test "NVIDIA card with its audio function on vfio-pci: the whole card can be reset" {
	need_umockdev
	group 14 0000:01:00.0 0000:01:00.1
	diag "$FIX/nvidia-rtx3080-vfio.umockdev"
	assert_success
	assert_line --regexp '^0000:01:00\.0: Checking the reset method \.+ PASS \(bus reset of the whole card'
	assert_line --regexp '^0000:01:00\.0: Checking the other functions of the card \.+ PASS'
	assert_line --regexp '^0000:01:00\.0: Checking the IOMMU group \.+ PASS \(group 14, only the card\)'
	assert_line --regexp '^0000:01:00\.1: Checking the driver \.+ PASS \(vfio-pci\)'
	assert_line --regexp '^host: Checking if IOMMU is enabled \.+ PASS'
	# no FLR and d3cold_allowed=1: a warning with the udev rule
	assert_line --regexp 'Checking the power state \.+ WARN .*ATTR\{d3cold_allowed\}="0"'
}

@test "--strict turns warnings into exit 1, -q shows problems only" {
	need_umockdev
	group 14 0000:01:00.0 0000:01:00.1
	diag "$FIX/nvidia-rtx3080-vfio.umockdev" --strict
	assert_failure 1
	diag "$FIX/nvidia-rtx3080-vfio.umockdev" -q
	assert_success
	assert_line --regexp 'Checking the power state \.+ WARN'
	refute_output --partial "PASS"
}

@test "--json carries every verdict with the evidence libpci read from config space" {
	need_umockdev
	group 14 0000:01:00.0 0000:01:00.1
	diag "$FIX/nvidia-rtx3080-vfio.umockdev" --json
	assert_success
	echo "$output" | jq -e '.exit_status == 0 and .summary.fail == 0 and .summary.warn == 1'
	reset=$(echo "$output" | jq -r '.sections[] | select(.label == "0000:01:00.0") | .checks[] | select(.check == "reset")')
	echo "$reset" | jq -e '.verdict == "PASS" and .hint == null'
	# flr=no and pm_no_soft_reset=yes come from the H: config bytes through libpci's sysfs back-end
	echo "$reset" | jq -e '.evidence | contains("flr=no") and contains("pm_no_soft_reset=yes") and contains("reset_method=bus")'
	echo "$output" | jq -e '[.sections[] | select(.kind == "function")] | length == 2'
}

@test "audio function left on snd_hda_intel: siblings FAIL, stale bus entry WARN" {
	need_umockdev
	group 14 0000:01:00.0 0000:01:00.1
	f=$(variant nvidia-rtx3080-vfio.umockdev '/0000:01:00.1$/,/^$/s|drivers/vfio-pci|drivers/snd_hda_intel|')
	diag "$f"
	assert_failure 2
	assert_line --regexp 'Checking the other functions of the card \.+ FAIL \(on host drivers: 0000:01:00\.1 \(snd_hda_intel\)'
	assert_line --regexp 'Checking the reset method \.+ WARN \(stale .bus. in reset_method'
}

@test "an unbound audio function counts for the hot reset: Proxmox binds it at VM start" {
	need_umockdev
	group 14 0000:01:00.0 0000:01:00.1
	f=$(variant nvidia-rtx3080-vfio.umockdev '/0000:01:00.1$/,/^$/{/DRIVER=\|L: driver=/d}')
	diag "$f"
	assert_success
	assert_line --regexp '^0000:01:00\.0: Checking the reset method \.+ PASS \(bus reset of the whole card'
	assert_line --regexp '^0000:01:00\.1: Checking the driver \.+ INFO \(no driver \(Proxmox binds vfio-pci at VM start\)\)'
}

@test "config space beyond 64 bytes unreadable: UNKNOWN (needs root), never a false FAIL" {
	need_umockdev
	group 14 0000:01:00.0 0000:01:00.1
	f=$(variant nvidia-rtx3080-vfio.umockdev '/0000:01:00.1$/,/^$/s|drivers/vfio-pci|drivers/snd_hda_intel|;/^H: config=DE100622/s/^\(H: config=.\{128\}\).*/\1/')
	diag "$f"
	assert_line --regexp 'Checking the reset method \.+ UNKNOWN \(config capabilities unreadable \(needs root\)'
	refute_line --regexp 'Checking the reset method \.+ FAIL'
}

@test "not root: the root check warns" {
	need_umockdev
	command -v setpriv >/dev/null || skip "setpriv not installed"
	[ "$(id -u)" = 0 ] || skip "needs root to drop privileges"
	chmod -R a+rX "$ROOT" "$BATS_TEST_TMPDIR"
	run setpriv --reuid=65534 --regid=65534 --clear-groups env TMPDIR=/tmp PVE_GPU_BACKUP_ROOT="$ROOT" \
		umockdev-run -d "$FIX/nvidia-rtx3080-vfio.umockdev" -- "$GPU_DIAG" --no-color
	[ "$status" -le 2 ] || skip "cannot run the build as nobody here ($output)"
	assert_line --regexp '^host: Checking for root privileges \.+ WARN \(run gpu-diag as root'
}

@test "AMD Navi 10 without vendor-reset FAILs; vendor-reset and the udev rule make it PASS" {
	need_umockdev
	group 20 0000:0c:00.0 0000:0c:00.1
	diag "$FIX/amd-navi10-no-vendor-reset.umockdev"
	assert_failure 2
	assert_line --regexp 'Checking for the AMD reset bug \.+ FAIL \(Navi 10 without vendor-reset: .*/etc/modules'
	mkdir -p "$ROOT/sys/module/vendor_reset"
	diag "$FIX/amd-navi10-no-vendor-reset.umockdev"
	assert_failure 2
	assert_line --regexp 'Checking for the AMD reset bug \.+ FAIL \(Navi 10, vendor-reset loaded but not used: .*device_specific'
	f=$(variant amd-navi10-no-vendor-reset.umockdev '/0000:0c:00.0$/,/^$/s|^A: reset_method=bus|A: reset_method=device_specific bus|')
	diag "$f"
	assert_success
	assert_line --regexp 'Checking for the AMD reset bug \.+ PASS \(Navi 10, vendor-reset active\)'
}

@test "Intel iGPU with SR-IOV: the parent stays on i915, its VFs are judged on their own" {
	need_umockdev
	group 0 0000:00:02.0
	group 1 0000:00:02.1
	group 2 0000:00:02.2
	diag "$FIX/intel-igpu-sriov.umockdev"
	assert_success
	assert_line --regexp '^0000:00:02\.0: Checking the driver \.+ PASS \(i915 \(SR-IOV parent: guests get its 2 VFs\)\)'
	assert_line --regexp '^0000:00:02\.0: Checking SR-IOV \.+ PASS \(2 of 7 VFs enabled\)'
	assert_line --regexp '^0000:00:02\.1: Checking the SR-IOV virtual function \.+ PASS \(VF of 0000:00:02\.0\)'
	assert_line --regexp '^0000:00:02\.2: Checking the reset method \.+ PASS \(flr\)'
	# a VF's vendor ID reads ffff by design: that is not "fell off the bus"
	assert_line --regexp '^0000:00:02\.1: Checking if it answers on the bus \.+ PASS'
	diag "$FIX/intel-igpu-sriov.umockdev" --json
	echo "$output" | jq -e '.sections[] | select(.label == "0000:00:02.0") | .checks[] | select(.check == "reset") | .evidence | contains("flr=yes")'
}

@test "a card in D3cold without FLR FAILs the power check with the udev rule" {
	need_umockdev
	group 14 0000:01:00.0
	diag "$FIX/nvidia-d3cold.umockdev"
	assert_failure 2
	assert_line --regexp 'Checking the power state \.+ FAIL \(D3cold: .*no FLR.*ATTR\{d3cold_allowed\}="0"'
	assert_line --regexp 'Checking the PCIe link \.+ WARN \(degraded: 2\.5 GT/s PCIe x8 of 16\.0 GT/s PCIe x16'
	assert_line --regexp 'Checking the driver \.+ WARN \(nvidia: bound to host driver nvidia'
	# without the sysfs link attributes, LnkCap/LnkSta come from the recorded config bytes
	f=$(variant nvidia-d3cold.umockdev '/_link_/d')
	diag "$f"
	assert_line --regexp 'Checking the PCIe link \.+ PASS \(8\.0 GT/s PCIe x16\)'
	echo "options vfio-pci ids=10de:1f08,10de:10f9 disable_vga=1" >"$ROOT/etc/modprobe.d/vfio.conf"
	diag "$FIX/nvidia-d3cold.umockdev"
	assert_line --regexp "Checking the driver \.+ WARN \(nvidia: vfio-pci ids= lists 10de:1f08 but nvidia bound first: add 'softdep nvidia pre: vfio-pci'"
}

@test "a card fallen off the bus (config all ff) FAILs alive and reset" {
	need_umockdev
	group 14 0000:01:00.0
	diag "$FIX/nvidia-off-the-bus.umockdev"
	assert_failure 2
	assert_line --regexp 'Checking if it answers on the bus \.+ FAIL \(fell off the bus'
	assert_line --regexp 'Checking the reset method \.+ FAIL'
}

@test "an IOMMU group shared with a host device FAILs and names it" {
	need_umockdev
	group 14 0000:01:00.0 0000:01:00.1 0000:00:01.0 0000:02:00.0
	diag "$FIX/nvidia-rtx3080-vfio.umockdev"
	assert_failure 2
	assert_line --regexp '^0000:01:00\.0: Checking the IOMMU group \.+ FAIL \(group 14 shared with 0000:02:00\.0:'
}

@test "host: IOMMU off in firmware, iommu=off, ACS override, unsafe interrupts" {
	need_umockdev
	rm "$ROOT/sys/firmware/acpi/tables/DMAR"
	touch "$ROOT/sys/firmware/acpi/tables/APIC"
	rm -r "$ROOT/sys/class/iommu/dmar0"
	diag "$FIX/nvidia-rtx3080-vfio.umockdev"
	assert_failure 2
	assert_line --regexp '^host: Checking if IOMMU is enabled \.+ FAIL \(off in firmware .*VT-d'
	echo "BOOT_IMAGE=/vmlinuz iommu=off pcie_acs_override=downstream,multifunction vfio_iommu_type1.allow_unsafe_interrupts=1" >"$ROOT/proc/cmdline"
	diag "$FIX/nvidia-rtx3080-vfio.umockdev"
	assert_line --regexp '^host: Checking if IOMMU is enabled \.+ FAIL \(disabled on the kernel command line'
	assert_line --regexp '^host: Checking for the ACS override \.+ WARN \(pcie_acs_override=downstream,multifunction'
	assert_line --regexp '^host: Checking for unsafe interrupt remapping \.+ WARN'
	echo "quiet" >"$ROOT/proc/cmdline"
	echo "options vfio_iommu_type1 allow_unsafe_interrupts=1" >"$ROOT/etc/modprobe.d/iommu_unsafe_interrupts.conf"
	diag "$FIX/nvidia-rtx3080-vfio.umockdev"
	assert_line --regexp '^host: Checking for unsafe interrupt remapping \.+ WARN'
}

@test "named devices: a slot id picks its GPU, an absent device exits 3" {
	need_umockdev
	group 14 0000:01:00.0 0000:01:00.1
	diag "$FIX/nvidia-rtx3080-vfio.umockdev" 01:00
	assert_success
	assert_line --regexp '^0000:01:00\.0: Checking the reset method'
	diag "$FIX/nvidia-rtx3080-vfio.umockdev" 0000:05:00.0
	assert_failure 3
	assert_output --partial "gpu-diag: no PCI device 0000:05:00.0 on this host"
}

@test "Proxmox: guests of the card, its holder, and a stopped VM whose card resets" {
	need_umockdev
	load fakenode
	fake_node pve1
	group 14 0000:01:00.0 0000:01:00.1
	printf 'name: win\nmemory: 8192\nhostpci0: 0000:01:00,pcie=1,x-vga=1\n' | fake_vm 101
	printf 'name: linux\nhostpci0: 01:00.0\nhostpci1: 01:00.1\n' | fake_vm 104
	printf 'name: nogpu\nmemory: 1024\n' | fake_vm 105
	fake_running_vm 104 4242
	fake_reservation "0000:01:00.0 104 pid:4242"
	diag "$FIX/nvidia-rtx3080-vfio.umockdev"
	assert_success
	assert_line --regexp '^0000:01:00\.0: Checking the guests using it \.+ WARN \(VM 101 \(stopped\), VM 104 \(running\): several guests'
	assert_line --regexp '^0000:01:00\.0: Checking who holds it now \.+ INFO \(VM 104 \(reservation\)\)'
	assert_line --regexp '^0000:01:00\.0: Checking the backup of stopped VM 101 \.+ PASS'
	assert_line --regexp '^0000:01:00\.0: Checking that VM 101 takes the whole card \.+ PASS'
	assert_line --regexp '^0000:01:00\.0: Checking that VM 104 takes the whole card \.+ PASS'
	refute_output --partial "stopped VM 104"
	printf 'hostpci0: 01:00.0\n' | fake_vm 104
	diag "$FIX/nvidia-rtx3080-vfio.umockdev"
	assert_failure 2
	assert_line --regexp "^0000:01:00\.0: Checking that VM 104 takes the whole card \.+ FAIL \(leaves out 0000:01:00\.1: .*hostpciN: 0000:01:00"
	refute_output --partial "no Proxmox VE node"
}

@test "Proxmox: a stopped VM whose card has no sure reset FAILs" {
	need_umockdev
	load fakenode
	fake_node pve1
	group 14 0000:01:00.0 0000:01:00.1
	printf 'hostpci0: 0000:01:00.0,pcie=1\n' | fake_vm 101
	f=$(variant nvidia-rtx3080-vfio.umockdev '/0000:01:00.1$/,/^$/s|drivers/vfio-pci|drivers/snd_hda_intel|')
	diag "$f" --json
	assert_failure 2
	echo "$output" | jq -e '.sections[] | select(.kind == "guests") | .checks[] | select(.check == "backup_101") |
		.verdict == "FAIL" and (.hint | contains("may hang or leave the card dead"))'
}

@test "--guest checks the cards of one guest; an unknown or GPU-less guest exits 3" {
	need_umockdev
	load fakenode
	fake_node pve1
	group 20 0000:0c:00.0 0000:0c:00.1
	printf 'hostpci0: 0c:00,pcie=1\n' | fake_vm 120
	printf 'memory: 1024\n' | fake_vm 121
	diag "$FIX/amd-navi10-no-vendor-reset.umockdev" --guest 120
	assert_failure 2
	assert_line --regexp '^0000:0c:00\.0: Checking for the AMD reset bug \.+ FAIL'
	assert_line --regexp '^0000:0c:00\.0: Checking the backup of stopped VM 120 \.+ PASS'
	printf 'hostpci0: 0000:42:00.0\n' | fake_vm 122
	diag "$FIX/amd-navi10-no-vendor-reset.umockdev" --guest 122
	assert_failure 3
	assert_output --partial "gpu-diag: none of the PCI devices of guest 122 is on this host"
	diag "$FIX/amd-navi10-no-vendor-reset.umockdev" --guest 999
	assert_failure 3
	assert_output --partial "gpu-diag: no guest 999 on this node"
	diag "$FIX/amd-navi10-no-vendor-reset.umockdev" --guest 121
	assert_failure 3
	assert_output --partial "gpu-diag: guest 121 uses no PCI device"
	rm -r "$ROOT/etc/pve"
	diag "$FIX/amd-navi10-no-vendor-reset.umockdev" --guest 120
	assert_failure 3
	assert_output --partial "no Proxmox VE node here"
}

@test "colour only on a terminal, never with --no-color or NO_COLOR" {
	need_umockdev
	command -v script >/dev/null || skip "script(1) not installed"
	group 14 0000:01:00.0 0000:01:00.1
	run script -qec "umockdev-run -d '$FIX/nvidia-rtx3080-vfio.umockdev' -- '$GPU_DIAG'" /dev/null
	assert_success
	assert_output --partial $'\033[32mPASS\033[0m'
	run script -qec "umockdev-run -d '$FIX/nvidia-rtx3080-vfio.umockdev' -- '$GPU_DIAG' --no-color" /dev/null
	refute_output --partial $'\033['
	run script -qec "NO_COLOR=1 umockdev-run -d '$FIX/nvidia-rtx3080-vfio.umockdev' -- '$GPU_DIAG'" /dev/null
	refute_output --partial $'\033['
	run umockdev-run -d "$FIX/nvidia-rtx3080-vfio.umockdev" -- "$GPU_DIAG"
	refute_output --partial $'\033['
}

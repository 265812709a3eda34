#!/usr/bin/env bats
# src/rebind.c on the fake kernel: cards go back from vfio-pci to their host drivers.

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load

setup() {
	R=$BATS_TEST_TMPDIR/root
	export PVE_GPU_BACKUP_ROOT=$R
	. "$top_srcdir/tests/sim/fakepci.sh"
	D=$R/sys/devices/pci0000:00
}

# Run the library driver under the fake kernel.
rebind() {
	run env LD_PRELOAD="$top_builddir/tests/sim/fakesys.so" "$top_builddir/tests/sim/rebind-run" "$@"
}

driver_of() {
	basename "$(readlink "$D/$1/driver")"
}

igpu_on_vfio() {
	fakepci_add "$R" 0000:00:02.0 0x8086 0x3e92 0x030000 1 i915 i915 "drm:card0 drm:renderD128"
	fakepci_to_vfio "$R" 0000:00:02.0
}

nvidia_on_vfio() {
	fakepci_add "$R" 0000:05:00.0 0x10de 0x2204 0x030000 2 nvidia nvidia "nvidia:0"
	fakepci_add "$R" 0000:05:00.1 0x10de 0x1aef 0x040300 2 snd_hda_intel snd_hda_intel ""
	fakepci_to_vfio "$R" 0000:05:00.0
	fakepci_to_vfio "$R" 0000:05:00.1
}

# Any write to these command files for the device would fail.
refuse_all_writes() {
	echo "bind unbind new_id remove_id drivers_probe driver_override" >"$D/$1/.sim/refuse"
}

@test "Intel iGPU on vfio-pci goes back to i915 and /dev/dri/renderD128 reappears" {
	igpu_on_vfio
	[ ! -e "$R/dev/dri/renderD128" ]
	rebind group 0000:00:02.0
	assert_success
	assert_output "0000:00:02.0 rebound vfio-pci -> i915"
	[ "$(driver_of 0000:00:02.0)" = i915 ]
	[ -e "$R/dev/dri/renderD128" ]
	[ -e "$R/dev/dri/card0" ]
	# Proxmox's dynamic id is gone, so a later probe does not hand it back to vfio-pci.
	! grep -q '8086 3e92' "$R/sys/bus/pci/drivers/vfio-pci/.sim_ids"
	[ "$(cat "$D/0000:00:02.0/driver_override")" = "(null)" ]
}

@test "a named driver is bound directly and driver_override is cleared afterwards" {
	igpu_on_vfio
	rebind group 0000:00:02.0 i915
	assert_success
	assert_output "0000:00:02.0 rebound vfio-pci -> i915"
	[ "$(cat "$D/0000:00:02.0/driver_override")" = "(null)" ]
	rebind wait 1000 /dev/dri/renderD128 /dev/dri/card0
	assert_success
}

@test "NVIDIA card and its audio function both return to their own drivers" {
	nvidia_on_vfio
	rebind group 05:00
	assert_success
	assert_output "0000:05:00.0 rebound vfio-pci -> nvidia
0000:05:00.1 rebound vfio-pci -> snd_hda_intel"
	[ "$(driver_of 0000:05:00.0)" = nvidia ]
	[ "$(driver_of 0000:05:00.1)" = snd_hda_intel ]
	[ -e "$R/dev/nvidia0" ]
	grep -q 'Bus Location:.*0000:05:00.0' "$R/proc/driver/nvidia/gpus/0000:05:00.0/information"
	[ ! -s "$R/sys/bus/pci/drivers/vfio-pci/.sim_ids" ]
}

@test "naming one function brings its whole IOMMU group back" {
	nvidia_on_vfio
	rebind group 0000:05:00.0 nvidia
	assert_success
	[ "$(driver_of 0000:05:00.0)" = nvidia ]
	[ "$(driver_of 0000:05:00.1)" = snd_hda_intel ]
}

@test "the hook's recorded drivers are the plan: listed members move, the others stay" {
	nvidia_on_vfio
	rebind -t 0000:05:00.0=nvidia group 0000:05:00.0
	assert_success
	assert_output "0000:05:00.0 rebound vfio-pci -> nvidia
0000:05:00.1 kept vfio-pci -> vfio-pci"
	[ "$(driver_of 0000:05:00.1)" = vfio-pci ]
}

@test "a refused bind is reported with the device and the file, and the sibling still goes back" {
	nvidia_on_vfio
	echo bind >"$D/0000:05:00.0/.sim/refuse"
	rebind group 0000:05:00.0 nvidia
	assert_failure
	assert_line "0000:05:00.0: cannot write '/sys/bus/pci/drivers/nvidia/bind': Operation not permitted"
	assert_line "0000:05:00.0 failed vfio-pci -> -"
	assert_line "0000:05:00.1 rebound vfio-pci -> snd_hda_intel"
	assert_line "result Operation not permitted"
	# The pin is not left behind: Proxmox's next vfio-pci bind must still work.
	[ "$(cat "$D/0000:05:00.0/driver_override")" = "(null)" ]
	[ ! -e "$R/dev/nvidia0" ]
	# Once the cause is gone, a second run (recover) finishes the job from where it stopped.
	rm "$D/0000:05:00.0/.sim/refuse"
	rebind group 0000:05:00.0 nvidia
	assert_success
	assert_output "0000:05:00.0 rebound - -> nvidia
0000:05:00.1 already snd_hda_intel -> snd_hda_intel"
	[ -e "$R/dev/nvidia0" ]
}

@test "a refused unbind leaves the card on vfio-pci and says which file" {
	igpu_on_vfio
	echo unbind >"$D/0000:00:02.0/.sim/refuse"
	rebind group 0000:00:02.0
	assert_failure
	assert_line "0000:00:02.0: cannot write '/sys/bus/pci/drivers/vfio-pci/unbind': Operation not permitted"
	[ "$(driver_of 0000:00:02.0)" = vfio-pci ]
}

@test "a refused driver_override write stops before anything is unbound" {
	igpu_on_vfio
	echo driver_override >"$D/0000:00:02.0/.sim/refuse"
	rebind group 0000:00:02.0 i915
	assert_failure
	assert_line "0000:00:02.0: cannot write '/sys/bus/pci/devices/0000:00:02.0/driver_override': Operation not permitted"
	[ "$(driver_of 0000:00:02.0)" = vfio-pci ]
}

@test "a group a running VM holds is never unbound, not even the sibling" {
	nvidia_on_vfio
	refuse_all_writes 0000:05:00.0
	refuse_all_writes 0000:05:00.1
	rebind -H 0000:05:00.0=104 group 0000:05:00.1
	assert_failure
	assert_line "0000:05:00.0: left on vfio-pci: VM 104 holds 0000:05:00.0"
	assert_line "0000:05:00.1: left on vfio-pci: VM 104 holds 0000:05:00.0"
	assert_line "result Device or resource busy"
	[ "$(driver_of 0000:05:00.0)" = vfio-pci ]
	[ "$(driver_of 0000:05:00.1)" = vfio-pci ]
	grep -q '10de 2204' "$R/sys/bus/pci/drivers/vfio-pci/.sim_ids"
}

@test "a held function is refused by the one-function call too" {
	igpu_on_vfio
	refuse_all_writes 0000:00:02.0
	rebind -H 00:02=101 function 0000:00:02.0 i915
	assert_failure
	assert_output --partial "0000:00:02.0: left on vfio-pci: VM 101 holds 0000:00:02.0"
	[ "$(driver_of 0000:00:02.0)" = vfio-pci ]
}

@test "a device already on its host driver is left alone: nothing is written" {
	fakepci_add "$R" 0000:00:02.0 0x8086 0x3e92 0x030000 1 i915 i915 "drm:card0 drm:renderD128"
	refuse_all_writes 0000:00:02.0
	rebind group 0000:00:02.0
	assert_success
	assert_output "0000:00:02.0 already i915 -> i915"
	rebind group 0000:00:02.0 i915
	assert_success
	assert_output "0000:00:02.0 already i915 -> i915"
	[ -e "$R/dev/dri/renderD128" ]
}

@test "a device on some other driver, and a bridge in the group, are left alone" {
	fakepci_add "$R" 0000:00:1c.0 0x8086 0xa110 0x060400 3 pcieport pcieport ""
	fakepci_add "$R" 0000:01:00.0 0x1002 0x73bf 0x030000 3 pci-stub amdgpu "drm:card1"
	refuse_all_writes 0000:00:1c.0
	refuse_all_writes 0000:01:00.0
	rebind group 0000:01:00.0 amdgpu
	assert_success
	assert_output "0000:00:1c.0 kept pcieport -> pcieport
0000:01:00.0 kept pci-stub -> pci-stub"
}

@test "an unbound function is probed onto its host driver" {
	fakepci_add "$R" 0000:00:02.0 0x8086 0x3e92 0x030000 1 "" i915 "drm:renderD128"
	rebind group 0000:00:02.0
	assert_success
	assert_output "0000:00:02.0 rebound - -> i915"
	[ -e "$R/dev/dri/renderD128" ]
}

@test "when no driver takes the function, the bounded wait says so" {
	fakepci_add "$R" 0000:00:02.0 0x8086 0x3e92 0x030000 1 "" "" ""
	fakepci_to_vfio "$R" 0000:00:02.0
	rebind -T 300 group 0000:00:02.0
	assert_failure
	assert_line --regexp "^0000:00:02.0: not on a host driver within [0-9]+ ms \(now on no driver\)$"
}

@test "an absent function is an error naming the sysfs path, and nothing is written" {
	igpu_on_vfio
	rebind group 0000:09:00.0
	assert_failure
	assert_line "0000:09:00.0: cannot read '/sys/bus/pci/devices/0000:09:00.0': No such device"
	[ "$(driver_of 0000:00:02.0)" = vfio-pci ]
}

@test "waiting for device nodes is bounded and names one that never came" {
	igpu_on_vfio
	rebind wait 300 /dev/dri/renderD128
	assert_failure
	assert_output "missing /dev/dri/renderD128"
	: >"$R/dev/nvidia0"
	rebind wait 300 /dev/nvidia0
	assert_success
}

@test "the group query lists every member with its driver now" {
	nvidia_on_vfio
	fakepci_add "$R" 0000:00:1c.0 0x8086 0xa110 0x060400 2 pcieport pcieport ""
	rebind query 0000:05:00.1
	assert_success
	assert_output "group 2
0000:00:1c.0 pcieport bridge
0000:05:00.0 vfio-pci
0000:05:00.1 vfio-pci"
}

@test "holders come from the node: a running VM's reservation keeps the group, a dead one's does not" {
	. "$top_srcdir/tests/bats/fakenode.bash"
	fake_node pve
	nvidia_on_vfio
	printf 'hostpci0: 0000:05:00.0\n' | fake_vm 104
	fake_running_vm 104 4242
	fake_reservation "0000:05:00.0 104 pid:4242"
	rebind -N group 05:00
	assert_failure
	assert_line "0000:05:00.1: left on vfio-pci: VM 104 holds 0000:05:00.0"
	[ "$(driver_of 0000:05:00.0)" = vfio-pci ]
	rm "$R/run/qemu-server/104.pid"
	rebind -N group 05:00
	assert_success
	[ "$(driver_of 0000:05:00.0)" = nvidia ]
}

@test "a running container on the host driver is no holder for the rebind" {
	. "$top_srcdir/tests/bats/fakenode.bash"
	fake_node pve
	igpu_on_vfio
	printf 'dev0: /dev/dri/renderD128\n' | fake_ct 201
	fake_running_ct 201
	rebind -N group 0000:00:02.0
	assert_success
	assert_output "0000:00:02.0 rebound vfio-pci -> i915"
}

@test "with the lock, the rebind gives up when qemu-server's PCI lock stays taken" {
	igpu_on_vfio
	mkdir -p "$R/run/qemu-server"
	lock=$R/run/qemu-server/pci-id-reservations.lock
	# The sleeping process itself holds the lock, so killing it frees it.
	(exec 9>"$lock" && flock 9 && exec sleep 30) >/dev/null 2>&1 3>&- &
	holder=$!
	while flock -n "$lock" true; do sleep 0.05; done
	rebind -l 300 group 0000:00:02.0
	kill "$holder"
	wait "$holder" || true
	assert_failure
	assert_line "result Resource temporarily unavailable"
	[ "$(driver_of 0000:00:02.0)" = vfio-pci ]
	rebind -l 1000 group 0000:00:02.0
	assert_success
	[ "$(driver_of 0000:00:02.0)" = i915 ]
}

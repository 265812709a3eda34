#!/usr/bin/env bats
# Issue 4, end to end: `pve-gpu-backup-hook rebind <pci-id>` by hand, after a
# VM used a card that containers share (nothing in Proxmox gives it back).

load ct-helpers

setup() {
	ct_setup
	igpu
	nvidia_card
	sim_add_ct "$R" 201 hostname=plex dev0=/dev/dri/renderD128
	sim_add_ct "$R" 211 hostname=ollama "lxc.mount.entry=/dev/nvidia0 dev/nvidia0 none bind,create=file"
	sim_add_vm "$R" 102 name=win hostpci0=0000:00:02.0
	sim_add_vm "$R" 104 name=gaming hostpci0=0000:05:00.0
}

teardown() {
	ct_teardown
}

# VM VMID ran with its card and stopped: the card stays on vfio-pci.
vm_ran() {
	kernel "$QM" start "$1" && kernel "$QM" stop "$1"
}

@test "rebind: the iGPU goes back to i915 and the container starts again" {
	vm_ran 102
	[ "$(driver_of 0000:00:02.0)" = vfio-pci ]
	run kernel "$PCT" start 201
	assert_failure 255
	assert_output "Device /dev/dri/renderD128 does not exist"
	hook rebind 0000:00:02.0
	assert_success
	assert_output "0000:00:02.0: vfio-pci -> i915"
	[ "$(driver_of 0000:00:02.0)" = i915 ] && [ -e "$R/dev/dri/renderD128" ]
	run kernel "$PCT" start 201
	assert_success
	# again: nothing to do
	hook rebind 00:02.0
	assert_success
	assert_output "0000:00:02.0: already on i915"
}

@test "rebind of a slot: each function of the group goes to its own host driver" {
	vm_ran 104
	hook rebind 05:00
	assert_success
	assert_output "0000:05:00.0: vfio-pci -> nvidia
0000:05:00.1: vfio-pci -> snd_hda_intel"
	[ "$(driver_of 0000:05:00.0)" = nvidia ] && [ "$(driver_of 0000:05:00.1)" = snd_hda_intel ]
	run kernel "$PCT" start 211
	assert_success
	grep -qx /dev/nvidia0 "$R/var/lib/sim/ct-211.devices"
}

@test "rebind --driver names the driver of the function asked for" {
	vm_ran 102
	hook rebind --driver i915 0000:00:02.0
	assert_success
	assert_output "0000:00:02.0: vfio-pci -> i915"
	[ "$(cat "$R/sys/bus/pci/devices/0000:00:02.0/driver_override")" = "(null)" ]
}

@test "rebind refuses while a running VM holds the group, and writes nothing" {
	run kernel "$QM" start 104
	assert_success
	: >"$R/var/lib/sim/events"
	# the VM lists only the VGA function; the audio function is in its group
	hook rebind 0000:05:00.1
	assert_failure 1
	assert_line "pve-gpu-backup-hook: 0000:05:00.0: left on vfio-pci: VM 104 holds 0000:05:00.0"
	assert_line "pve-gpu-backup-hook: 0000:05:00.1: left on vfio-pci: VM 104 holds 0000:05:00.0"
	[ "$(driver_of 0000:05:00.0)" = vfio-pci ] && [ "$(driver_of 0000:05:00.1)" = vfio-pci ]
	run binds
	assert_output ""
	[ "$(sim_vm_state "$R" 104)" = running ]
}

@test "rebind: a bad id is a usage error, an absent device an error" {
	hook rebind 0000:05:00.9
	assert_failure 2
	assert_line "pve-gpu-backup-hook: invalid PCI id '0000:05:00.9' (expected e.g. 0000:05:00.0 or 05:00)"
	assert_line "Try 'pve-gpu-backup-hook --help' for more information."
	hook rebind
	assert_failure 2
	hook rebind --driver ../vfio 0000:05:00.0
	assert_failure 2
	hook rebind 0000:09:00.0
	assert_failure 1
	assert_output "pve-gpu-backup-hook: 0000:09:00.0: cannot read '/sys/bus/pci/devices/0000:09:00.0': No such device"
}

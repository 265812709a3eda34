#!/usr/bin/env bats
# Issue 4: `status` shows containers with their device nodes, the card behind
# each and that card's driver now, also while they are parked.

load ct-helpers

setup() {
	ct_setup
	igpu
	nvidia_card
	sim_add_ct "$R" 201 hostname=plex dev0=/dev/dri/renderD128 running=1
	sim_add_ct "$R" 211 hostname=ollama "lxc.cgroup2.devices.allow=c 195:* rwm" \
		"lxc.mount.entry=/dev/nvidia0 dev/nvidia0 none bind,optional,create=file" \
		"lxc.mount.entry=/dev/nvidiactl dev/nvidiactl none bind,optional,create=file" running=1
	sim_add_vm "$R" 102 name=win hostpci0=0000:00:02.0
	sim_add_vm "$R" 104 name=gaming hostpci0=0000:05:00,pcie=1
}

teardown() {
	ct_teardown
}

@test "status: each container's device nodes, the card behind each, its driver now" {
	hook status
	assert_success
	assert_output --partial "0000:00:02.0  iommu group 0
  driver now: i915
  used by: VM 102 (win, stopped), CT 201 (plex, running)
  held by: CT 201 (container)"
	assert_output --partial "0000:05:00  iommu group 14
  driver now: 0000:05:00.0 nvidia, 0000:05:00.1 snd_hda_intel
  used by: VM 104 (gaming, stopped)"
	assert_output --partial "containers and their GPU device nodes:
  CT 201 (plex, running)
    /dev/dri/renderD128 -> 0000:00:02.0 (i915)
  CT 211 (ollama, running)
    /dev/nvidia0 -> 0000:05:00.0 (nvidia)
    /dev/nvidiactl (shared by every GPU)"
	hook status --json
	assert_success
	run jq -c '.guests[] | select(.vmid == 201) | .uses[0] | [.device_node, .alternatives, .drivers]' <<<"$output"
	assert_output '["/dev/dri/renderD128",[["0000:00:02.0"]],{"0000:00:02.0":"i915"}]'
	hook status --json
	run jq -c '.guests[] | select(.vmid == 104) | .uses[0].drivers' <<<"$output"
	assert_output '{"0000:05:00.0":"nvidia","0000:05:00.1":"snd_hda_intel"}'
}

@test "status of a killed job: parked containers, missing nodes, the card on vfio-pci; recover brings them back" {
	vzdump 102 --mode stop --kill-after backup-end:102
	[ "$(sim_ct_state "$R" 201)" = stopped ]
	[ "$(driver_of 0000:00:02.0)" = vfio-pci ]
	hook status
	assert_success
	assert_output --partial "0000:00:02.0  iommu group 0
  driver now: vfio-pci"
	assert_line "    /dev/dri/renderD128: missing; card 0000:00:02.0 on vfio-pci now, was on i915 when parked"
	assert_line "  CT 201 for the backup of VM 102, parked"
	# the NVIDIA container was not in the way: untouched
	assert_line "    /dev/nvidia0 -> 0000:05:00.0 (nvidia)"
	hook status --json
	run jq -c '.parked[] | [.vmid, .type, .state, .drivers]' <<<"$output"
	assert_output '[201,"lxc","parked",{"0000:00:02.0":"i915"}]'
	hook recover
	assert_success
	assert_line "CT 201: 0000:00:02.0: vfio-pci -> i915"
	assert_line "CT 201 is running again"
	[ "$(sim_ct_state "$R" 201)" = running ] && [ "$(sim_ct_state "$R" 211)" = running ]
	hook status
	assert_line "    /dev/dri/renderD128 -> 0000:00:02.0 (i915)"
	refute_output --partial "parked guests"
}

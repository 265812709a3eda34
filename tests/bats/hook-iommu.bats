#!/usr/bin/env bats
# IOMMU groups ("Done when" 2): Proxmox binds a VM's whole group to vfio-pci,
# so VMs on different functions of one group conflict; SR-IOV VFs in groups of
# their own do not, and classic mdev instances share their parent.

load hook-helpers

setup() {
	hook_setup
	hook_conf 'shutdown-timeout: 2'
}

teardown() { hook_teardown; }

@test "a VM on the card's audio function is parked for a VM that needs the VGA function" {
	nvidia_gpu 05 14
	sim_add_vm "$R" 102 name=win hostpci0=0000:05:00.0,pcie=1
	sim_add_vm "$R" 104 name=music hostpci0=0000:05:00.1 running=1
	record_calls
	run "$VZDUMP" 102 --mode stop
	assert_success
	assert_line "TASK OK"
	assert_line "INFO: VM 102 is stopped and its backup start needs 0000:05:00.0 0000:05:00.1, held by 1 running guest"
	assert_line "INFO: parking VM 104 (music), which holds 0000:05:00.1: shutdown, timeout 2 s"
	assert_line "INFO: VM 104 is running again"
	[ "$(sim_vm_state "$R" 104)" = running ]
	[ "$(sim_vm_state "$R" 102)" = stopped ]
	[ "$(count_events '104 stop')" = 1 ]
	# 104 was down before 102's paused start, and came back after it
	[ "$(event_line '104 stop')" -lt "$(event_line '102 start paused')" ]
	[ "$(event_line '102 stop prelaunch')" -lt "$(sim_events "$R" | grep -nx '104 start' | tail -n 1 | cut -d: -f1)" ]
	run hook_runs
	assert_line "backup-start stop 102 0"
	assert_line "job-end 0"
	# exactly the hook's two commands (the call record the no-op suite relies on works)
	run calls
	assert_output "qm shutdown 104 --timeout 2
qm start 104"
}

@test "a group member that is not a listed function conflicts too (slot id, other device in group)" {
	# a USB controller sharing group 14 with the card
	nvidia_gpu 05 14
	sim_add_pci "$R" 0000:05:00.2 10de 1ad6 0c0330 14 vfio-pci xhci_hcd
	sim_add_vm "$R" 102 hostpci0=0000:05:00,pcie=1
	sim_add_vm "$R" 104 name=usb hostpci0=0000:05:00.2 running=1
	run "$VZDUMP" 102 --mode stop
	assert_success
	assert_line "INFO: parking VM 104 (usb), which holds 0000:05:00.2: shutdown, timeout 2 s"
	[ "$(sim_vm_state "$R" 104)" = running ]
	[ "$(count_events '104 stop')" = 1 ]
}

@test "two SR-IOV VFs in their own groups: nothing parked" {
	sim_add_pci "$R" 0000:07:00.0 8086 56c0 030000 20 i915
	sim_add_pci "$R" 0000:07:00.1 8086 56c0 030000 21 vfio-pci i915
	sim_add_pci "$R" 0000:07:00.2 8086 56c0 030000 22 vfio-pci i915
	sim_add_vm "$R" 110 name=vf1 hostpci0=0000:07:00.1 running=1
	sim_add_vm "$R" 111 name=vf2 hostpci0=0000:07:00.2
	record_calls
	run "$VZDUMP" 111 --mode stop
	assert_success
	assert_line "TASK OK"
	refute_line --partial "parking"
	[ "$(sim_vm_state "$R" 110)" = running ]
	[ "$(count_events '110 shutdown-request')" = 0 ]
	[ "$(count_events '110 stop')" = 0 ]
	[ "$(count_events '111 start paused')" = 1 ]
	run calls
	assert_output ""
	run hook "plan" 111
	assert_success
	assert_output --partial "nothing to do: the devices of VM 111 are free"
}

@test "classic mdev instances of one parent do not conflict" {
	sim_add_pci "$R" 0000:00:02.0 8086 3e92 030000 0 i915 i915 "drm:card0 drm:renderD128"
	sim_add_vm "$R" 120 name=gvt1 hostpci0=0000:00:02.0,mdev=i915-GVTg_V5_4 running=1
	sim_add_vm "$R" 121 name=gvt2 hostpci0=0000:00:02.0,mdev=i915-GVTg_V5_4
	record_calls
	run hook plan 121
	assert_success
	assert_output --partial "nothing to do"
	run "$VZDUMP" 121 --mode stop
	assert_success
	refute_line --partial "parking"
	[ "$(sim_vm_state "$R" 120)" = running ]
	[ "$(count_events '120 stop')" = 0 ]
	run calls
	assert_output ""
}

@test "a VM with two cards: both holders parked, both restored" {
	nvidia_gpu 05 14
	nvidia_gpu 06 15
	sim_add_vm "$R" 102 name=two hostpci0=0000:05:00,pcie=1 hostpci1=0000:06:00,pcie=1
	sim_add_vm "$R" 104 name=a hostpci0=0000:05:00 running=1
	sim_add_vm "$R" 105 name=b hostpci0=0000:06:00.1 running=1
	sim_add_vm "$R" 106 name=c machine=q35 running=1
	run "$VZDUMP" 102 --mode stop
	assert_success
	assert_line "INFO: VM 102 is stopped and its backup start needs 0000:05:00.0 0000:05:00.1 0000:06:00.0 0000:06:00.1, held by 2 running guests"
	assert_line "INFO: parking VM 104 (a), which holds 0000:05:00.0: shutdown, timeout 2 s"
	assert_line "INFO: parking VM 105 (b), which holds 0000:06:00.1: shutdown, timeout 2 s"
	for v in 104 105 106; do [ "$(sim_vm_state "$R" "$v")" = running ]; done
	[ "$(count_events '104 stop')" = 1 ]
	[ "$(count_events '105 stop')" = 1 ]
	[ "$(count_events '106 shutdown-request')" = 0 ]
	[ -z "$(parked_vmids)" ]
}

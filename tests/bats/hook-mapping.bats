#!/usr/bin/env bats
# mapping= with several alternatives ("Done when" 3): Proxmox takes the first
# free one, so the hook parks nobody while one is free, and one holder when none is.

load hook-helpers

setup() {
	hook_setup
	hook_conf 'shutdown-timeout: 2'
	nvidia_gpu 05 14
	nvidia_gpu 06 15
	sim_add_mapping "$R" gpu "id=10de:2204,node=pve1,path=0000:05:00.0" \
		"id=10de:2204,node=pve1,path=0000:06:00.0" "id=10de:2204,node=pve2,path=0000:07:00.0"
}

teardown() { hook_teardown; }

@test "a free alternative: nobody is parked, the backup takes it" {
	sim_add_vm "$R" 101 name=a hostpci0=mapping=gpu running=1
	sim_add_vm "$R" 103 name=c hostpci0=mapping=gpu,pcie=1
	grep -q '^0000:05:00.0 101 ' "$R/run/qemu-server/pci-id-reservations"
	record_calls
	run "$VZDUMP" 103 --mode stop
	assert_success
	assert_line "TASK OK"
	refute_line --partial "parking"
	[ "$(sim_vm_state "$R" 101)" = running ]
	[ "$(count_events '101 shutdown-request')" = 0 ]
	[ "$(count_events '103 start paused')" = 1 ]
	run calls
	assert_output ""
	run hook_runs
	assert_line "backup-start stop 103 0"
	run hook plan 103
	assert_success
	assert_output --partial "nothing to do"
}

@test "no alternative free: one holder is parked and restored, the other keeps running" {
	sim_add_vm "$R" 101 name=a hostpci0=mapping=gpu running=1
	sim_add_vm "$R" 102 name=b hostpci0=mapping=gpu running=1
	sim_add_vm "$R" 103 name=c hostpci0=mapping=gpu,pcie=1
	grep -q '^0000:06:00.0 102 ' "$R/run/qemu-server/pci-id-reservations"
	run hook plan 103
	assert_success
	assert_line "  would park VM 101 (a) (holds 0000:05:00.0): shutdown, timeout 2 s"
	refute_line --partial "would park VM 102"
	run "$VZDUMP" 103 --mode stop
	assert_success
	assert_line "TASK OK"
	assert_line "INFO: parking VM 101 (a), which holds 0000:05:00.0: shutdown, timeout 2 s"
	refute_line --partial "parking VM 102"
	assert_line "INFO: VM 101 is running again"
	[ "$(sim_vm_state "$R" 101)" = running ]
	[ "$(sim_vm_state "$R" 102)" = running ]
	[ "$(count_events '101 stop')" = 1 ]
	[ "$(count_events '102 shutdown-request')" = 0 ]
	[ "$(count_events '103 start paused')" = 1 ]
	run hook_runs
	assert_line "backup-start stop 103 0"
	assert_line "job-end 0"
}

@test "no alternative free, one holder protected: the other alternative's holder is parked" {
	hook_conf 'shutdown-timeout: 2' 'protect: 101'
	sim_add_vm "$R" 101 name=a hostpci0=mapping=gpu running=1
	sim_add_vm "$R" 102 name=b hostpci0=mapping=gpu running=1
	sim_add_vm "$R" 103 name=c hostpci0=mapping=gpu,pcie=1
	run "$VZDUMP" 103 --mode stop
	assert_success
	assert_line "INFO: parking VM 102 (b), which holds 0000:06:00.0: shutdown, timeout 2 s"
	refute_line --partial "parking VM 101"
	[ "$(sim_vm_state "$R" 101)" = running ]
	[ "$(sim_vm_state "$R" 102)" = running ]
	[ "$(count_events '101 shutdown-request')" = 0 ]
	[ "$(count_events '102 stop')" = 1 ]
	# the backup took the freed alternative
	[ "$(event_line '102 stop')" -lt "$(event_line '103 start paused')" ]
}

@test "a later alternative is free but Proxmox takes the first reservable one: its group's holder is parked" {
	# VM 104 holds only the audio function of the card at 05:00: the VGA
	# function 0000:05:00.0 has no reservation, so qemu-server picks the
	# first alternative and then finds its IOMMU group busy.
	sim_add_vm "$R" 104 name=audio hostpci0=0000:05:00.1 running=1
	sim_add_vm "$R" 103 name=c hostpci0=mapping=gpu,pcie=1
	run hook plan 103
	assert_success
	assert_line "  would park VM 104 (audio) (holds 0000:05:00.1): shutdown, timeout 2 s"
	run "$VZDUMP" 103 --mode stop
	assert_success
	assert_line "TASK OK"
	refute_line --partial "ERROR"
	assert_line "INFO: parking VM 104 (audio), which holds 0000:05:00.1: shutdown, timeout 2 s"
	assert_line "INFO: VM 104 is running again"
	[ "$(sim_vm_state "$R" 104)" = running ]
	[ "$(count_events '103 start paused')" = 1 ]
	run hook_runs
	assert_line "backup-start stop 103 0"
	assert_line "job-end 0"
}

@test "two hostpci entries from one mapping take two alternatives: the holder of the second is parked" {
	sim_add_vm "$R" 101 name=a hostpci0=mapping=gpu running=1
	sim_add_vm "$R" 103 name=c hostpci0=mapping=gpu,pcie=1 hostpci1=mapping=gpu,pcie=1
	grep -q '^0000:05:00.0 101 ' "$R/run/qemu-server/pci-id-reservations"
	run hook plan 103
	assert_success
	assert_line "  would park VM 101 (a) (holds 0000:05:00.0): shutdown, timeout 2 s"
	run "$VZDUMP" 103 --mode stop
	assert_success
	assert_line "TASK OK"
	refute_line --partial "ERROR"
	assert_line "INFO: parking VM 101 (a), which holds 0000:05:00.0: shutdown, timeout 2 s"
	assert_line "INFO: VM 101 is running again"
	[ "$(count_events '103 start paused')" = 1 ]
	[ "$(sim_vm_state "$R" 101)" = running ]
}

#!/usr/bin/env bats
# A protected or locked holder ("Done when" 8) is never touched: the backup
# fails with the reason, the holder keeps running.

load hook-helpers

setup() {
	hook_setup
	nvidia_gpu 05 14
	sim_add_vm "$R" 102 name=win hostpci0=0000:05:00,pcie=1
}

teardown() { hook_teardown; }

@test "a holder listed in protect: the backup fails with the reason, the holder runs" {
	hook_conf 'shutdown-timeout: 1' 'protect: 103 104'
	sim_add_vm "$R" 104 name=gaming hostpci0=0000:05:00,pcie=1 running=1
	record_calls
	run "$VZDUMP" 102 --mode stop
	assert_failure 255
	assert_line "INFO: error: VM 104 holds 0000:05:00.0 and may not be touched (VM 104 is listed in 'protect'); not backing up VM 102"
	assert_line "ERROR: Backup of VM 102 failed - command '$HOOK backup-start stop 102' failed: exit code 1"
	refute_line --partial "parking"
	[ "$(sim_vm_state "$R" 104)" = running ]
	[ "$(count_events '104 shutdown-request')" = 0 ]
	[ "$(count_events '102 start paused')" = 0 ]
	run calls
	assert_output ""
	run hook_runs
	assert_line "backup-start stop 102 1"
	assert_line "job-end 0"
	run hook plan 102
	assert_failure 1
	assert_line "  cannot park VM 104 (holds 0000:05:00.0): VM 104 is listed in 'protect'"
	assert_line "the backup of VM 102 would fail"
}

@test "a locked holder: the backup fails with the lock, the holder runs" {
	hook_conf 'shutdown-timeout: 1'
	sim_add_vm "$R" 104 name=gaming hostpci0=0000:05:00,pcie=1 lock=snapshot running=1
	record_calls
	run "$VZDUMP" 102 --mode stop
	assert_failure 255
	assert_line "INFO: error: VM 104 holds 0000:05:00.0 and may not be touched (VM 104 is locked (snapshot)); not backing up VM 102"
	[ "$(sim_vm_state "$R" 104)" = running ]
	[ "$(count_events '104 shutdown-request')" = 0 ]
	run calls
	assert_output ""
	run hook_runs
	assert_line "backup-start stop 102 1"
	grep -qx 'lock: snapshot' "$R/etc/pve/qemu-server/104.conf"
}

@test "one protected holder among two: nobody is parked (no half-freed devices)" {
	hook_conf 'shutdown-timeout: 1' 'protect: 105'
	nvidia_gpu 06 15
	sim_add_vm "$R" 103 name=two hostpci0=0000:05:00,pcie=1 hostpci1=0000:06:00,pcie=1
	sim_add_vm "$R" 104 name=a hostpci0=0000:05:00 running=1
	sim_add_vm "$R" 105 name=b hostpci0=0000:06:00 running=1
	run "$VZDUMP" 103 --mode stop
	assert_failure 255
	assert_line "INFO: error: VM 105 holds 0000:06:00.0 and may not be touched (VM 105 is listed in 'protect'); not backing up VM 103"
	refute_line --partial "parking"
	[ "$(sim_vm_state "$R" 104)" = running ]
	[ "$(sim_vm_state "$R" 105)" = running ]
	[ "$(count_events '10[45] shutdown-request')" = 0 ]
}

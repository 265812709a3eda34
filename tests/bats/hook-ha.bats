#!/usr/bin/env bats
# An HA-managed holder ("Done when" 6): qm only queues a request to the HA
# stack; the hook waits for the real state before the backup, and restores
# through HA.

load hook-helpers

setup() {
	hook_setup
	hook_conf 'shutdown-timeout: 2'
	win_and_gaming
	sim_add_ha "$R" vm 104 started
	sim_knob "$R" - ha-delay 1
}

teardown() { hook_teardown; }

@test "an HA-managed holder is parked and restored through HA, the hook waits for the real state" {
	# HA's own VM shutdown always powers off at the timeout (forceStop), whatever force-stop says
	run hook plan 102
	assert_line "  would park VM 104 (gaming) (holds 0000:05:00.0) through HA: shutdown, timeout 2 s, then power off (HA does)"
	record_calls
	run "$VZDUMP" 102 --mode stop
	assert_success
	assert_line "TASK OK"
	assert_line "INFO: parking VM 104 (gaming), which holds 0000:05:00.0: shutdown, timeout 2 s, then power off (HA does), through HA"
	assert_line "INFO:   VM 104: Requesting HA stop for VM 104"
	assert_line --regexp '^INFO: VM 104 is down after [1-9][0-9]*\.[0-9] s; its devices are free$'
	assert_line "INFO:   VM 104: Requesting HA start for VM 104"
	assert_line "INFO: VM 104 is running again"
	# the HA stack stopped it before the backup's start, and it is running when the job ends
	[ "$(event_line '104 stop')" -lt "$(event_line '102 start paused')" ]
	[ "$(sim_vm_state "$R" 104)" = running ]
	grep -qx $'\tstate started' "$R/etc/pve/ha/resources.cfg"
	[ "$(count_events '104 stop')" = 1 ]
	run calls
	assert_line "qm shutdown 104 --timeout 2"
	assert_line "ha-manager crm-command stop vm:104 2"
	assert_line "qm start 104"
	assert_line "ha-manager set vm:104 --state started"
	run hook_runs
	assert_line "backup-start stop 102 0"
	assert_line "job-end 0"
	[ -z "$(parked_vmids)" ]
}

@test "an HA holder in state ignored is handled like any other VM" {
	sed -i 's/state started/state ignored/' "$R/etc/pve/ha/resources.cfg"
	record_calls
	run "$VZDUMP" 102 --mode stop
	assert_success
	refute_line --partial "through HA"
	[ "$(sim_vm_state "$R" 104)" = running ]
	run calls
	assert_output "qm shutdown 104 --timeout 2
qm start 104"
}

@test "the parked HA guest's own backup in the same job runs stopped (HA state stopped), then HA starts it" {
	run "$VZDUMP" 102 104 --mode stop
	assert_success
	assert_line "TASK OK"
	refute_line --partial "Cannot execute a backup with stop mode on a HA managed"
	assert_line "INFO: VM 104 was parked by this hook: it is backed up stopped and started again afterwards"
	run hook_runs
	assert_line "backup-start stop 104 0"
	assert_line "job-end 0"
	[ "$(count_events '104 start paused')" = 1 ]
	[ "$(sim_vm_state "$R" 104)" = running ]
	grep -qx $'\tstate started' "$R/etc/pve/ha/resources.cfg"
}

#!/usr/bin/env bats
# A holder that does not shut down ("Done when" 5): with force-stop: 0 the
# backup fails with one clear line and the holder keeps running; with
# force-stop: 1 it is powered off and the backup goes on.

load hook-helpers

setup() {
	hook_setup
	win_and_gaming
}

teardown() { hook_teardown; }

@test "force-stop: 0 and a holder that ignores ACPI: clear failure, holder still running" {
	hook_conf 'shutdown-timeout: 1' 'force-stop: 0'
	sim_knob "$R" 104 ignore-acpi 1
	record_calls
	run "$VZDUMP" 102 --mode stop
	assert_failure 255
	assert_line "INFO: parking VM 104 (gaming), which holds 0000:05:00.0: shutdown, timeout 1 s"
	assert_line "INFO: error: VM 104 holds 0000:05:00.0 and did not shut down within 1 s; not backing up VM 102 (set force-stop: 1 to power it off)"
	assert_line "ERROR: Backup of VM 102 failed - command '$HOOK backup-start stop 102' failed: exit code 1"
	assert_line "TASK ERROR: job errors"
	# QEMU's cryptic failure never comes: the backup was not started
	refute_line --partial "already in use"
	[ "$(count_events '102 start paused')" = 0 ]
	[ "$(sim_vm_state "$R" 104)" = running ]
	[ "$(count_events '104 shutdown-request')" = 1 ]
	[ "$(count_events '104 stop')" = 0 ]
	run calls
	assert_output "qm shutdown 104 --timeout 1"
	run hook_runs
	assert_output "job-init 0
job-start 0
backup-start stop 102 1
backup-abort stop 102 0
log-end stop 102 0
job-end 0"
	# it got the request and may still power off: on record with the instance asked
	grep -q "^vmid=104 type=qemu state=stopping for=102 .* pid=$(cat "$R/run/qemu-server/104.pid")\$" "$STATE"
	run hook status
	assert_line "  VM 104 for the backup of VM 102, stopping"
	# the next job finds the same instance running: nothing started, the record stays
	sim_add_vm "$R" 107 name=plain
	run "$VZDUMP" 107 --mode stop
	assert_success
	assert_line "INFO: VM 104 has not powered off since the shutdown request; left running, on record"
	refute_line --partial "left parked by an earlier job"
	[ "$(count_events '104 start')" = 1 ]
	[ "$(parked_vmids)" = 104 ]
	# restarted by someone: no longer ours
	"$R/usr/sbin/qm" stop 104
	"$R/usr/sbin/qm" start 104
	run hook recover
	assert_success
	assert_line "VM 104 is running again: nothing to restore"
	[ -z "$(parked_vmids)" ]
}

@test "force-stop: 1: the holder is powered off, the backup succeeds, the holder runs again" {
	hook_conf 'shutdown-timeout: 1' 'force-stop: 1'
	sim_knob "$R" 104 ignore-acpi 1
	record_calls
	run "$VZDUMP" 102 --mode stop
	assert_success
	assert_line "TASK OK"
	assert_line "INFO: parking VM 104 (gaming), which holds 0000:05:00.0: shutdown, timeout 1 s, then power off"
	assert_line "INFO: VM 104 is running again"
	[ "$(sim_vm_state "$R" 104)" = running ]
	[ "$(count_events '104 stop')" = 1 ]
	[ "$(event_line '104 stop')" -lt "$(event_line '102 start paused')" ]
	run calls
	assert_output "qm shutdown 104 --timeout 1 --forceStop 1
qm start 104"
	run hook_runs
	assert_line "backup-start stop 102 0"
	assert_line "job-end 0"
}

@test "a slow holder that powers off within the timeout is waited for" {
	hook_conf 'shutdown-timeout: 2'
	sim_knob "$R" 104 shutdown-delay 1
	run "$VZDUMP" 102 --mode stop
	assert_success
	assert_line --regexp '^INFO: VM 104 is down after (1|2)\.[0-9] s; its devices are free$'
	[ "$(sim_vm_state "$R" 104)" = running ]
	[ "$(count_events '104 stop')" = 1 ]
}

@test "a slow holder that misses the timeout and powers off later is started again, not lost" {
	hook_conf 'shutdown-timeout: 1'
	sim_knob "$R" 104 shutdown-delay 3
	run "$VZDUMP" 102 --mode stop
	assert_failure 255
	assert_line "INFO: error: VM 104 holds 0000:05:00.0 and did not shut down within 1 s; not backing up VM 102 (set force-stop: 1 to power it off)"
	assert_line "INFO: VM 104 got the shutdown request and may still power off; if it does, it is started again (at job-end, the next job or 'pve-gpu-backup-hook recover')"
	run hook_runs
	assert_line "backup-start stop 102 1"
	assert_line "job-end 0"
	# the guest goes down on its own, 3 s after the request
	wait_for sh -c "grep -q ' 104 stop\$' '$R/var/lib/sim/events'"
	[ "$(sim_vm_state "$R" 104)" = stopped ]
	run hook recover
	assert_success
	assert_line "VM 104 powered off after the shutdown request for the backup of VM 102"
	assert_line "VM 104 is running again"
	[ "$(sim_vm_state "$R" 104)" = running ]
	[ -z "$(parked_vmids)" ]
}

@test "a late power-off during the job: job-end starts the guest again" {
	hook_conf 'shutdown-timeout: 1'
	sim_knob "$R" 104 shutdown-delay 2
	sim_add_vm "$R" 103 name=slowbackup
	# a chained hook stands for a long backup of 103: it waits until 104 is down
	mkdir -p "$R/usr/local/bin"
	printf '#!/bin/sh
if [ "$1" = backup-start ] && [ "$3" = 103 ]; then
	i=0
	while [ -e "$PVE_GPU_BACKUP_ROOT/run/qemu-server/104.pid" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
fi
exit 0
' \
		>"$R/usr/local/bin/wait-104"
	chmod 755 "$R/usr/local/bin/wait-104"
	hook_conf 'shutdown-timeout: 1' 'chain: /usr/local/bin/wait-104'
	run "$VZDUMP" 102 103 --mode stop
	assert_failure 255
	assert_line "INFO: VM 104 powered off after the shutdown request for the backup of VM 102"
	assert_line "INFO: VM 104 is running again"
	[ "$(sim_vm_state "$R" 104)" = running ]
	[ -z "$(parked_vmids)" ]
}

@test "a paused holder refuses a shutdown: said at once, nothing left pending; force-stop: 1 stops it" {
	hook_conf 'shutdown-timeout: 2'
	"$R/usr/sbin/qm" suspend 104
	run "$VZDUMP" 102 --mode stop
	assert_failure 255
	assert_line "INFO:   VM 104: VM is paused - cannot shutdown"
	assert_line "INFO: error: VM 104 holds 0000:05:00.0 and could not be shut down: VM is paused - cannot shutdown; not backing up VM 102 (set force-stop: 1 to power it off)"
	refute_line --partial "may still power off"
	[ "$(sim_vm_state "$R" 104)" = paused ]
	[ -z "$(parked_vmids)" ]
	hook_conf 'shutdown-timeout: 2' 'force-stop: 1'
	run "$VZDUMP" 102 --mode stop
	assert_success
	assert_line "INFO:   VM 104: VM is paused - stop instead of shutdown"
	assert_line "INFO: VM 104 is running again"
	[ "$(sim_vm_state "$R" 104)" = running ]
}

#!/usr/bin/env bats
# Restore policies: `restore: early` starts a parked guest at the next
# backup-start that does not need its device, `restore: job-end` keeps it
# parked until job-end; a restore that fails makes job-end exit non-zero.

load hook-helpers

setup() {
	hook_setup
	nvidia_gpu 05 14
	nvidia_gpu 06 15
	sim_add_vm "$R" 101 name=gaming hostpci0=0000:05:00,pcie=1 running=1
	sim_add_vm "$R" 102 name=win hostpci0=0000:05:00,pcie=1
	sim_add_vm "$R" 103 name=other hostpci0=0000:06:00,pcie=1
}

teardown() { hook_teardown; }

last_start_of() { sim_events "$R" | grep -nx "$1 start" | tail -n 1 | cut -d: -f1; }

@test "restore: early (default) restores at the next backup-start that does not need the device" {
	hook_conf 'shutdown-timeout: 2'
	run "$VZDUMP" 102 103 --mode stop
	assert_success
	assert_line "TASK OK"
	assert_line "INFO: restoring VM 101 (parked for the backup of VM 102)"
	[ "$(sim_vm_state "$R" 101)" = running ]
	# back before 103's backup started, not at job-end
	[ "$(last_start_of 101)" -lt "$(event_line '103 start paused')" ]
	[ "$(last_start_of 101)" -gt "$(event_line '102 stop prelaunch')" ]
	run hook_runs
	assert_line "backup-start stop 103 0"
	assert_line "job-end 0"
}

@test "restore: job-end keeps the guest parked until the job ends" {
	hook_conf 'shutdown-timeout: 2' 'restore: job-end'
	run "$VZDUMP" 102 103 --mode stop
	assert_success
	assert_line "TASK OK"
	assert_line "INFO: VM 101 is running again"
	[ "$(sim_vm_state "$R" 101)" = running ]
	[ "$(last_start_of 101)" -gt "$(event_line '103 stop prelaunch')" ]
	[ "$(count_events '101 stop')" = 1 ]
}

@test "a parked guest that cannot be started makes job-end fail; recover starts it once fixed" {
	# a chained hook locks 101 while it is parked (as a migration or snapshot would)
	mkdir -p "$R/usr/local/bin"
	printf '#!/bin/sh\n[ "$1" = backup-end ] && echo "lock: migrate" >>"$PVE_GPU_BACKUP_ROOT/etc/pve/qemu-server/101.conf"\nexit 0\n' \
		>"$R/usr/local/bin/lock-101"
	chmod 755 "$R/usr/local/bin/lock-101"
	hook_conf 'shutdown-timeout: 2' 'restore: job-end' 'chain: /usr/local/bin/lock-101'
	run "$VZDUMP" 102 --mode stop
	assert_failure 255
	assert_line "INFO: error: VM 101 could not be started: VM is locked (migrate)"
	assert_line "INFO: error: 1 parked guest could not be restored: run 'pve-gpu-backup-hook recover' once the cause is fixed"
	# job-abort tries again, and its failure is appended, as PVE::VZDump does
	assert_line --regexp "^ERROR: Backup job failed - command '.*/pve-gpu-backup-hook job-end' failed: exit code 1command '.*job-abort' failed: exit code 1$"
	run hook_runs
	assert_line "backup-start stop 102 0"
	assert_line "backup-end stop 102 0"
	assert_line "job-end 1"
	[ "$(sim_vm_state "$R" 101)" = stopped ]
	[ "$(parked_vmids)" = 101 ]
	grep -q '^vmid=101 type=qemu state=restore-failed ' "$STATE"
	"$R/usr/sbin/qm" unlock 101
	run hook recover
	assert_success
	assert_line "VM 101 is running again"
	[ "$(sim_vm_state "$R" 101)" = running ]
	[ -z "$(parked_vmids)" ]
}

@test "a parked guest whose device another VM took meanwhile stays parked, job-end says so" {
	hook_conf 'shutdown-timeout: 2' 'restore: job-end'
	sim_add_vm "$R" 105 name=thief hostpci0=0000:05:00,pcie=1
	mkdir -p "$R/usr/local/bin"
	printf '#!/bin/sh\n[ "$1" = log-end ] && "$PVE_GPU_BACKUP_ROOT/usr/sbin/qm" start 105 >/dev/null\nexit 0\n' \
		>"$R/usr/local/bin/start-105"
	chmod 755 "$R/usr/local/bin/start-105"
	hook_conf 'shutdown-timeout: 2' 'restore: job-end' 'chain: /usr/local/bin/start-105'
	run "$VZDUMP" 102 --mode stop
	assert_failure 255
	assert_line --regexp "^INFO: warning: VM 101 stays parked: 0000:05:00\.[01] is held by VM 105 now; start it with 'qm start 101' once that is free$"
	run hook_runs
	assert_line "job-end 1"
	[ "$(sim_vm_state "$R" 101)" = stopped ]
	[ "$(sim_vm_state "$R" 105)" = running ]
	[ "$(parked_vmids)" = 101 ]
}

@test "a restore that failed early is not tried again at every backup-start, only at job-end" {
	sim_add_vm "$R" 104 name=plain
	mkdir -p "$R/usr/local/bin"
	printf '#!/bin/sh\n[ "$1" = backup-end ] && [ "$3" = 102 ] && echo "lock: migrate" >>"$PVE_GPU_BACKUP_ROOT/etc/pve/qemu-server/101.conf"\nexit 0\n' \
		>"$R/usr/local/bin/lock-101"
	chmod 755 "$R/usr/local/bin/lock-101"
	hook_conf 'shutdown-timeout: 2' 'chain: /usr/local/bin/lock-101'
	run "$VZDUMP" 102 103 104 --mode stop
	assert_failure 255
	# tried at 103's backup-start (early) and at job-end: not again at 104's
	run grep -c "VM 101 could not be started: VM is locked (migrate)" <<<"$output"
	assert_output 2
	[ "$(sim_vm_state "$R" 101)" = stopped ]
	[ "$(parked_vmids)" = 101 ]
}

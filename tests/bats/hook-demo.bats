#!/usr/bin/env bats
# The demo scenario (issue #3, "Done when" 1): VMs 102-105 share the GPU at
# 0000:05:00, VM 104 runs; `vzdump 102 103 104 105 --mode stop` with the hook.

load hook-helpers

setup() {
	hook_setup
	hook_conf 'shutdown-timeout: 2'
	nvidia_gpu 05 14
	sim_add_vm "$R" 102 name=win11 ostype=win11 machine=q35 hostpci0=0000:05:00,pcie=1,x-vga=1
	sim_add_vm "$R" 103 name=ubuntu-ml machine=q35 hostpci0=0000:05:00,pcie=1
	sim_add_vm "$R" 104 name=gaming machine=q35 hostpci0=0000:05:00,pcie=1,x-vga=1 running=1
	sim_add_vm "$R" 105 name=render machine=q35 hostpci0=0000:05:00,pcie=1
}

teardown() { hook_teardown; }

@test "demo: all four backups succeed, VM 104 runs again, shut down exactly once" {
	run "$VZDUMP" 102 103 104 105 --mode stop
	assert_success
	assert_line "TASK OK"
	assert_line "INFO: Backup job finished successfully"
	for v in 102 103 104 105; do
		assert_line --regexp "^INFO: Finished Backup of VM $v \(00:00:0[0-9]\)$"
		compgen -G "$R/var/lib/vz/dump/vzdump-qemu-$v-*.vma.zst" >/dev/null
	done
	refute_line --partial "ERROR"
	# what the admin reads in the task log
	assert_line "INFO: VM 102 is stopped and its backup start needs 0000:05:00.0 0000:05:00.1, held by 1 running guest"
	assert_line "INFO: parking VM 104 (gaming), which holds 0000:05:00.0: shutdown, timeout 2 s"
	assert_line --regexp '^INFO: VM 104 is down after [0-9.]+ s; its devices are free$'
	assert_line "INFO: VM 104 stays parked: VM 103 needs its device"
	assert_line "INFO: VM 104 was parked by this hook: it is backed up stopped and started again afterwards"
	assert_line "INFO: VM 104 stays parked: VM 105 needs its device"
	assert_line "INFO: restoring VM 104 (parked for the backup of VM 102)"
	assert_line "INFO: VM 104 is running again"
	# final guest states
	[ "$(sim_vm_state "$R" 102)" = stopped ]
	[ "$(sim_vm_state "$R" 103)" = stopped ]
	[ "$(sim_vm_state "$R" 104)" = running ]
	[ "$(sim_vm_state "$R" 105)" = stopped ]
	# one stop/start cycle for 104, not one per backup
	[ "$(count_events '104 shutdown-request')" = 1 ]
	[ "$(count_events '104 stop')" = 1 ]
	[ "$(count_events '104 start')" = 2 ]   # its first start, then the restore
	[ "$(sim_events "$R" | grep -E '^10[0-9] ' | tail -n 1)" = "104 start" ]
	# 104's own backup ran while it was parked: a paused start and stop
	[ "$(count_events '104 start paused')" = 1 ]
	# every hook run exited 0, in vzdump's order
	run hook_runs
	assert_output "job-init 0
job-start 0
backup-start stop 102 0
backup-end stop 102 0
log-end stop 102 0
backup-start stop 103 0
backup-end stop 103 0
log-end stop 103 0
backup-start stop 104 0
backup-end stop 104 0
log-end stop 104 0
backup-start stop 105 0
backup-end stop 105 0
log-end stop 105 0
job-end 0"
	# nothing is left parked
	[ -z "$(parked_vmids)" ]
}

@test "demo: the hook's log file has the task log's lines with timestamps" {
	run "$VZDUMP" 102 103 104 105 --mode stop
	assert_success
	log=$R/var/log/pve-gpu-backup-hook.log
	[ -s "$log" ]
	run cat "$log"
	assert_line --regexp '^[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9:]{8}.*parking VM 104 \(gaming\), which holds 0000:05:00\.0'
	assert_line --regexp '^[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9:]{8}.*VM 104 is running again'
}

@test "demo: tests/sim/demo.sh with the built hook reports the same outcome" {
	run bash "$top_srcdir/tests/sim/demo.sh" "$BATS_TEST_TMPDIR/demo" "$HOOK"
	assert_success
	assert_line "TASK OK"
	assert_line "# guests now: VM 102 stopped, VM 103 stopped, VM 104 running, VM 105 stopped; VM 104 was shut down 1 time(s); backups: 4 of 4"
}

@test "the same job without the hook fails for every VM but 104 (the problem the hook solves)" {
	: >"$R/etc/vzdump.conf"
	run "$VZDUMP" 102 103 104 105 --mode stop
	assert_failure 255
	assert_line "ERROR: Backup of VM 102 failed - PCI device '0000:05:00.0' already in use by VMID '104'"
	assert_line "ERROR: Backup of VM 105 failed - PCI device '0000:05:00.0' already in use by VMID '104'"
	[ "$(sim_vm_state "$R" 104)" = running ]
}

@test "a snapshot-mode job: the stopped VM is backed up in mode stop, the parked 104 too, then restored" {
	run "$VZDUMP" 102 104 --mode snapshot
	assert_success
	assert_line "TASK OK"
	assert_line "INFO: parking VM 104 (gaming), which holds 0000:05:00.0: shutdown, timeout 2 s"
	assert_line "INFO: VM 104 was parked by this hook: it is backed up stopped and started again afterwards"
	run hook_runs
	assert_output "job-init 0
job-start 0
backup-start stop 102 0
backup-end stop 102 0
log-end stop 102 0
backup-start stop 104 0
backup-end stop 104 0
log-end stop 104 0
job-end 0"
	[ "$(sim_vm_state "$R" 104)" = running ]
	[ "$(count_events '104 stop')" = 1 ]
}

@test "a device only in [PENDING] counts: the backup's start applies it" {
	sim_add_vm "$R" 106 name=pending machine=q35 pending:hostpci0=0000:05:00,pcie=1
	run "$VZDUMP" 106 --mode stop
	assert_success
	assert_line "INFO: parking VM 104 (gaming), which holds 0000:05:00.0: shutdown, timeout 2 s"
	assert_line "INFO: VM 104 is running again"
	[ "$(sim_vm_state "$R" 104)" = running ]
	[ "$(count_events '106 start paused')" = 1 ]
}

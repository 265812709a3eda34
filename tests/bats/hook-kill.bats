#!/usr/bin/env bats
# vzdump killed with SIGKILL while a guest is parked ("Done when" 7): the next
# job's job-start restores it, so does `recover`; records of an earlier boot are
# reported, not acted on, until `recover --previous-boot`.

load hook-helpers

setup() {
	hook_setup
	hook_conf 'shutdown-timeout: 2'
	win_and_gaming
	sim_add_vm "$R" 107 name=plain
	# the task is killed right after the hook parked 104 for 102
	run "$VZDUMP" 102 --mode stop --kill-after backup-start:102
	assert_failure 137
	assert_line "INFO: parking VM 104 (gaming), which holds 0000:05:00.0: shutdown, timeout 2 s"
	refute_line --partial "TASK"
	[ "$(sim_vm_state "$R" 104)" = stopped ]
	[ "$(parked_vmids)" = 104 ]
	grep -q "^vmid=104 type=qemu state=parked for=102 .*job=UPID:pve1:" "$STATE"
	run hook_runs
	assert_output "job-init 0
job-start 0
backup-start stop 102 0"
}

teardown() { hook_teardown; }

@test "the next job's job-start restores the guest a killed job left parked" {
	run "$VZDUMP" 107 --mode stop
	assert_success
	assert_line "TASK OK"
	assert_line --regexp '^INFO: VM 104 was left parked by an earlier job \(UPID:pve1:[0-9A-F:]+:vzdump:102:root@pam:\)$'
	assert_line "INFO: restoring VM 104 (parked for the backup of VM 102)"
	assert_line "INFO: VM 104 is running again"
	# restored at job-start, before the first backup of this job
	[ "$(sim_vm_state "$R" 104)" = running ]
	[ "$(sim_events "$R" | grep -nx '104 start' | tail -n 1 | cut -d: -f1)" -lt "$(event_line '107 start paused')" ]
	[ "$(count_events '104 start')" = 2 ]
	run hook_runs
	assert_line "job-start 0"
	[ -z "$(parked_vmids)" ]
}

@test "recover restores it on demand; a second recover finds nothing" {
	run hook recover
	assert_success
	assert_line "restoring VM 104 (parked for the backup of VM 102)"
	assert_line "VM 104 is running again"
	[ "$(sim_vm_state "$R" 104)" = running ]
	[ -z "$(parked_vmids)" ]
	run hook recover
	assert_success
	assert_output "no guest is parked"
	[ "$(count_events '104 start')" = 2 ]
}

@test "recover while a vzdump job runs starts nothing: that job may need the device now" {
	# a job holds vzdump's global lock (here: the one that parked 104, still at its backup of 102)
	exec 9>>"$R/run/vzdump.lock"
	flock -n 9
	run hook recover
	exec 9>&-
	assert_failure 1
	assert_output --regexp "^error: a vzdump job is running \(UPID:pve1:[0-9A-F:]+:vzdump:102:root@pam:\); it restores what it parked itself: run 'pve-gpu-backup-hook recover' once it has ended$"
	[ "$(sim_vm_state "$R" 104)" = stopped ]
	[ "$(parked_vmids)" = 104 ]
	[ "$(count_events '104 start')" = 1 ]
	# once no job runs, recover acts
	run hook recover
	assert_success
	assert_line "VM 104 is running again"
	[ "$(sim_vm_state "$R" 104)" = running ]
}

@test "records of an earlier boot are reported, not acted on; recover --previous-boot acts" {
	cat /proc/sys/kernel/random/uuid >"$R/proc/sys/kernel/random/boot_id"
	sim_add_vm "$R" 108 name=plain2
	run "$VZDUMP" 107 108 --mode stop
	assert_success
	assert_line --regexp "^INFO: warning: VM 104 was parked at [0-9-]+ [0-9:]+ before this boot: left as it is; 'pve-gpu-backup-hook recover --previous-boot' starts it if it is still down$"
	# said at job-start and job-end, not at every backup-start
	[ "$(printf '%s\n' "${lines[@]}" | grep -c 'before this boot')" = 2 ]
	[ "$(sim_vm_state "$R" 104)" = stopped ]
	[ "$(parked_vmids)" = 104 ]
	run hook recover
	assert_success
	assert_line --partial "VM 104 was parked at "
	[ "$(sim_vm_state "$R" 104)" = stopped ]
	[ "$(parked_vmids)" = 104 ]
	run hook recover --previous-boot
	assert_success
	assert_line "VM 104 is running again"
	[ "$(sim_vm_state "$R" 104)" = running ]
	[ -z "$(parked_vmids)" ]
}

@test "a guest started by someone else meanwhile is not started twice, its record goes" {
	"$R/usr/sbin/qm" start 104
	run "$VZDUMP" 107 --mode stop
	assert_success
	assert_line "INFO: VM 104 is running again: nothing to restore"
	[ "$(count_events '104 start')" = 2 ]
	[ -z "$(parked_vmids)" ]
}

@test "task abort (SIGTERM, then SIGKILL to the group) while the hook waits for the holder: nobody lost" {
	# a fresh holder that takes 2 s to go down (the setup's job left 104 parked: start it again first)
	run hook recover
	assert_success
	sim_knob "$R" 104 shutdown-delay 2
	sim_add_vm "$R" 103 name=win2 hostpci0=0000:05:00,pcie=1
	setsid "$VZDUMP" 103 --mode stop >"$BATS_TEST_TMPDIR/task.log" 2>&1 &
	task=$!
	wait_for grep -q '^vmid=104 ' "$STATE"
	# the task stop: SIGTERM to the process group, SIGKILL 5 s later if anything is left
	kill -TERM -- -"$task"
	( sleep 5; kill -KILL -- -"$task" 2>/dev/null ) 3>&- &
	killer=$!
	wait "$task" || true
	pkill -P "$killer" 2>/dev/null; kill "$killer" 2>/dev/null || true
	grep -q '^vmid=104 type=qemu state=parked for=103 ' "$STATE"
	# qm runs in a process group of its own: the shutdown goes through, the hook is gone
	wait_for sh -c "! pgrep -f '[q]m shutdown 104' >/dev/null"
	[ "$(sim_vm_state "$R" 104)" = stopped ]
	run "$VZDUMP" 107 --mode stop
	assert_success
	assert_line "INFO: restoring VM 104 (parked for the backup of VM 103)"
	[ "$(sim_vm_state "$R" 104)" = running ]
	[ -z "$(parked_vmids)" ]
}

#!/usr/bin/env bats
# chain: ("Done when" 9): a chained hook runs after ours with the same argv and
# environment as vzdump gave us, and its non-zero exit is honoured.

load hook-helpers

setup() {
	hook_setup
	mkdir -p "$R/usr/local/bin"
	cp "$top_srcdir/tests/sim/record-hook" "$R/usr/local/bin/old-hook"
	chmod 755 "$R/usr/local/bin/old-hook"
	nvidia_gpu 05 14
	sim_add_vm "$R" 104 name=gaming hostpci0=0000:05:00,pcie=1 running=1
	sim_add_vm "$R" 107 name=plain
}

teardown() { hook_teardown; }

# The hook log with the archive timestamps (which differ run to run) masked.
recorded() { sed -E 's/[0-9]{4}_[0-9]{2}_[0-9]{2}-[0-9]{2}_[0-9]{2}_[0-9]{2}/TS/g' "$R/var/lib/sim/hook.log"; }

@test "the chained hook receives exactly the argv and environment vzdump gives a hook" {
	# what the old hook sees when vzdump runs it directly
	run "$VZDUMP" 104 107 --mode snapshot --script "$R/usr/local/bin/old-hook"
	assert_success
	direct=$(recorded)
	rm "$R/var/lib/sim/hook.log"
	hook_conf 'shutdown-timeout: 2' 'chain: /usr/local/bin/old-hook'
	run "$VZDUMP" 104 107 --mode snapshot
	assert_success
	assert_line "INFO: hook backup-start snapshot 104"
	assert_line "INFO: hook job-end"
	chained=$(recorded)
	[ -n "$direct" ]
	[ "$chained" = "$direct" ]
	# the cleared environment: no PATH, the vzdump variables only
	run recorded
	refute_line --regexp '^env: PATH='
	assert_line "env: VMTYPE=qemu"
	assert_line "env: HOSTNAME=gaming"
	assert_line "argv: backup-start snapshot 104"
}

@test "the chain runs in a parking job too, after our lines" {
	sim_add_vm "$R" 102 name=win hostpci0=0000:05:00,pcie=1
	hook_conf 'shutdown-timeout: 2' 'chain: /usr/local/bin/old-hook'
	run "$VZDUMP" 102 --mode stop
	assert_success
	assert_line "INFO: hook backup-start stop 102"
	park=$(printf '%s\n' "${lines[@]}" | grep -n 'parking VM 104' | cut -d: -f1)
	chain=$(printf '%s\n' "${lines[@]}" | grep -nx 'INFO: hook backup-start stop 102' | cut -d: -f1)
	[ "$park" -lt "$chain" ]
	run sed -n 's/^argv: //p' "$R/var/lib/sim/hook.log"
	assert_output "job-init
job-start
backup-start stop 102
backup-end stop 102
log-end stop 102
job-end"
	[ "$(sim_vm_state "$R" 104)" = running ]
}

@test "the chained hook's non-zero exit is honoured per phase" {
	hook_conf 'shutdown-timeout: 2' 'chain: /usr/local/bin/old-hook'
	printf 'backup-start:107 3\njob-end 5\n' >"$R/var/lib/sim/hook-fail"
	run "$VZDUMP" 107 --mode stop
	assert_failure 255
	assert_line "INFO: error: the chained hook '/usr/local/bin/old-hook' failed: exit code 3"
	assert_line "ERROR: Backup of VM 107 failed - command '$HOOK backup-start stop 107' failed: exit code 3"
	assert_line --partial "Backup job failed - command '$HOOK job-end' failed: exit code 5"
	run hook_runs
	assert_output "job-init 0
job-start 0
backup-start stop 107 3
backup-abort stop 107 0
log-end stop 107 0
job-end 5
job-abort 0"
}

@test "a chain that is not executable is a config error: the job fails at job-init, no guest touched" {
	chmod 644 "$R/usr/local/bin/old-hook"
	hook_conf 'chain: /usr/local/bin/old-hook'
	sim_add_vm "$R" 102 name=win hostpci0=0000:05:00,pcie=1
	run "$VZDUMP" 102 --mode stop
	assert_failure 255
	assert_line "INFO: error: the chained hook '/usr/local/bin/old-hook' was not run: /etc/pve-gpu-backup-hook.conf:1: chain: '/usr/local/bin/old-hook' is not an executable file"
	run hook_runs
	assert_output "job-init 1"
	[ "$(sim_vm_state "$R" 104)" = running ]
	[ "$(count_events '104 shutdown-request')" = 0 ]
}

@test "a chain that breaks in the middle of a job is an error of each later phase, not silently skipped" {
	hook_conf 'shutdown-timeout: 2' 'chain: /usr/local/bin/old-hook'
	run "$HOOK" backup-start snapshot 107
	assert_success
	assert_output "hook backup-start snapshot 107"
	rm "$R/usr/local/bin/old-hook"
	run "$HOOK" backup-end snapshot 107
	assert_failure 1
	assert_line --regexp "^error: the chained hook '/usr/local/bin/old-hook' was not run: /etc/pve-gpu-backup-hook.conf:2: chain: cannot use '/usr/local/bin/old-hook': No such file or directory$"
}

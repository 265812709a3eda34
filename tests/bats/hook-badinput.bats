#!/usr/bin/env bats
# Bad input ("Done when" 10): a malformed config, an unreadable or corrupt state
# file, a symlink planted at the state path: a clear error, no guest lost,
# nothing written through the link.

load hook-helpers

setup() {
	hook_setup
	win_and_gaming
	record_calls
}

teardown() { hook_teardown; }

# untouched: 104 runs, no command was run on any guest, no backup started.
untouched() {
	[ "$(sim_vm_state "$R" 104)" = running ]
	[ "$(count_events '104 shutdown-request')" = 0 ]
	[ "$(count_events '102 start paused')" = 0 ]
	run calls
	assert_output ""
}

@test "a malformed config: job-start fails with file, line and reason; no guest touched" {
	hook_conf '# GPU backup hook' 'shutdown-timeout: soon' 'force-stop: 1' 'protect: 104, abc' 'colour: blue'
	run "$VZDUMP" 102 --mode stop
	assert_failure 255
	assert_line --regexp "^INFO: error: /etc/pve-gpu-backup-hook.conf:2: .*shutdown-timeout.*$"
	assert_line --regexp "^INFO: error: /etc/pve-gpu-backup-hook.conf:4: .*$"
	assert_line --regexp "^INFO: error: /etc/pve-gpu-backup-hook.conf:5: .*colour.*$"
	refute_line --regexp "^INFO: error: /etc/pve-gpu-backup-hook.conf:[13]:"
	assert_line "INFO: error: fix '/etc/pve-gpu-backup-hook.conf' (see pve-gpu-backup-hook.conf(5)); no guest was touched"
	assert_line --partial "ERROR: Backup job failed - command '$HOOK job-start' failed: exit code 1"
	run hook_runs
	assert_output "job-init 0
job-start 1
job-abort 0"
	untouched
	[ ! -e "$R/var/lib/pve-gpu-backup-hook/parked" ]
}

@test "a config made bad in the middle of a job: backup-start refuses, nothing touched" {
	hook_conf 'shutdown-timeout: 1'
	mkdir -p "$R/usr/local/bin"
	printf '#!/bin/sh\n[ "$1" = job-start ] && echo "force-stop: maybe" >>"$PVE_GPU_BACKUP_ROOT/etc/pve-gpu-backup-hook.conf"\nexit 0\n' >"$R/usr/local/bin/spoil"
	chmod 755 "$R/usr/local/bin/spoil"
	hook_conf 'shutdown-timeout: 1' 'chain: /usr/local/bin/spoil'
	run "$VZDUMP" 102 --mode stop
	assert_failure 255
	assert_line --regexp "^INFO: error: /etc/pve-gpu-backup-hook.conf:3: .*force-stop.*$"
	assert_line "INFO: error: not backing up VM 102: fix '/etc/pve-gpu-backup-hook.conf' first"
	run hook_runs
	assert_line "backup-start stop 102 1"
	untouched
}

@test "a corrupt state file: clear error, left as it is, no guest touched" {
	mkdir -p -m 0700 "$R/var/lib/pve-gpu-backup-hook"
	printf 'vmid=105 type=qemu state=parked for=102 devices=0000:05:00.0 parked-at=1764000000\nthis is not a record\n' >"$STATE"
	cp "$STATE" "$BATS_TEST_TMPDIR/before"
	run "$VZDUMP" 102 --mode stop
	assert_failure 255
	assert_line --regexp "^INFO: error: /var/lib/pve-gpu-backup-hook/parked:2: .*$"
	assert_line "INFO: error: '/var/lib/pve-gpu-backup-hook/parked' cannot be read as it stands: the guests it lists may still be parked; check them, then fix or remove the file"
	run hook_runs
	assert_line "job-start 1"
	untouched
	cmp "$STATE" "$BATS_TEST_TMPDIR/before"
	run hook recover
	assert_failure 1
	assert_line --partial "cannot be read as it stands"
	cmp "$STATE" "$BATS_TEST_TMPDIR/before"
}

@test "an unreadable state file (a directory in its place): clear error, no guest touched" {
	mkdir -p -m 0700 "$STATE"
	run "$VZDUMP" 102 --mode stop
	assert_failure 255
	assert_line --regexp "^INFO: error: cannot read '/var/lib/pve-gpu-backup-hook/parked': .*: the guests it lists may still be parked$"
	run hook_runs
	assert_line "job-start 1"
	untouched
	[ -d "$STATE" ]
}

@test "a symlink planted at the state file: refused, nothing written through it" {
	mkdir -p -m 0700 "$R/var/lib/pve-gpu-backup-hook"
	echo "precious" >"$R/etc/shadow-like"
	ln -s ../../../etc/shadow-like "$STATE"
	run "$VZDUMP" 102 --mode stop
	assert_failure 255
	assert_line "INFO: error: refusing '/var/lib/pve-gpu-backup-hook/parked': it is a symbolic link; nothing was written through it"
	untouched
	[ -L "$STATE" ]
	[ "$(cat "$R/etc/shadow-like")" = precious ]
}

@test "a dangling symlink planted at the state file: refused, nothing created through it" {
	mkdir -p -m 0700 "$R/var/lib/pve-gpu-backup-hook"
	ln -s ../../../etc/created-by-hook "$STATE"
	run "$VZDUMP" 102 --mode stop
	assert_failure 255
	assert_line --partial "symbolic link"
	untouched
	[ ! -e "$R/etc/created-by-hook" ]
}

@test "a symlink planted at the state directory: refused, nothing written through it" {
	mkdir -p -m 0700 "$R/elsewhere"
	mkdir -p "$R/var/lib"
	ln -s ../../elsewhere "$R/var/lib/pve-gpu-backup-hook"
	run "$VZDUMP" 102 --mode stop
	assert_failure 255
	assert_line "INFO: error: refusing '/var/lib/pve-gpu-backup-hook': a symbolic link is in the way"
	run hook_runs
	assert_line "backup-start stop 102 1"
	untouched
	[ -z "$(ls -A "$R/elsewhere")" ]
}

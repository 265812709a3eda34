#!/usr/bin/env bats
# The log rotation that the package ships (logrotate/pve-gpu-backup-hook) and
# that pve-gpu-backup-setup writes for a source install are the same file, and
# logrotate does with it what the file says.

load helpers
load setup-helpers

SHIPPED="$top_srcdir/logrotate/pve-gpu-backup-hook"

# The shipped file with the log moved to $BATS_TEST_TMPDIR/log.
local_copy() {
	mkdir -p "$BATS_TEST_TMPDIR/log"
	chmod 0755 "$BATS_TEST_TMPDIR/log"
	sed "s|^/var/log/pve-gpu-backup-hook.log |$BATS_TEST_TMPDIR/log/pve-gpu-backup-hook.log |" "$SHIPPED" >"$BATS_TEST_TMPDIR/logrotate.conf"
	grep -q "^$BATS_TEST_TMPDIR/log/pve-gpu-backup-hook.log {" "$BATS_TEST_TMPDIR/logrotate.conf"
}

@test "the wizard writes the logrotate file the package ships, byte for byte" {
	make_root
	: >"$VZ"
	run "$(prog_path pve-gpu-backup-setup)" --yes --no-color </dev/null
	assert_success
	run cmp "$SHIPPED" "$ROOT/etc/logrotate.d/pve-gpu-backup-hook"
	assert_success
}

@test "logrotate accepts the file and rotates the hook's log weekly, keeping 8" {
	command -v logrotate >/dev/null || skip "logrotate is not installed"
	local_copy
	run logrotate --debug --state "$BATS_TEST_TMPDIR/state" "$BATS_TEST_TMPDIR/logrotate.conf"
	assert_success
	assert_output --partial "weekly (8 rotations)"
	refute_output --partial "error"
}

@test "a forced rotation keeps the last log uncompressed and creates a new one 0640 root:adm" {
	command -v logrotate >/dev/null || skip "logrotate is not installed"
	[ "$(id -u)" -eq 0 ] || skip "create 0640 root adm needs root"
	local_copy
	local log="$BATS_TEST_TMPDIR/log/pve-gpu-backup-hook.log"
	echo "first week" >"$log"
	run logrotate --force --state "$BATS_TEST_TMPDIR/state" "$BATS_TEST_TMPDIR/logrotate.conf"
	assert_success
	run cat "$log.1"
	assert_output "first week"
	run stat -c '%a %U %G %s' "$log"
	assert_output "640 root adm 0"
	# delaycompress: the week before last is compressed at the next rotation.
	echo "second week" >"$log"
	run logrotate --force --state "$BATS_TEST_TMPDIR/state" "$BATS_TEST_TMPDIR/logrotate.conf"
	assert_success
	run zcat "$log.2.gz"
	assert_output "first week"
	run cat "$log.1"
	assert_output "second week"
}

@test "an empty log is not rotated (notifempty) and a missing one is no error (missingok)" {
	command -v logrotate >/dev/null || skip "logrotate is not installed"
	local_copy
	local log="$BATS_TEST_TMPDIR/log/pve-gpu-backup-hook.log"
	run logrotate --force --state "$BATS_TEST_TMPDIR/state" "$BATS_TEST_TMPDIR/logrotate.conf"
	assert_success
	[ ! -e "$log.1" ]
	: >"$log"
	run logrotate --force --state "$BATS_TEST_TMPDIR/state" "$BATS_TEST_TMPDIR/logrotate.conf"
	assert_success
	[ ! -e "$log.1" ]
}

#!/usr/bin/env bats
# Bad input and bad moments: a symlink, a read-only or full file system, two wizards at once.

load setup-helpers

setup() {
	make_root
	printf 'mode: snapshot\nscript: /root/h.sh\n' >"$VZ"
	cp "$VZ" "$BATS_TEST_TMPDIR/orig"
}

teardown() {
	if [ -n "${MOUNTED:-}" ]; then
		umount "$MOUNTED" || true
	fi
}

@test "a symlink at /etc/vzdump.conf is refused and left alone" {
	mv "$VZ" "$ROOT/etc/vzdump.real"
	ln -s vzdump.real "$VZ"
	before=$(tree_sum)
	wizard --yes
	assert_failure 2
	assert_output --partial "refusing to edit '/etc/vzdump.conf': it is a symbolic link (to 'vzdump.real')"
	[ -L "$VZ" ]
	[ "$(tree_sum)" = "$before" ]
	wizard --dry-run
	assert_failure 2
}

@test "a symlink at the hook config is refused" {
	ln -s /etc/passwd "$HC"
	before=$(tree_sum)
	wizard --yes
	assert_failure 2
	assert_output --partial "cannot read '/etc/pve-gpu-backup-hook.conf'"
	[ "$(tree_sum)" = "$before" ]
}

# Mount a tmpfs over the fake /etc with the current files in it.
mount_etc() {
	cp -a "$ROOT/etc" "$BATS_TEST_TMPDIR/etc.copy"
	mount -t tmpfs -o "$1" tmpfs "$ROOT/etc" 2>/dev/null || skip "cannot mount a tmpfs here (needs root and mount rights)"
	MOUNTED="$ROOT/etc"
	cp -a "$BATS_TEST_TMPDIR/etc.copy/." "$ROOT/etc/"
}

@test "a read-only file system: clear error, the original intact" {
	mount_etc size=1m
	touch "$ROOT/etc/vzdump.conf.lock"
	mount -o remount,ro "$ROOT/etc"
	wizard --yes
	assert_failure 2
	assert_output --partial "Read-only file system; nothing was changed"
	cmp "$VZ" "$BATS_TEST_TMPDIR/orig"
	[ ! -e "$HC" ]
}

@test "a full disk in the middle of the write: clear error, the original intact, no temp file" {
	# A file the tmpfs holds once but not twice: the temp copy runs out of space.
	{ for i in $(seq 1 300); do printf '#%0100d\n' "$i"; done; printf 'script: /root/h.sh\n'; } >"$VZ"
	cp "$VZ" "$BATS_TEST_TMPDIR/orig"
	mount_etc size=48k
	# fill what is left, minus room for the lock file
	dd if=/dev/zero of="$ROOT/etc/filler" bs=4k count=100 2>/dev/null || true
	rm -f "$ROOT/etc/filler"
	dd if=/dev/zero of="$ROOT/etc/filler" bs=1k count=$(( $(df -k --output=avail "$ROOT/etc" | tail -1) - 8 )) 2>/dev/null || true
	wizard --yes
	assert_failure 2
	assert_output --partial "No space left on device"
	assert_output --partial "nothing was changed"
	cmp "$VZ" "$BATS_TEST_TMPDIR/orig"
	run find "$ROOT/etc" -name '*.tmp.*'
	assert_output ""
	[ ! -e "$HC" ]
}

@test "a read-only (0444) file: root may replace it; the mode stays 0444" {
	chmod 0444 "$VZ"
	wizard --yes
	assert_success
	[ "$(stat -c %a "$VZ")" = 444 ]
	run grep -cx "script: /usr/sbin/pve-gpu-backup-hook" "$VZ"
	assert_output 1
}

@test "an immutable file (chattr +i): clear error, the original intact" {
	chattr +i "$VZ" 2>/dev/null || skip "chattr +i not supported here"
	wizard --yes
	status_=$status output_=$output
	chattr -i "$VZ"
	status=$status_ output=$output_
	assert_failure 2
	assert_output --partial "cannot write '/etc/vzdump.conf': Operation not permitted; nothing was changed"
	cmp "$VZ" "$BATS_TEST_TMPDIR/orig"
	[ ! -e "$HC" ]
	run find "$ROOT/etc" -name '*.tmp.*'
	assert_output ""
}

@test "two wizards at once: the second one stops, nothing changed" {
	exec 9>"$ROOT/etc/vzdump.conf.lock"
	flock -n 9
	before=$(tree_sum)
	wizard --yes
	exec 9>&-
	assert_failure 2
	assert_output --partial "another pve-gpu-backup-setup is running (it holds '/etc/vzdump.conf.lock')"
	[ "$(tree_sum)" = "$before" ]
}

@test "two wizards started together: one line, never two" {
	for round in 1 2 3 4 5; do
		cp "$BATS_TEST_TMPDIR/orig" "$VZ"
		rm -f "$HC"
		"$SETUP" --yes </dev/null >"$BATS_TEST_TMPDIR/a.out" 2>&1 & a=$!
		"$SETUP" --yes </dev/null >"$BATS_TEST_TMPDIR/b.out" 2>&1 & b=$!
		sa=0 sb=0
		wait "$a" || sa=$?
		wait "$b" || sb=$?
		[ "$sa" -eq 0 ] || [ "$sb" -eq 0 ]
		[ "$sa" -eq 0 ] || [ "$sa" -eq 2 ]
		[ "$sb" -eq 0 ] || [ "$sb" -eq 2 ]
		[ "$(grep -c '^script:' "$VZ")" -eq 1 ]
		grep -qx "script: /usr/sbin/pve-gpu-backup-hook" "$VZ"
		grep -qx "chain: /root/h.sh" "$HC"
	done
}

@test "--dry-run does not need the lock" {
	exec 9>"$ROOT/etc/vzdump.conf.lock"
	flock -n 9
	wizard --dry-run
	exec 9>&-
	assert_success
}

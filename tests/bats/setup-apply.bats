#!/usr/bin/env bats
# The wizard's edit of /etc/vzdump.conf for each starting point of issue #5.

load setup-helpers

setup() {
	make_root
}

@test "no script line: our line is appended with a comment, the old file kept as a backup" {
	printf '# vzdump default settings\n\n#script: FILENAME\nmode: snapshot\n' >"$VZ"
	cp "$VZ" "$BATS_TEST_TMPDIR/orig"
	wizard --yes
	assert_success
	assert_output --partial "vzdump runs no hook script today."
	assert_output --partial "+$OURS"
	assert_output --partial "Done."
	printf '# vzdump default settings\n\n#script: FILENAME\nmode: snapshot\n%s\n%s\n' "$COMMENT" "$OURS" >"$BATS_TEST_TMPDIR/want"
	cmp "$VZ" "$BATS_TEST_TMPDIR/want"
	cmp "$ROOT/etc/vzdump.conf.pve-gpu-backup-setup.bak" "$BATS_TEST_TMPDIR/orig"
	[ ! -e "$HC" ]
}

@test "owner and mode of vzdump.conf are kept" {
	printf 'mode: snapshot\n' >"$VZ"
	chmod 0640 "$VZ"
	chown 12:34 "$VZ"
	wizard --yes
	assert_success
	[ "$(stat -c '%a %u %g' "$VZ")" = "640 12 34" ]
}

@test "our line already there: nothing to do, nothing written" {
	printf '# x\n%s\nmode: stop\n' "$OURS" >"$VZ"
	touch "$ROOT/etc/logrotate.d/pve-gpu-backup-hook"
	before=$(tree_sum)
	wizard
	assert_success
	assert_output --partial "vzdump already runs /usr/sbin/pve-gpu-backup-hook (line 2)."
	assert_output --partial "Nothing to do."
	refute_output --partial "+++"
	[ "$(tree_sum)" = "$before" ]
}

@test "the old bash hook is replaced in place and its stopped guests are reported" {
	printf 'mode: stop\nscript: /usr/local/bin/backup-gpu-hook.sh\nionice: 7\n' >"$VZ"
	printf '101\n205\n101\n' >"$ROOT/tmp/vzdump-gpu-stopped-vms.state"
	wizard --yes
	assert_success
	assert_output --partial "vzdump runs the old bash hook /usr/local/bin/backup-gpu-hook.sh (line 2)."
	assert_output --partial "/tmp/vzdump-gpu-stopped-vms.state lists guests it stopped"
	assert_output --partial "never started again: 101 (gone), 205 (gone)"
	printf 'mode: stop\n%s\nionice: 7\n' "$OURS" >"$BATS_TEST_TMPDIR/want"
	cmp "$VZ" "$BATS_TEST_TMPDIR/want"
	[ ! -e "$HC" ]
}

@test "another hook is kept working as chain: in the hook config" {
	printf 'mode: snapshot\nscript: /root/scripts/backup-hook.sh\n' >"$VZ"
	wizard --yes
	assert_success
	assert_output --partial "vzdump runs another hook script, /root/scripts/backup-hook.sh (line 2)."
	assert_output --partial "'chain: /root/scripts/backup-hook.sh' in /etc/pve-gpu-backup-hook.conf"
	printf 'mode: snapshot\n%s\n' "$OURS" >"$BATS_TEST_TMPDIR/want"
	cmp "$VZ" "$BATS_TEST_TMPDIR/want"
	run grep -x 'chain: /root/scripts/backup-hook.sh' "$HC"
	assert_success
}

@test "another hook with an existing hook config: other settings kept, chain added" {
	printf 'script: /root/h.sh\n' >"$VZ"
	printf 'shutdown-timeout: 300\nforce-stop: 1' >"$HC"
	wizard --yes
	assert_success
	run cat "$HC"
	assert_output "$(printf 'shutdown-timeout: 300\nforce-stop: 1\n# pve-gpu-backup-setup: the hook that was in /etc/vzdump.conf, run after ours\nchain: /root/h.sh')"
}

@test "several script lines: says which one vzdump uses and leaves one" {
	printf 'script: /root/a.sh\nmode: stop\nscript: /root/b.sh\n' >"$VZ"
	wizard --yes
	assert_success
	assert_output --partial "has 2 script: lines; vzdump uses only the last one (line 3: /root/b.sh)."
	assert_output --partial "The line 'script: /root/a.sh' never runs"
	printf 'mode: stop\n%s\n' "$OURS" >"$BATS_TEST_TMPDIR/want"
	cmp "$VZ" "$BATS_TEST_TMPDIR/want"
	run grep -x 'chain: /root/b.sh' "$HC"
	assert_success
	run grep -c '^script:' "$VZ"
	assert_output 1
}

@test "mode: is never added or changed" {
	printf 'mode: snapshot\nscript: /usr/local/bin/backup-gpu-hook.sh\n' >"$VZ"
	wizard --yes
	assert_success
	run grep '^mode' "$VZ"
	assert_output "mode: snapshot"
	printf 'compress: zstd\n' >"$VZ"
	wizard --yes
	run grep -c '^mode' "$VZ"
	assert_output 0
}

@test "the old installer's repeated mode: lines are pointed out and left alone" {
	printf 'mode: stop\nscript: /usr/local/bin/backup-gpu-hook.sh\nmode: stop\n' >"$VZ"
	wizard --yes
	assert_success
	assert_output --partial "has 2 mode: lines (the old installer added one on every run)"
	printf 'mode: stop\n%s\nmode: stop\n' "$OURS" >"$BATS_TEST_TMPDIR/want"
	cmp "$VZ" "$BATS_TEST_TMPDIR/want"
}

@test "a second run changes nothing, byte for byte" {
	printf 'mode: snapshot\nscript: /root/h.sh\n' >"$VZ"
	wizard --yes
	assert_success
	before=$(tree_sum)
	wizard --yes
	assert_success
	assert_output --partial "Nothing to do."
	[ "$(tree_sum)" = "$before" ]
}

@test "--remove gives back the original bytes (no hook before)" {
	printf '# c\nmode: stop\n\n' >"$VZ"
	cp "$VZ" "$BATS_TEST_TMPDIR/orig"
	wizard --yes
	assert_success
	wizard --remove --yes
	assert_success
	assert_output --partial "take 'script: /usr/sbin/pve-gpu-backup-hook' out"
	cmp "$VZ" "$BATS_TEST_TMPDIR/orig"
}

@test "--remove puts the chained hook back and the hook config goes away" {
	printf 'x: 1\n  script:/root/h.sh  \ny: 2\n' >"$VZ"
	cp "$VZ" "$BATS_TEST_TMPDIR/orig"
	wizard --yes
	assert_success
	[ -e "$HC" ]
	wizard -r -y
	assert_success
	assert_output --partial "put the chained hook /root/h.sh back"
	cmp "$VZ" "$BATS_TEST_TMPDIR/orig"
	[ ! -e "$HC" ]
}

@test "--remove when our hook is not set up: nothing to do" {
	printf 'script: /root/h.sh\n' >"$VZ"
	before=$(tree_sum)
	wizard --remove --yes
	assert_success
	assert_output --partial "nothing to remove"
	[ "$(tree_sum)" = "$before" ]
}

@test "--dry-run shows the diff and changes nothing" {
	printf 'script: /root/h.sh\n' >"$VZ"
	before=$(tree_sum)
	wizard --dry-run
	assert_success
	assert_output --partial "-script: /root/h.sh"
	assert_output --partial "+$OURS"
	assert_output --partial "Dry run: nothing was changed."
	[ "$(tree_sum)" = "$before" ]
	wizard -n --yes
	assert_success
	[ "$(tree_sum)" = "$before" ]
}

@test "CRLF line endings are kept, the new lines too" {
	printf 'mode: stop\r\n# x\r\n' >"$VZ"
	cp "$VZ" "$BATS_TEST_TMPDIR/orig"
	wizard --yes
	assert_success
	printf 'mode: stop\r\n# x\r\n%s\r\n%s\r\n' "$COMMENT" "$OURS" >"$BATS_TEST_TMPDIR/want"
	cmp "$VZ" "$BATS_TEST_TMPDIR/want"
	wizard --remove --yes
	cmp "$VZ" "$BATS_TEST_TMPDIR/orig"
}

@test "a file without a final newline keeps it so, and comes back exactly" {
	printf 'mode: stop\n#pigz: N' >"$VZ"
	cp "$VZ" "$BATS_TEST_TMPDIR/orig"
	wizard --yes
	assert_success
	printf 'mode: stop\n#pigz: N\n%s\n%s' "$COMMENT" "$OURS" >"$BATS_TEST_TMPDIR/want"
	cmp "$VZ" "$BATS_TEST_TMPDIR/want"
	wizard --remove --yes
	cmp "$VZ" "$BATS_TEST_TMPDIR/orig"
}

@test "lines vzdump ignores are kept byte for byte" {
	printf 'garbage line\nscript : /not/parsed\n\t  \n#script: /x\n' >"$VZ"
	cp "$VZ" "$BATS_TEST_TMPDIR/orig"
	wizard --yes
	assert_success
	assert_output --partial "vzdump runs no hook script today."
	assert_output --partial "note: vzdump ignores lines 1, 2 of /etc/vzdump.conf (no 'key: value'); kept as they are."
	head -c "$(stat -c %s "$BATS_TEST_TMPDIR/orig")" "$VZ" | cmp - "$BATS_TEST_TMPDIR/orig"
	wizard --remove --yes
	cmp "$VZ" "$BATS_TEST_TMPDIR/orig"
}

@test "a missing vzdump.conf is created" {
	wizard --yes
	assert_success
	printf '%s\n%s\n' "$COMMENT" "$OURS" >"$BATS_TEST_TMPDIR/want"
	cmp "$VZ" "$BATS_TEST_TMPDIR/want"
	[ "$(stat -c %a "$VZ")" = 644 ]
}

@test "the logrotate file is written once and never overwritten" {
	printf 'mode: stop\n' >"$VZ"
	wizard --yes
	assert_success
	run grep -c pve-gpu-backup-hook.log "$ROOT/etc/logrotate.d/pve-gpu-backup-hook"
	assert_output 1
	echo "# mine" >"$ROOT/etc/logrotate.d/pve-gpu-backup-hook"
	wizard --remove --yes
	wizard --yes
	assert_success
	run cat "$ROOT/etc/logrotate.d/pve-gpu-backup-hook"
	assert_output "# mine"
}

@test "jobs with their own script are warned about" {
	printf 'mode: stop\n' >"$VZ"
	printf 'vzdump: backup-1\n\tschedule daily\n\tscript /root/h.sh\n\nvzdump: backup-2\n\tall 1\n' >"$ROOT/etc/pve/jobs.cfg"
	wizard --dry-run
	assert_success
	assert_output --partial "backup job 'backup-1' sets its own script (/root/h.sh, /etc/pve/jobs.cfg line 3)"
	refute_output --partial "backup-2"
}

@test "a cluster: every node needs its own run" {
	printf 'mode: stop\n' >"$VZ"
	wizard --dry-run
	refute_output --partial "cluster nodes"
	mkdir -p "$ROOT/etc/pve/nodes/pve2" "$ROOT/etc/pve/nodes/pve3"
	wizard --dry-run
	assert_output --partial "this node is one of 3 cluster nodes"
	assert_output --partial "run pve-gpu-backup-setup on every node"
}

@test "our hook not installed: refused, because vzdump would fail every backup" {
	printf 'mode: stop\n' >"$VZ"
	rm "$ROOT/usr/sbin/pve-gpu-backup-hook"
	before=$(tree_sum)
	wizard --yes
	assert_failure 2
	assert_output --partial "warning: /usr/sbin/pve-gpu-backup-hook is not installed or not executable"
	assert_output --partial "refusing to point vzdump at '/usr/sbin/pve-gpu-backup-hook'"
	[ "$(tree_sum)" = "$before" ]
	wizard --dry-run
	assert_success
}

@test "a chained hook that does not exist is pointed out" {
	printf 'script: /root/gone.sh\n' >"$VZ"
	wizard --dry-run
	assert_success
	assert_output --partial "warning: the hook /root/gone.sh does not exist or is not executable"
}

@test "a hook given by a relative path is not chained" {
	printf 'script: root/h.sh\n' >"$VZ"
	before=$(tree_sum)
	wizard --yes
	assert_failure 2
	assert_output --partial "root/h.sh is not an absolute path"
	assert_output --partial "refusing to chain 'root/h.sh': not an absolute path; nothing was changed"
	[ "$(tree_sum)" = "$before" ]
}

@test "the diff shown is a real unified diff: patch(1) turns the old file into the new one" {
	command -v patch >/dev/null || skip "patch(1) not installed"
	for content in 'mode: stop\n' 'mode: stop\n#pigz: N' 'a: b\r\nscript: /root/h.sh\r\nc: d\r\n' 'x: 1\nscript: /a\ny: 2\nscript: /b\nz: 3\n'; do
		rm -f "$HC" "$ROOT/etc/vzdump.conf.pve-gpu-backup-setup.bak"
		printf "$content" >"$VZ"
		cp "$VZ" "$BATS_TEST_TMPDIR/patched"
		wizard --dry-run
		assert_success
		printf '%s\n' "$output" | sed -n '/^--- \/etc\/vzdump.conf$/,/^$/p' | sed '$d' >"$BATS_TEST_TMPDIR/d.patch"
		[ -s "$BATS_TEST_TMPDIR/d.patch" ]
		patch --binary -s "$BATS_TEST_TMPDIR/patched" "$BATS_TEST_TMPDIR/d.patch"
		wizard --yes
		assert_success
		cmp "$VZ" "$BATS_TEST_TMPDIR/patched"
	done
}

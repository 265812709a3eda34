#!/usr/bin/env bats
# Every real-world vzdump.conf and jobs.cfg: apply, apply again (no change), --remove back to the original.

load setup-helpers

setup() {
	FIX="$SHARED_DIR/fixtures/real-world"
	[ -d "$FIX" ] || skip "no real-world fixtures in $FIX"
	make_root
}

roundtrip() {
	local f=$1
	cp "$f" "$VZ"
	wizard --yes
	[ "$status" -eq 0 ] || { echo "$f: apply exit $status: $output"; return 1; }
	grep -qx "$OURS" "$VZ" || { echo "$f: our line missing"; return 1; }
	local after=$(tree_sum)
	wizard --yes
	[ "$status" -eq 0 ] || { echo "$f: second apply exit $status"; return 1; }
	[ "$(tree_sum)" = "$after" ] || { echo "$f: second apply changed something"; return 1; }
	wizard --remove --yes
	[ "$status" -eq 0 ] || { echo "$f: remove exit $status: $output"; return 1; }
	cmp "$VZ" "$f" || { echo "$f: remove did not give the original bytes"; diff -u "$f" "$VZ"; return 1; }
	[ ! -e "$HC" ] || { echo "$f: hook config left behind"; return 1; }
}

@test "real-world vzdump.conf files: apply, apply again, remove" {
	n=0
	for f in "$FIX"/vzdump-conf-*.conf; do
		[ -e "$f" ] || continue
		rm -rf "$ROOT"
		make_root
		roundtrip "$f"
		n=$((n + 1))
	done
	[ "$n" -gt 0 ] || skip "no vzdump-conf fixtures"
}

@test "real-world jobs.cfg files: the job's own script is warned about, vzdump.conf round-trips" {
	n=0
	for f in "$FIX"/jobs-cfg-*.cfg; do
		[ -e "$f" ] || continue
		rm -rf "$ROOT"
		make_root
		cp "$f" "$ROOT/etc/pve/jobs.cfg"
		printf '# vzdump default settings\n\n#script: FILENAME\n' >"$BATS_TEST_TMPDIR/stock"
		wizard --dry-run
		if grep -qE '^[[:space:]]+script[[:space:]]' "$f"; then
			echo "$output" | grep -q "sets its own script" || { echo "$f: no warning: $output"; return 1; }
		fi
		roundtrip "$BATS_TEST_TMPDIR/stock"
		cmp "$f" "$ROOT/etc/pve/jobs.cfg"
		n=$((n + 1))
	done
	[ "$n" -gt 0 ] || skip "no jobs-cfg fixtures"
}

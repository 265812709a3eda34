#!/usr/bin/env bats
# `status --json` over every real-world config of ../shared/fixtures/real-world:
# no crash, valid JSON, and every live hostpciN line shows up. Expectations are
# derived here with awk, independently of the C parser.

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load
load fakenode
load helpers

hook() { "$(prog_path pve-gpu-backup-hook)" "$@"; }

setup() {
	fixtures=${SHARED_DIR:-}/fixtures/real-world
	[ -d "$fixtures" ] || skip "no real-world fixtures at '$fixtures'"
	export PVE_GPU_BACKUP_ROOT=$BATS_TEST_TMPDIR/root
	# the node the mapping fixture was written for, so that its map lines resolve
	node=$(cat "$fixtures"/pci-cfg-* 2>/dev/null | sed -n 's/.*[,[:space:]]node=\([a-z0-9-]*\).*/\1/p' | head -n1)
	fake_node "${node:-pve}"
	: > "$BATS_TEST_TMPDIR/placed"
	vmid=1000
	for f in "$fixtures"/*; do
		case ${f##*/} in
		qemu-*.conf) fake_vm $vmid < "$f"; echo "$vmid qemu $f" >> "$BATS_TEST_TMPDIR/placed" ;;
		lxc-*.conf) fake_ct $vmid < "$f"; echo "$vmid lxc $f" >> "$BATS_TEST_TMPDIR/placed" ;;
		pci-cfg-*) cat "$f" >> "$PVE_GPU_BACKUP_ROOT/etc/pve/mapping/pci.cfg" ;;
		esac
		vmid=$((vmid + 1))
	done
	hook status --json > "$BATS_TEST_TMPDIR/out.json" 2> "$BATS_TEST_TMPDIR/err"
}

# The live section's hostpciN lines of a VM config: "LINENO VALUE".
live_hostpci() {
	awk '/^\[/ { exit } /^hostpci([0-9]|1[0-5]):/ { v = $0; sub(/^hostpci[0-9]+:[ \t]*/, "", v); print NR, v }' "$1"
}

# Normalise one Proxmox PCI id: add the 0000 domain when it is missing.
norm_id() { case $1 in ????:*:*) echo "$1" ;; *) echo "0000:$1" ;; esac; }

@test "status --json reads every real-world config: exit 0, no stderr, valid JSON" {
	run cat "$BATS_TEST_TMPDIR/err"
	assert_output ""
	run jq -e '.node and (.guests | type == "array") and (.problems | type == "array")' "$BATS_TEST_TMPDIR/out.json"
	assert_success
	run jq '.guests | length' "$BATS_TEST_TMPDIR/out.json"
	assert_output "$(wc -l < "$BATS_TEST_TMPDIR/placed")"
	[ "$(wc -l < "$BATS_TEST_TMPDIR/placed")" -gt 0 ]
}

@test "every live hostpci line of every real-world VM config shows up in devices" {
	local checked=0 missing=""
	while read -r vmid type f; do
		[ "$type" = qemu ] || continue
		devices=$(jq -r --argjson v "$vmid" '.guests[] | select(.vmid == $v) | .devices[]' "$BATS_TEST_TMPDIR/out.json")
		while read -r lineno value; do
			[ -n "$lineno" ] || continue
			checked=$((checked + 1))
			first=${value%%,*}
			if [ "${first#mapping=}" != "$first" ] || [ "${value#*mapping=}" != "$value" ]; then
				# a mapping: its local map paths are devices, or it is reported as a problem
				name=$(echo "$value" | sed -n 's/.*mapping=\([^,]*\).*/\1/p')
				problem=$(jq -r --arg f "/etc/pve/qemu-server/$vmid.conf" --argjson l "$lineno" \
					'.problems[] | select(.file == $f and .line == $l) | .message' "$BATS_TEST_TMPDIR/out.json")
				paths=$(awk -v n="$name" -v node="$node" '$0 == n { in_map = 1; next } /^[^ \t]/ { in_map = 0 }
					in_map && /^[ \t]+map / && $0 ~ ("node=" node "(,|$)") { sub(/.*path=/, ""); sub(/,.*/, ""); gsub(/;/, " "); print }' \
					"$PVE_GPU_BACKUP_ROOT/etc/pve/mapping/pci.cfg")
				if [ -z "$paths" ] && [ -z "$problem" ]; then
					missing="$missing\n${f##*/}:$lineno mapping=$name neither resolved nor reported"
				fi
				for id in $paths; do
					grep -qx "$id" <<< "$devices" || missing="$missing\n${f##*/}:$lineno $id (mapping $name)"
				done
				continue
			fi
			ids=${first#host=}
			case $value in *host=*) ids=$(echo "$value" | sed 's/.*host=\([^,]*\).*/\1/') ;; esac
			for id in ${ids//;/ }; do
				id=$(norm_id "$id")
				grep -qx "$id" <<< "$devices" || missing="$missing\n${f##*/}:$lineno $id"
			done
		done < <(live_hostpci "$f")
	done < "$BATS_TEST_TMPDIR/placed"
	echo "checked $checked hostpci lines"
	[ "$checked" -gt 20 ]
	if [ -n "$missing" ]; then
		echo -e "missing from devices:$missing"
		false
	fi
}

@test "no real-world VM shows a device that is not in its live section" {
	local extra=""
	while read -r vmid type f; do
		[ "$type" = qemu ] || continue
		live=$(awk '/^\[/ { exit } /^(hostpci[0-9]+|args|[ \t]*map)/' "$f"; grep -h '^[[:space:]]*map ' "$PVE_GPU_BACKUP_ROOT/etc/pve/mapping/pci.cfg")
		for id in $(jq -r --argjson v "$vmid" '.guests[] | select(.vmid == $v) | .devices[]' "$BATS_TEST_TMPDIR/out.json"); do
			short=${id#0000:}
			grep -q -e "$id" -e "$short" <<< "$live" || extra="$extra\n${f##*/}: $id"
		done
	done < "$BATS_TEST_TMPDIR/placed"
	if [ -n "$extra" ]; then
		echo -e "devices not in the live config:$extra"
		false
	fi
}

@test "every GPU device path of a real-world CT's live section shows up in device_nodes" {
	local checked=0 missing=""
	while read -r vmid type f; do
		[ "$type" = lxc ] || continue
		nodes=$(jq -r --argjson v "$vmid" '.guests[] | select(.vmid == $v) | .device_nodes[]' "$BATS_TEST_TMPDIR/out.json")
		for p in $(awk '/^\[/ { exit }
			/^lxc\.mount\.entry[ \t]*[:=]/ { sub(/^lxc\.mount\.entry[ \t]*[:=][ \t]*/, ""); print $1 }
			/^dev[0-9]+:/ { v = $0; sub(/^dev[0-9]+:[ \t]*/, "", v); sub(/^path=/, "", v); sub(/,.*/, "", v); print v }' "$f" |
			grep -E '^/dev/(dri(/|$)|nvidia)'); do
			checked=$((checked + 1))
			grep -qx "$p" <<< "$nodes" || missing="$missing\n${f##*/}: $p"
		done
	done < "$BATS_TEST_TMPDIR/placed"
	echo "checked $checked device paths"
	[ "$checked" -gt 5 ]
	if [ -n "$missing" ]; then
		echo -e "missing from device_nodes:$missing"
		false
	fi
}

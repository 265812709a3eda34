# shellcheck shell=bash
# Guest config files as qemu-server/pve-container read them: the main section is
# everything before the first "[...]" header; key lines are "key: value".

# _sim_conf_get FILE KEY: value of KEY in the main section (exit 1 if absent).
_sim_conf_get() {
	awk -v k="$2" '
		/^\[/ { exit }
		{ if (index($0, k ":") == 1) { v = substr($0, length(k) + 2); sub(/^[ \t]+/, "", v); sub(/[ \t]+$/, "", v); print v; found = 1; exit } }
		END { exit !found }' "$1"
}

# _sim_conf_keys FILE REGEX: "key value" lines of the main section whose key matches.
_sim_conf_keys() {
	awk -v re="$2" '
		/^\[/ { exit }
		match($0, /^[a-z][a-z0-9_.\-]*[:=]/) {
			k = substr($0, 1, RLENGTH - 1); v = substr($0, RLENGTH + 1)
			sub(/^[ \t]+/, "", v); sub(/[ \t]+$/, "", v); sub(/[ \t]+$/, "", k)
			if (k ~ re) print k " " v
		}' "$1"
}

_sim_write_atomic() { # FILE < content
	local tmp
	tmp=$(mktemp "$1.tmp.XXXXXX") || return 1
	cat >"$tmp" && mv -f "$tmp" "$1"
}

# _sim_conf_set FILE KEY VALUE: set KEY in the main section (appended when new).
_sim_conf_set() {
	awk -v k="$2" -v v="$3" '
		BEGIN { done = 0; insec = 0 }
		/^\[/ && !insec { if (!done) print k ": " v; done = 1; insec = 1 }
		!insec && index($0, k ":") == 1 { if (!done) print k ": " v; done = 1; next }
		{ print }
		END { if (!done) print k ": " v }' "$1" | _sim_write_atomic "$1"
}

# _sim_conf_del FILE KEY: remove KEY from the main section.
_sim_conf_del() {
	awk -v k="$2" '
		/^\[/ { insec = 1 }
		!insec && index($0, k ":") == 1 { next }
		{ print }' "$1" | _sim_write_atomic "$1"
}

# _sim_apply_pending FILE: what vm_start does first: [PENDING] values and
# deletions become the main section, the section goes away.
_sim_apply_pending() {
	grep -qi '^\[PENDING\]' "$1" || return 0
	awk '
		function flushmain() { }
		/^\[/ { sec = tolower($0) }
		sec == "" { main[++n] = $0; next }
		sec == "[pending]" {
			if ($0 ~ /^\[/) next
			if (match($0, /^[a-z][a-z0-9_\-]*:/)) {
				k = substr($0, 1, RLENGTH - 1); v = substr($0, RLENGTH + 1); sub(/^[ \t]+/, "", v)
				if (k == "delete") { m = split(v, d, /[,; ]+/); for (i = 1; i <= m; i++) { x = d[i]; sub(/^!/, "", x); if (x != "") del[x] = 1 } }
				else { pend[k] = v; order[++po] = k }
			}
			next
		}
		{ rest[++r] = $0 }
		END {
			for (i = 1; i <= n; i++) {
				line = main[i]
				if (match(line, /^[a-z][a-z0-9_\-]*:/)) {
					k = substr(line, 1, RLENGTH - 1)
					if (k in del) continue
					if (k in pend) { line = k ": " pend[k]; used[k] = 1 }
				}
				print line
			}
			for (i = 1; i <= po; i++) if (!(order[i] in used)) print order[i] ": " pend[order[i]]
			for (i = 1; i <= r; i++) print rest[i]
		}' "$1" | _sim_write_atomic "$1"
}

#!/usr/bin/env bats
# The man pages are the interface: each program's --help and its man page
# list the same long options, and every page says what the exit codes mean.

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load
load helpers

# man_page NAME SECTION: the page's troff source (gzip-compressed when installed).
man_page() {
	local dir
	if [ "${PVE_GPU_BACKUP_INSTALLED:-0}" = 1 ]; then
		echo "/usr/share/man/man$2/$1.$2.gz"
		return
	fi
	# Built pages first, then the sources; each area keeps its page in its folder.
	for dir in "$top_builddir" "$top_srcdir"; do
		find "$dir" -maxdepth 2 -name "$1.$2" -print -quit
	done | head -n 1
}

# troff source with font escapes and \- removed, so options read as typed.
man_source() {
	zcat -f "$1" | sed -e 's/\\f[BIRP]//g' -e 's/\\f(..//g' -e 's/\\f\[[^]]*\]//g' -e 's/\\-/-/g'
}

man_options() {
	man_source "$1" | awk '/^\.SH/ { in_options = ($0 ~ /^\.SH +"?OPTIONS"?[[:space:]]*$/); next } in_options' |
		grep -oE -- '--[a-z][a-z0-9-]*' | sort -u
}

# The program's options and those of each command its --help lists under "Commands:".
help_options() {
	local cmd
	{
		"$1" --help
		for cmd in $("$1" --help | awk '/^Commands:/ { c = 1; next } c && !NF { c = 0 } c { print $1 }'); do
			"$1" "$cmd" --help
		done
	} | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u
}

# require_program NAME: sets $bin and $page, skips while the program is not built yet.
require_program() {
	bin=$(prog_path "$1")
	[ -x "$bin" ] || skip "$1 is not built yet"
	page=$(man_page "$1" 8)
	[ -n "$page" ] && [ -f "$page" ] || fail "$1 is built but has no man page $1(8)"
}

# assert_subset WHAT A B: every line of A is in B, else fail naming the missing ones.
assert_subset() {
	local missing
	missing=$(comm -23 <(echo "$2") <(echo "$3"))
	[ -z "$missing" ] || fail "$1: $(echo $missing)"
}

check_help_in_man() {
	require_program "$1"
	run "$bin" --help
	assert_success
	local help man
	help=$(help_options "$bin")
	[ -n "$help" ] || fail "$1 --help lists no long option"
	man=$(man_options "$page")
	assert_subset "options of '$1 --help' missing from the OPTIONS section of $page" "$help" "$man"
}

check_man_in_help() {
	require_program "$1"
	local help man
	man=$(man_options "$page")
	[ -n "$man" ] || fail "$page has no OPTIONS section listing long options"
	help=$(help_options "$bin")
	assert_subset "options of $page missing from '$1 --help'" "$man" "$help"
}

@test "pve-gpu-backup-hook: every option of --help is in its man page" {
	check_help_in_man pve-gpu-backup-hook
}

@test "pve-gpu-backup-hook: every option of its man page is in --help" {
	check_man_in_help pve-gpu-backup-hook
}

@test "pve-gpu-backup-setup: every option of --help is in its man page" {
	check_help_in_man pve-gpu-backup-setup
}

@test "pve-gpu-backup-setup: every option of its man page is in --help" {
	check_man_in_help pve-gpu-backup-setup
}

@test "gpu-diag: every option of --help is in its man page" {
	check_help_in_man gpu-diag
}

@test "gpu-diag: every option of its man page is in --help" {
	check_man_in_help gpu-diag
}

@test "each program's --version prints its name and the package version" {
	local version name bin tested=0
	if [ "${PVE_GPU_BACKUP_INSTALLED:-0}" = 1 ]; then
		version=$(dpkg-query -W -f='${Version}' pve-gpu-backup-hook)
	else
		version=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p' "$top_builddir/config.h")
	fi
	[ -n "$version" ] || fail "cannot tell the package version"
	for name in pve-gpu-backup-hook pve-gpu-backup-setup gpu-diag; do
		bin=$(prog_path "$name")
		[ -x "$bin" ] || continue
		run "$bin" --version
		assert_success
		assert_output "$name $version"
		tested=$((tested + 1))
	done
	[ "$tested" -gt 0 ] || skip "no program is built yet"
}

@test "every man page has NAME, SYNOPSIS, DESCRIPTION and EXIT STATUS sections" {
	local spec name section page sec
	for spec in pve-gpu-backup-hook:8 pve-gpu-backup-hook.conf:5 pve-gpu-backup-setup:8 gpu-diag:8; do
		name=${spec%:*} section=${spec#*:}
		page=$(man_page "$name" "$section")
		if [ -z "$page" ] || [ ! -f "$page" ]; then
			# The wizard's and gpu-diag's pages come with their programs.
			[ "$section" = 8 ] && [ ! -x "$(prog_path "$name")" ] && continue
			fail "missing man page $name($section)"
		fi
		for sec in NAME SYNOPSIS DESCRIPTION 'EXIT STATUS'; do
			man_source "$page" | grep -qE "^\.SH +\"?$sec\"?[[:space:]]*$" ||
				fail "$page has no $sec section"
		done
	done
}

@test "every man page renders without a groff or man warning" {
	command -v man >/dev/null || skip "man is not installed"
	local spec page out
	for spec in pve-gpu-backup-hook:8 pve-gpu-backup-hook.conf:5 pve-gpu-backup-setup:8 gpu-diag:8; do
		page=$(man_page "${spec%:*}" "${spec#*:}")
		[ -n "$page" ] && [ -f "$page" ] || continue
		# The check lintian runs (groff-message).
		out=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$page" 2>&1 >/dev/null)
		[ -z "$out" ] || fail "$page: $out"
	done
}

#!/usr/bin/env bats
# Options, exit codes, the question on a terminal, colours, JSON, the report of the node.

load setup-helpers

setup() {
	make_root
	printf 'mode: snapshot\n' >"$VZ"
	cp "$VZ" "$BATS_TEST_TMPDIR/orig"
}

@test "--help prints usage to stdout and exits 0; -h too" {
	run "$SETUP" --help
	assert_success
	assert_line --index 0 "Usage: pve-gpu-backup-setup [OPTION]..."
	run "$SETUP" -h
	assert_success
}

@test "--version prints the package version" {
	run "$SETUP" --version
	assert_success
	assert_output --regexp '^pve-gpu-backup-setup [0-9]+\.[0-9]+'
	run "$SETUP" -V
	assert_success
}

@test "an unknown option or an argument: the hint, exit 2" {
	run "$SETUP" --bogus
	assert_failure 2
	assert_output --partial "Try 'pve-gpu-backup-setup --help' for more information."
	run "$SETUP" extra
	assert_failure 2
	assert_output --partial "Try 'pve-gpu-backup-setup --help'"
}

@test "the man page lists exactly the options of --help" {
	man="$top_srcdir/man/pve-gpu-backup-setup.8"
	help=$("$SETUP" --help | grep -oE -- '--[a-z-]+' | sort -u)
	page=$(sed -n '/^\.SH OPTIONS/,/^\.SH /p' "$man" | grep -oE -- '\\-\\-[a-z\\-]+' | sed 's/\\//g' | sort -u)
	[ "$help" = "$page" ]
	run grep -c '^\.SH EXIT STATUS' "$man"
	assert_output 1
}

@test "without a terminal and without --yes: the plan is shown, exit 1, nothing changed" {
	before=$(tree_sum)
	wizard
	assert_failure 1
	assert_output --partial "+$OURS"
	assert_output --partial "Not applied: no terminal to ask on"
	[ "$(tree_sum)" = "$before" ]
}

@test "on a terminal: yes applies" {
	command -v script >/dev/null || skip "script(1) not installed"
	wizard_tty y --no-color
	assert_success
	assert_output --partial "Apply these changes? [y/N]"
	assert_output --partial "Done."
	run grep -cx "$OURS" "$VZ"
	assert_output 1
}

@test "on a terminal: anything but yes declines with exit 1" {
	command -v script >/dev/null || skip "script(1) not installed"
	before=$(tree_sum)
	wizard_tty n --no-color
	assert_failure 1
	assert_output --partial "Not applied."
	[ "$(tree_sum)" = "$before" ]
}

@test "colours only on a terminal and not with --no-color" {
	command -v script >/dev/null || skip "script(1) not installed"
	printf '%s\n' "$OURS" >"$VZ"
	wizard_tty n
	assert_output --partial $'\e['
	wizard_tty n --no-color
	refute_output --partial $'\e['
	run "$SETUP" </dev/null
	refute_output --partial $'\e['
}

@test "--json: one JSON document with the plan and the result" {
	printf 'script: /root/h.sh\n' >"$VZ"
	fake_gpu 0000:01:00.0 10de 2204 vfio-pci 12
	run "$SETUP" --json --dry-run
	assert_success
	echo "$output" | jq -e '.result == "dry-run" and .vzdump_conf.found == "other" and .vzdump_conf.chain == "/root/h.sh"'
	echo "$output" | jq -e '.gpus[0].pci_addr == "0000:01:00.0" and .gpus[0].driver == "vfio-pci" and .gpus[0].iommu_group == "12"'
	run "$SETUP" -j </dev/null
	assert_failure 1
	echo "$output" | jq -e '.result == "declined"'
}

@test "GPUs are listed with names from pci.ids, driver and IOMMU group" {
	fake_gpu 0000:01:00.0 10de 2204 vfio-pci 12
	fake_gpu 0000:00:02.0 8086 3e92 i915 1
	with_pci_ids
	wizard --dry-run
	assert_success
	assert_output --partial "0000:00:02.0  Intel Corporation"
	assert_output --partial "0000:01:00.0  NVIDIA Corporation GA102 [GeForce RTX 3090] [10de:2204]"
	assert_output --partial "driver vfio-pci, IOMMU group 12"
	assert_output --partial "driver i915, IOMMU group 1"
}

@test "a missing pci.ids: ids instead of names, and a hint" {
	fake_gpu 0000:01:00.0 10de 2204 - -
	wizard --dry-run
	assert_success
	assert_output --partial "0000:01:00.0  [10de:2204]"
	assert_output --partial "pci.ids is missing"
	assert_output --partial "driver none, IOMMU group none"
}

@test "a failed write of standard output is an error" {
	run sh -c '"$1" --help >/dev/full' _ "$SETUP"
	assert_failure 2
	assert_output --partial "cannot write to standard output"
}

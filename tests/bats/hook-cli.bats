#!/usr/bin/env bats
# The hook called by hand: `plan <vmid>` (output, exit codes, changes nothing),
# an unknown phase (a future vzdump) exits 0 and is logged, a malformed call
# prints usage and exits 2.

load hook-helpers

setup() {
	hook_setup
	hook_conf 'shutdown-timeout: 2'
	win_and_gaming
	sim_add_vm "$R" 107 name=plain
	record_calls
}

teardown() { hook_teardown; }

@test "plan: the holder it would park, exit 0, nothing changed" {
	run hook plan 102
	assert_success
	assert_output "backup-start of VM 102 needs 0000:05:00.0 0000:05:00.1
  would park VM 104 (gaming) (holds 0000:05:00.0): shutdown, timeout 2 s"
	run calls
	assert_output ""
	[ "$(sim_vm_state "$R" 104)" = running ]
	[ ! -e "$R/var/lib/pve-gpu-backup-hook/parked" ]
}

@test "plan --json: the same decision as JSON" {
	run hook plan --json 102
	assert_success
	run jq -c '[.vmid, .action, .needed, [.holders[] | [.vmid, .device, .ha, .blocked]], .restore]' <<<"$output"
	assert_success
	assert_output '[102,"park",["0000:05:00.0","0000:05:00.1"],[[104,"0000:05:00.0",false,null]],[]]'
}

@test "plan: a running VM, a VM without devices, a blocked holder, no such guest" {
	run hook plan 104
	assert_success
	assert_output "backup-start of 104: nothing to do: VM 104 is running and keeps its own devices"
	run hook plan 107
	assert_success
	assert_output "backup-start of 107: nothing to do: VM 107 uses no PCI device"
	hook_conf 'protect: 104'
	run hook plan 102
	assert_failure 1
	assert_line "  cannot park VM 104 (holds 0000:05:00.0): VM 104 is listed in 'protect'"
	assert_line "the backup of VM 102 would fail"
	run hook plan 999
	assert_failure 1
	assert_output "pve-gpu-backup-hook: no guest 999 on node pve1"
	run calls
	assert_output ""
}

@test "plan: which parked guests the backup would restore or keep" {
	nvidia_gpu 06 15
	sim_add_vm "$R" 103 name=other hostpci0=0000:06:00,pcie=1
	run "$VZDUMP" 102 --mode stop --kill-after backup-start:102
	assert_failure 137
	[ "$(sim_vm_state "$R" 104)" = stopped ]
	run hook plan 103
	assert_success
	assert_line "  would restore VM 104 (parked for VM 102)"
	sim_add_vm "$R" 105 name=same hostpci0=0000:05:00.0
	run hook plan 105
	assert_success
	assert_line "  would keep parked VM 104 (parked for VM 102)"
	hook_conf 'shutdown-timeout: 2' 'restore: job-end'
	run hook plan 103
	assert_line "  would keep parked VM 104 (parked for VM 102)"
	[ "$(sim_vm_state "$R" 104)" = stopped ]
	[ "$(parked_vmids)" = 104 ]
}

@test "plan: a malformed call is a usage error (exit 2); a bad config exit 1" {
	run hook plan
	assert_failure 2
	assert_line "Try 'pve-gpu-backup-hook --help' for more information."
	run hook plan abc
	assert_failure 2
	assert_line "pve-gpu-backup-hook: invalid VMID 'abc'"
	run hook plan 102 103
	assert_failure 2
	run hook plan --frobnicate 102
	assert_failure 2
	run hook plan --help
	assert_success
	assert_line --partial "Usage: pve-gpu-backup-hook plan"
	hook_conf 'restore: sometimes'
	run hook plan 102
	assert_failure 1
	assert_line --regexp "^pve-gpu-backup-hook: /etc/pve-gpu-backup-hook.conf:1: .*"
}

@test "an unknown phase (a future vzdump) exits 0 and is logged" {
	run hook job-frobnicate
	assert_success
	assert_output "unknown phase 'job-frobnicate': nothing to do"
	run hook backup-verify stop 102
	assert_success
	assert_output "unknown phase 'backup-verify': nothing to do"
	grep -q "unknown phase 'backup-verify'" "$R/var/log/pve-gpu-backup-hook.log"
	# a guest phase of a newer vzdump need not start like today's
	run hook fleecing-cleanup snapshot 102
	assert_success
	assert_output "unknown phase 'fleecing-cleanup': nothing to do"
	run calls
	assert_output ""
}

@test "a malformed phase call prints usage and exits 2" {
	for args in "backup-start" "backup-start stop" "backup-start stop abc" "backup-start park 102" \
		"backup-start stop 99" "job-start extra" "log-end stop 102 extra" "frobnicate" "--frobnicate"; do
		# shellcheck disable=SC2086
		run hook $args
		[ "$status" -eq 2 ] || { echo "'$args' exited $status"; false; }
		assert_line "Try 'pve-gpu-backup-hook --help' for more information."
	done
	run hook
	assert_failure 2
	run calls
	assert_output ""
	[ "$(sim_vm_state "$R" 104)" = running ]
}

@test "phases that never act exit 0 at once, also for the guest being backed up" {
	for p in pre-stop pre-restart post-restart backup-end backup-abort log-end; do
		run hook "$p" stop 102
		assert_success
		assert_output ""
	done
	run hook job-init
	assert_success
	assert_output ""
	run calls
	assert_output ""
}

#!/usr/bin/env bats
# Where no backup would fail the hook does nothing ("Done when" 4): a running
# VM in any mode, a template, a VM without PCI devices, a container. Nothing
# parked, no qm/pct/ha-manager run (the doubles record every call), no state
# file written, no log line.

load hook-helpers

setup() {
	hook_setup
	hook_conf 'shutdown-timeout: 1'
	nvidia_gpu 05 14
	sim_add_vm "$R" 104 name=gaming hostpci0=0000:05:00,pcie=1 running=1
	record_calls
}

teardown() { hook_teardown; }

# nothing_done: no call, no park, 104 untouched, no file of the hook's.
nothing_done() {
	run calls
	assert_output ""
	[ ! -e "$R/var/lib/pve-gpu-backup-hook" ]
	[ ! -s "$R/var/log/pve-gpu-backup-hook.log" ]   # job-start may create it, says nothing
	[ "$(sim_vm_state "$R" 104)" = running ]
	[ "$(count_events '104 shutdown-request')" = 0 ]
	[ "$(count_events '104 stop')" = 0 ]
}

@test "snapshot mode of the running VM that holds the GPU" {
	run "$VZDUMP" 104 --mode snapshot
	assert_success
	assert_line "TASK OK"
	assert_line "INFO: backup mode: snapshot"
	run hook_runs
	assert_output "job-init 0
job-start 0
backup-start snapshot 104 0
pre-stop snapshot 104 0
pre-restart snapshot 104 0
post-restart snapshot 104 0
backup-end snapshot 104 0
log-end snapshot 104 0
job-end 0"
	nothing_done
}

@test "suspend and stop mode of the running holder: it keeps its own GPU" {
	run "$VZDUMP" 104 --mode suspend
	assert_success
	run "$VZDUMP" 104 --mode stop
	assert_success
	assert_line "INFO: backup mode: stop"
	run hook_runs
	assert_line "backup-start stop 104 0"
	assert_line "pre-stop stop 104 0"
	run calls
	assert_output ""
	[ ! -e "$R/var/lib/pve-gpu-backup-hook" ]
	# vzdump's own shutdown and paused restart, nothing of the hook's
	[ "$(sim_vm_state "$R" 104)" = running ]
	[ "$(count_events '104 shutdown-request')" = 1 ]
}

@test "a template with the GPU in its config" {
	sim_add_vm "$R" 106 name=tpl template=1 hostpci0=0000:05:00,pcie=1
	run "$VZDUMP" 106 --mode stop
	assert_success
	assert_line "TASK OK"
	run hook_runs
	assert_line "backup-start stop 106 0"
	nothing_done
	run hook plan 106
	assert_success
	assert_output "backup-start of 106: nothing to do: VM 106 is a template: its backup start uses no PCI device"
}

@test "a stopped VM without PCI devices" {
	sim_add_vm "$R" 107 name=plain machine=q35
	run "$VZDUMP" 107 --mode stop
	assert_success
	assert_line "TASK OK"
	run hook_runs
	assert_line "backup-start stop 107 0"
	nothing_done
	run hook plan 107
	assert_success
	assert_output "backup-start of 107: nothing to do: VM 107 uses no PCI device"
}

@test "a stopped container and a running one" {
	sim_add_ct "$R" 200 hostname=ct200
	sim_add_ct "$R" 201 hostname=ct201 running=1
	: >"$R/var/lib/sim/calls"
	run "$VZDUMP" 200 201 --mode snapshot
	assert_success
	assert_line "TASK OK"
	run hook_runs
	assert_line "backup-start stop 200 0"
	assert_line "backup-start snapshot 201 0"
	nothing_done
}

@test "a stopped VM whose devices are free: no guest touched, nothing written" {
	sim_add_vm "$R" 108 name=other hostpci0=0000:06:00.0
	sim_add_pci "$R" 0000:06:00.0 10de 2204 030000 15 vfio-pci nvidia
	run "$VZDUMP" 108 --mode stop
	assert_success
	run hook_runs
	assert_line "backup-start stop 108 0"
	run calls
	assert_output ""
	[ ! -e "$R/var/lib/pve-gpu-backup-hook/parked" ] || [ ! -s "$R/var/lib/pve-gpu-backup-hook/parked" ]
	[ "$(count_events '104 shutdown-request')" = 0 ]
}

@test "after a park and restore cycle the no-op path still returns at once, nothing read or locked" {
	sim_add_vm "$R" 102 name=win11 hostpci0=0000:05:00,pcie=1
	run "$VZDUMP" 102 --mode stop
	assert_success
	[ "$(sim_vm_state "$R" 104)" = running ]
	run parked_vmids
	assert_output ""
	# another hook (a long recover, a job mid-restore) holds the state lock
	exec 9>"$R/var/lib/pve-gpu-backup-hook/lock"
	flock -n 9
	: >"$R/var/log/pve-gpu-backup-hook.log"
	run timeout 5 "$HOOK" backup-start snapshot 104
	exec 9>&-
	assert_success
	assert_output ""
	[ ! -s "$R/var/log/pve-gpu-backup-hook.log" ]
}

#!/usr/bin/env bats
# Issue 4, end to end: the card cannot be handed back after the VM's backup.

load ct-helpers

setup() {
	ct_setup
	igpu
	sim_add_ct "$R" 201 hostname=plex dev0=/dev/dri/renderD128 running=1
	sim_add_ct "$R" 202 hostname=jellyfin dev0=/dev/dri/renderD128 running=1
	sim_add_vm "$R" 102 name=win hostpci0=0000:00:02.0
	sim_add_vm "$R" 103 name=linux hostpci0=0000:00:02.0
	: >"$R/var/lib/sim/events"
}

teardown() {
	ct_teardown
}

@test "a refused bind is reported with device and file, no container starts blind, job-end fails, recover retries" {
	# once the VM's backup is done, the kernel refuses to bind the iGPU
	chain_do backup-end:102 "echo bind >'$R/sys/bus/pci/devices/0000:00:02.0/.sim/refuse'"
	vzdump 102 --mode stop
	assert_failure 255
	assert_line "INFO: error: CT 201: 0000:00:02.0: cannot write '/sys/bus/pci/drivers/i915/bind': Operation not permitted"
	assert_line --regexp "^INFO: error: CT 201 stays parked: its card could not be handed back to the host driver"
	assert_line "INFO: error: 2 parked guests could not be restored: run 'pve-gpu-backup-hook recover' once the cause is fixed"
	assert_line "INFO: error: CT 202 stays parked: its card 0000:00:02.0 could not be handed back to the host driver (see above)"
	refute_line "INFO: restoring CT 201 (parked for the backup of VM 102)"
	assert_line --regexp "^ERROR: Backup job failed - command '.*pve-gpu-backup-hook job-end' failed: exit code 1"
	# the card's failure is told once per run (job-end, then job-abort), not once per container
	run grep -c "cannot write '/sys/bus/pci/drivers/i915/bind'" <<<"$output"
	assert_output 2
	run hook_runs
	assert_output "job-init 0
job-start 0
backup-start stop 102 0
backup-end stop 102 0
log-end stop 102 0
job-end 1
job-abort 1"
	# not started blind: both stay down, recorded as restore-failed
	[ "$(sim_ct_state "$R" 201)" = stopped ] && [ "$(sim_ct_state "$R" 202)" = stopped ]
	run sim_events "$R"
	refute_line "201 start"
	refute_line "202 start"
	[ ! -e "$R/dev/dri/renderD128" ]
	run parked
	assert_line --regexp "^vmid=201 type=lxc state=restore-failed for=102 .*driver=0000:00:02.0=i915"
	assert_line --regexp "^vmid=202 type=lxc state=restore-failed for=102 "
	run kernel "$HOOK" status
	assert_line --regexp "^  CT 201 for the backup of VM 102, restore-failed"

	# the cause is fixed: recover hands the card back and starts both
	rm "$R/sys/bus/pci/devices/0000:00:02.0/.sim/refuse"
	hook recover
	assert_success
	assert_line "CT 201: 0000:00:02.0: no driver -> i915"
	assert_line "CT 201 is running again"
	assert_line "CT 202 is running again"
	[ "$(sim_ct_state "$R" 201)" = running ] && [ "$(sim_ct_state "$R" 202)" = running ]
	[ "$(driver_of 0000:00:02.0)" = i915 ]
	[ -z "$(parked)" ]
}

@test "a VM started meanwhile holds the card at restore time: the containers are left alone, the hook says so" {
	# someone starts VM 103 with the iGPU once VM 102's backup is done
	chain_do backup-end:102 "'$R/usr/sbin/qm' start 103 >/dev/null 2>&1"
	vzdump 102 --mode stop
	assert_failure 255
	[ "$(sim_vm_state "$R" 103)" = running ]
	assert_line "INFO: warning: CT 201 stays parked: 0000:00:02.0 is held by VM 103 now; start it with 'pct start 201' once that is free"
	assert_line "INFO: warning: CT 202 stays parked: 0000:00:02.0 is held by VM 103 now; start it with 'pct start 202' once that is free"
	[ "$(sim_ct_state "$R" 201)" = stopped ] && [ "$(sim_ct_state "$R" 202)" = stopped ]
	assert_line "INFO: error: 2 parked guests could not be restored: run 'pve-gpu-backup-hook recover' once the cause is fixed"
	run hook_runs
	assert_line "backup-start stop 102 0"
	assert_line "job-end 1"
	# nothing was taken from the running VM
	[ "$(driver_of 0000:00:02.0)" = vfio-pci ]
	run sim_events "$R"
	refute_line "unbind 0000:00:02.0 vfio-pci"
	# the containers come back once the VM is gone
	run kernel "$QM" stop 103
	hook recover
	assert_success
	assert_line "CT 201 is running again"
	[ "$(sim_ct_state "$R" 201)" = running ] && [ "$(sim_ct_state "$R" 202)" = running ]
	[ "$(driver_of 0000:00:02.0)" = i915 ]
}

@test "a /dev/dri directory bind waits for the card's own nodes: not there, the container stays parked" {
	kernel "$PCT" stop 201 && kernel "$PCT" stop 202
	sim_add_ct "$R" 203 hostname=frigate "lxc.mount.entry=/dev/dri dev/dri none bind,optional,create=dir" running=1
	: >"$R/var/lib/sim/events"
	# udev never makes the render node again (the driver's sysfs entries come back)
	chain_do backup-end:102 "ln -s /nonexistent/renderD128 '$R/dev/dri/renderD128'"
	vzdump 102 --mode stop
	assert_failure 255
	assert_line "INFO: CT 203: 0000:00:02.0: vfio-pci -> i915"
	assert_line "INFO: error: CT 203 stays parked: /dev/dri/renderD128 did not come back after the rebind"
	[ "$(driver_of 0000:00:02.0)" = i915 ]
	[ "$(sim_ct_state "$R" 203)" = stopped ]
	run sim_events "$R"
	refute_line "203 start"
	# the node is there again: recover starts it
	rm "$R/dev/dri/renderD128" && : >"$R/dev/dri/renderD128"
	hook recover
	assert_success
	assert_line "CT 203 is running again"
}

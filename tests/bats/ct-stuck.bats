#!/usr/bin/env bats
# Issue 4, end to end: a container that does not shut down in time.

load ct-helpers

setup() {
	ct_setup
	hook_conf "shutdown-timeout: 1" "force-stop: 0"
	igpu
	sim_add_ct "$R" 201 hostname=plex dev0=/dev/dri/renderD128 running=1
	sim_add_ct "$R" 202 hostname=jellyfin dev0=/dev/dri/renderD128 running=1
	sim_add_vm "$R" 102 name=win hostpci0=0000:00:02.0
	sim_knob "$R" 202 ignore-acpi 1
	: >"$R/var/lib/sim/events"
}

teardown() {
	ct_teardown
}

@test "force-stop: 0: the VM's backup fails with a clear line, the containers keep running, nothing is unbound" {
	vzdump 102 --mode stop
	assert_failure 255
	assert_line "INFO: parking CT 202 (jellyfin), which holds 0000:00:02.0: shutdown, timeout 1 s"
	assert_line "INFO: error: CT 202 holds 0000:00:02.0 and did not shut down within 1 s; not backing up VM 102 (set force-stop: 1 to power it off)"
	assert_line --regexp "^ERROR: Backup of VM 102 failed - command '.*pve-gpu-backup-hook backup-start stop 102' failed: exit code 1$"
	# 201 had been parked already: it is given back at once
	assert_line "INFO: restoring CT 201 (parked for the backup of VM 102)"
	assert_line "INFO: CT 201 is running again"
	refute_line "INFO: starting kvm to execute backup task"
	run hook_runs
	assert_output "job-init 0
job-start 0
backup-start stop 102 1
backup-abort stop 102 0
log-end stop 102 0
job-end 0"
	[ "$(sim_ct_state "$R" 201)" = running ] && [ "$(sim_ct_state "$R" 202)" = running ]
	[ "$(sim_vm_state "$R" 102)" = stopped ]
	[ "$(driver_of 0000:00:02.0)" = i915 ] && [ -e "$R/dev/dri/renderD128" ]
	run binds
	assert_output ""
	[ -z "$(parked)" ]
}

@test "force-stop: 1: the container is powered off after the timeout and the backup goes on" {
	hook_conf "shutdown-timeout: 1" "force-stop: 1"
	vzdump 102 --mode stop
	assert_success
	assert_line "INFO: parking CT 202 (jellyfin), which holds 0000:00:02.0: shutdown, timeout 1 s, then power off"
	assert_line "INFO: CT 202 is running again"
	[ "$(sim_ct_state "$R" 201)" = running ] && [ "$(sim_ct_state "$R" 202)" = running ]
	[ "$(driver_of 0000:00:02.0)" = i915 ]
}

@test "a protected or locked container: the VM's backup is refused and nothing is touched" {
	sim_knob "$R" 202 ignore-acpi ""
	hook_conf "shutdown-timeout: 1" "protect: 201"
	vzdump 102 --mode stop
	assert_failure 255
	assert_line "INFO: error: CT 201 holds 0000:00:02.0 and may not be touched (CT 201 is listed in 'protect'); not backing up VM 102"
	hook_conf "shutdown-timeout: 1"
	echo "lock: mounted" >>"$R/etc/pve/lxc/202.conf"
	vzdump 102 --mode stop
	assert_failure 255
	assert_line "INFO: error: CT 202 holds 0000:00:02.0 and may not be touched (CT 202 is locked (mounted)); not backing up VM 102"
	refute_line --partial "parking"
	[ "$(sim_ct_state "$R" 201)" = running ] && [ "$(sim_ct_state "$R" 202)" = running ]
	run sim_events "$R"
	assert_output ""
	[ "$(driver_of 0000:00:02.0)" = i915 ]
}

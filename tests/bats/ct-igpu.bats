#!/usr/bin/env bats
# Issue 4, end to end: two containers share the Intel iGPU through
# dev0: /dev/dri/renderD128; a stopped VM passes the same iGPU through.

load ct-helpers

setup() {
	ct_setup
	igpu
	sim_add_ct "$R" 201 hostname=plex dev0=/dev/dri/renderD128,gid=104 running=1
	sim_add_ct "$R" 202 hostname=jellyfin dev0=/dev/dri/renderD128,gid=104 running=1
	sim_add_vm "$R" 102 name=win hostpci0=0000:00:02.0,pcie=1
	: >"$R/var/lib/sim/events"
}

teardown() {
	ct_teardown
}

@test "backing up the VM parks both containers, the card goes back to i915, both run again" {
	vzdump 102 --mode stop
	assert_success
	assert_line "INFO: VM 102 is stopped and its backup start needs 0000:00:02.0, held by 2 running guests"
	assert_line "INFO: parking CT 201 (plex), which holds 0000:00:02.0: shutdown, timeout 2 s"
	assert_line "INFO: parking CT 202 (jellyfin), which holds 0000:00:02.0: shutdown, timeout 2 s"
	assert_line "INFO: starting kvm to execute backup task"
	assert_line --regexp "^INFO: Finished Backup of VM 102 "
	assert_line "INFO: CT 201: 0000:00:02.0: vfio-pci -> i915"
	assert_line "INFO: restoring CT 201 (parked for the backup of VM 102)"
	assert_line "INFO: CT 201 is running again"
	assert_line "INFO: CT 202 is running again"
	assert_line "TASK OK"
	run hook_runs
	assert_output "job-init 0
job-start 0
backup-start stop 102 0
backup-end stop 102 0
log-end stop 102 0
job-end 0"
	[ "$(sim_ct_state "$R" 201)" = running ]
	[ "$(sim_ct_state "$R" 202)" = running ]
	[ "$(sim_vm_state "$R" 102)" = stopped ]
	[ "$(driver_of 0000:00:02.0)" = i915 ]
	[ -e "$R/dev/dri/renderD128" ] && [ -e "$R/dev/dri/card0" ]
	[ "$(cat "$R/sys/bus/pci/devices/0000:00:02.0/driver_override")" = "(null)" ]
	[ -z "$(parked)" ]
	# the containers were down before the VM took the card, and started after it came back
	run sim_events "$R"
	assert_output --regexp "201 stop.*202 stop.*unbind 0000:00:02.0 i915.*bind 0000:00:02.0 vfio-pci.*102 start paused.*102 stop prelaunch.*unbind 0000:00:02.0 vfio-pci.*bind 0000:00:02.0 i915.*201 start.*202 start"
}

@test "two VMs with the iGPU in one job: the containers stay parked between them and come back once" {
	sim_add_vm "$R" 103 name=linux hostpci0=0000:00:02.0
	vzdump 102 103 --mode stop
	assert_success
	assert_line "INFO: CT 201 stays parked: VM 103 needs its device"
	run hook_runs
	refute_output --regexp " [1-9][0-9]*$"
	[ "$(sim_ct_state "$R" 201)" = running ] && [ "$(sim_ct_state "$R" 202)" = running ]
	[ "$(driver_of 0000:00:02.0)" = i915 ]
	# parked once, started once, after the second VM's backup
	run sim_events "$R"
	assert_output --regexp "103 stop prelaunch.*201 start"
	[ "$(grep -c '^201 start$' <<<"$output")" = 1 ]
	[ "$(grep -c '^201 shutdown-request$' <<<"$output")" = 1 ]
}

@test "restore early: a later guest of the job that needs no GPU gives the containers back before its own backup" {
	sim_add_vm "$R" 105 name=plain
	vzdump 102 105 --mode stop
	assert_success
	[ "$(sim_ct_state "$R" 201)" = running ] && [ "$(sim_ct_state "$R" 202)" = running ]
	run sim_events "$R"
	assert_output --regexp "102 stop prelaunch.*bind 0000:00:02.0 i915.*201 start.*202 start"
	# given back in 105's backup-start, not at job-end
	run cat "$R/var/log/vzdump/qemu-105.log"
	assert_output --partial "CT 201 is running again"
}

@test "the VM and a container using the card in one job: the container is backed up parked, then started" {
	vzdump 102 201 --mode snapshot
	assert_success
	assert_line "INFO: Starting Backup of VM 201 (lxc)"
	run hook_runs
	assert_line "backup-start stop 201 0"
	refute_output --regexp " [1-9][0-9]*$"
	[ "$(sim_ct_state "$R" 201)" = running ] && [ "$(sim_ct_state "$R" 202)" = running ]
	[ "$(driver_of 0000:00:02.0)" = i915 ]
	[ -z "$(parked)" ]
}

@test "a container binding the whole /dev/dri directory is parked and gets its nodes back" {
	sim_add_ct "$R" 203 hostname=frigate "lxc.cgroup2.devices.allow=c 226:* rwm" \
		"lxc.mount.entry=/dev/dri dev/dri none bind,optional,create=dir" running=1
	: >"$R/var/lib/sim/events"
	vzdump 102 --mode stop
	assert_success
	assert_line "INFO: parking CT 203 (frigate), which holds 0000:00:02.0: shutdown, timeout 2 s"
	assert_line "INFO: CT 203 is running again"
	[ "$(sim_ct_state "$R" 203)" = running ]
	[ -e "$R/dev/dri/renderD128" ]
	run sim_events "$R"
	assert_output --regexp "bind 0000:00:02.0 i915.*203 start"
}

@test "a GVT-g VM (classic mdev) keeps the iGPU on i915: the containers are not parked" {
	sim_add_vm "$R" 103 name=gvt hostpci0=0000:00:02.0,mdev=i915-GVTg_V5_4
	hook plan 103
	assert_success
	refute_output --partial "would park"
	vzdump 103 --mode stop
	assert_success
	assert_line "TASK OK"
	refute_line --partial "parking"
	[ "$(sim_ct_state "$R" 201)" = running ] && [ "$(sim_ct_state "$R" 202)" = running ]
	[ "$(driver_of 0000:00:02.0)" = i915 ]
	run sim_events "$R"
	refute_output --regexp "20[12] (stop|shutdown)"
	[ -z "$(parked)" ]
}

#!/usr/bin/env bats
# Issue 4, end to end: a container's own backup never needs its GPU (vzdump
# does not start a stopped container): nothing is parked, whatever the mode.

load ct-helpers

setup() {
	ct_setup
	igpu
	sim_add_ct "$R" 201 hostname=plex dev0=/dev/dri/renderD128 running=1
	sim_add_ct "$R" 202 hostname=jellyfin dev0=/dev/dri/renderD128 running=1
	sim_add_ct "$R" 203 hostname=tdarr dev0=/dev/dri/renderD128
	sim_add_vm "$R" 102 name=win hostpci0=0000:00:02.0
	: >"$R/var/lib/sim/events"
}

teardown() {
	ct_teardown
}

# own_backup MODE: back up the running 201 and the stopped 203; 202 shares the card.
own_backup() {
	vzdump 201 203 --mode "$1"
	assert_success
	assert_line "TASK OK"
	refute_line --partial "parking"
	refute_line --partial "restoring"
	run hook_runs
	assert_line "backup-start $1 201 0"
	assert_line "backup-start stop 203 0"
	assert_line "job-end 0"
	# every phase of every guest exited 0
	refute_output --regexp " [1-9][0-9]*$"
	[ "$(sim_ct_state "$R" 201)" = running ] && [ "$(sim_ct_state "$R" 202)" = running ]
	[ "$(sim_ct_state "$R" 203)" = stopped ]
	[ "$(driver_of 0000:00:02.0)" = i915 ]
	run binds
	assert_output ""
	# the other container sharing the card was never touched
	[ -z "$(sim_events "$R" | grep '^202 ')" ]
	[ -z "$(parked)" ]
	[ ! -e "$R/var/log/pve-gpu-backup-hook.log" ] || ! grep -q park "$R/var/log/pve-gpu-backup-hook.log"
}

@test "snapshot mode: nothing parked" {
	own_backup snapshot
}

@test "suspend mode: nothing parked" {
	own_backup suspend
}

@test "stop mode: vzdump stops and starts the container itself; the hook parks nothing" {
	own_backup stop
	run sim_events "$R"
	assert_output "201 shutdown-request
201 stop
201 start"
}

#!/usr/bin/env bats
# Issue 4, end to end: containers share an NVIDIA card (VGA + audio in one
# IOMMU group) through lxc.mount.entry binds of /dev/nvidia0 and cgroup rules
# for major 195; a stopped VM passes the card through.

load ct-helpers

setup() {
	ct_setup
	nvidia_card
	sim_add_ct "$R" 211 hostname=ollama "lxc.cgroup2.devices.allow=c 195:* rwm" \
		"lxc.mount.entry=/dev/nvidia0 dev/nvidia0 none bind,optional,create=file" \
		"lxc.mount.entry=/dev/nvidiactl dev/nvidiactl none bind,optional,create=file" running=1
	sim_add_ct "$R" 212 hostname=frigate "lxc.cgroup.devices.allow=c 195:* rwm" \
		"lxc.mount.entry=/dev/nvidia0 dev/nvidia0 none bind,create=file" running=1
	# only the VGA function is listed: Proxmox still moves the whole group
	sim_add_vm "$R" 104 name=gaming hostpci0=0000:05:00.0,pcie=1,x-vga=1
	: >"$R/var/lib/sim/events"
}

teardown() {
	ct_teardown
}

@test "both containers are parked and restored; VGA and audio return to their own drivers" {
	vzdump 104 --mode stop
	assert_success
	assert_line "INFO: VM 104 is stopped and its backup start needs 0000:05:00.0 0000:05:00.1, held by 2 running guests"
	assert_line "INFO: parking CT 211 (ollama), which holds 0000:05:00.0: shutdown, timeout 2 s"
	assert_line "INFO: parking CT 212 (frigate), which holds 0000:05:00.0: shutdown, timeout 2 s"
	assert_line "INFO: CT 211: 0000:05:00.0: vfio-pci -> nvidia"
	assert_line "INFO: CT 211: 0000:05:00.1: vfio-pci -> snd_hda_intel"
	assert_line "INFO: CT 211 is running again"
	assert_line "INFO: CT 212 is running again"
	assert_line "TASK OK"
	run hook_runs
	assert_output "job-init 0
job-start 0
backup-start stop 104 0
backup-end stop 104 0
log-end stop 104 0
job-end 0"
	[ "$(driver_of 0000:05:00.0)" = nvidia ]
	[ "$(driver_of 0000:05:00.1)" = snd_hda_intel ]
	[ -e "$R/dev/nvidia0" ] && [ -e "$R/proc/driver/nvidia/gpus/0000:05:00.0/information" ]
	[ "$(sim_ct_state "$R" 211)" = running ] && [ "$(sim_ct_state "$R" 212)" = running ]
	# the optional bind did not start the container without its GPU
	grep -qx /dev/nvidia0 "$R/var/lib/sim/ct-211.devices"
	grep -qx /dev/nvidia0 "$R/var/lib/sim/ct-212.devices"
	[ -z "$(parked)" ]
	# Proxmox's dynamic ids are gone: a probe would not hand the card back to vfio-pci
	run cat "$R/sys/bus/pci/drivers/vfio-pci/.sim_ids"
	refute_output --partial "10de 2204"
	refute_output --partial "10de 1aef"
	run binds
	assert_output "unbind 0000:05:00.0 nvidia
bind 0000:05:00.0 vfio-pci
unbind 0000:05:00.1 snd_hda_intel
bind 0000:05:00.1 vfio-pci
unbind 0000:05:00.0 vfio-pci
bind 0000:05:00.0 nvidia
unbind 0000:05:00.1 vfio-pci
bind 0000:05:00.1 snd_hda_intel"
}

@test "a function that had no host driver before is left where Proxmox put it" {
	# the audio function had no host driver bound when the containers were parked
	: >"$R/var/lib/sim/events"
	kernel sh -c "echo 0000:05:00.1 >'$R/sys/bus/pci/drivers/snd_hda_intel/unbind'"
	[ "$(driver_of 0000:05:00.1)" = none ]
	vzdump 104 --mode stop
	assert_success
	assert_line "INFO: CT 211 is running again"
	[ "$(driver_of 0000:05:00.0)" = nvidia ]
	# it had no host driver to go back to: no driver is guessed for it
	[ "$(driver_of 0000:05:00.1)" = vfio-pci ]
	refute_line --partial "0000:05:00.1: vfio-pci ->"
}

@test "a VM started meanwhile with only the audio function holds the group: the containers stay parked" {
	sim_add_vm "$R" 105 name=audio hostpci0=0000:05:00.1
	chain_do backup-end:104 "'$R/usr/sbin/qm' start 105 >/dev/null 2>&1"
	vzdump 104 --mode stop
	assert_failure 255
	[ "$(sim_vm_state "$R" 105)" = running ]
	assert_line "INFO: warning: CT 211: 0000:05:00.0: left on vfio-pci: VM 105 holds 0000:05:00.1"
	assert_line "INFO: warning: CT 211 stays parked: VM 105 holds its card's IOMMU group now; start it with 'pct start 211' once that is free"
	assert_line "INFO: warning: CT 212 stays parked: VM 105 holds its card's IOMMU group now; start it with 'pct start 212' once that is free"
	[ "$(sim_ct_state "$R" 211)" = stopped ] && [ "$(sim_ct_state "$R" 212)" = stopped ]
	[ "$(driver_of 0000:05:00.0)" = vfio-pci ] && [ "$(driver_of 0000:05:00.1)" = vfio-pci ]
	run sim_events "$R"
	refute_line "unbind 0000:05:00.0 vfio-pci"
	refute_line "unbind 0000:05:00.1 vfio-pci"
}

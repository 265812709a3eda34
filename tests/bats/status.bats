#!/usr/bin/env bats
# `pve-gpu-backup-hook status`: what a user sees for fake nodes built here.

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load
load fakenode
load helpers

hook() { "$(prog_path pve-gpu-backup-hook)" "$@"; }

setup() {
	export PVE_GPU_BACKUP_ROOT=$BATS_TEST_TMPDIR/root
	fake_node pve1
}

# A GPU (two functions, group 14) for VMs, an iGPU and an NVIDIA card used by a CT.
gpu_node() {
	fake_pci 0000:01:00.0 14 vfio-pci
	fake_pci 0000:01:00.1 14 vfio-pci 0x10de 0x1aef 0x040300
	fake_pci 0000:00:02.0 0 i915 0x8086 0x46a6
	fake_drm card0 0000:00:02.0
	fake_drm renderD128 0000:00:02.0
	fake_pci 0000:02:00.0 15 nvidia
	fake_nvidia 0000:02:00.0 0
	fake_vm 101 <<-'EOF'
	name: win11
	hostpci0: 0000:01:00,pcie=1,x-vga=1
	EOF
	fake_vm 102 <<-'EOF'
	name: linux
	hostpci1: mapping=gpu
	hostpci0: 01:00.0,pcie=1
	EOF
	fake_ct 200 <<-'EOF'
	hostname: plex
	lxc.cgroup2.devices.allow: c 226:* rwm
	lxc.cgroup2.devices.allow: c 195:* rwm
	lxc.mount.entry: /dev/dri dev/dri none bind,optional,create=dir
	lxc.mount.entry: /dev/nvidia0 dev/nvidia0 none bind,optional,create=file
	lxc.mount.entry: /dev/nvidiactl dev/nvidiactl none bind,optional,create=file
	EOF
	printf 'gpu\n\tmap id=10de:2204,node=pve1,path=0000:02:00.0\n' | fake_mapping
	fake_running_vm 101 4242
	fake_running_ct 200
	fake_reservation "0000:01:00.0 101 pid:4242" "0000:01:00.1 101 pid:4242"
}

json() { hook status --json > "$BATS_TEST_TMPDIR/out.json" && jq -c "$@" "$BATS_TEST_TMPDIR/out.json"; }

@test "--help prints usage to stdout and exits 0" {
	run hook --help
	assert_success
	assert_output --partial "Usage: pve-gpu-backup-hook COMMAND"
	assert_output --partial "status"
	run hook status --help
	assert_success
	assert_output --partial "--json"
}

@test "--version prints the package version" {
	run hook --version
	assert_success
	assert_output --regexp '^pve-gpu-backup-hook [0-9]+\.[0-9]+'
}

@test "an unknown command, option or no command is a usage error (exit 2)" {
	run hook frobnicate
	assert_failure 2
	assert_output --partial "pve-gpu-backup-hook: unknown command 'frobnicate'"
	assert_output --partial "Try 'pve-gpu-backup-hook --help' for more information."
	run hook status --bogus
	assert_failure 2
	assert_output --partial "Try 'pve-gpu-backup-hook --help'"
	run hook
	assert_failure 2
	run hook status extra
	assert_failure 2
}

@test "guests, devices in config order, mappings resolved, device nodes, running" {
	gpu_node
	run json '.node'
	assert_output '"pve1"'
	run json '[.guests[] | [.vmid, .type, .name, .running]]'
	assert_output '[[101,"qemu","win11",true],[102,"qemu","linux",false],[200,"lxc","plex",true]]'
	run json '.guests[] | select(.vmid == 101) | .devices'
	assert_output '["0000:01:00"]'
	run json '.guests[] | select(.vmid == 102) | .devices'
	assert_output '["0000:02:00.0","0000:01:00.0"]'
	run json '.guests[] | select(.vmid == 200) | [.devices, .device_nodes]'
	assert_output '[["0000:00:02.0","0000:02:00.0"],["/dev/dri","/dev/nvidia0","/dev/nvidiactl"]]'
	run json '.problems'
	assert_output '[]'
}

@test "holders come from reservations and running containers" {
	gpu_node
	run json '[.holders[] | [.pci_addr, .vmid, .source, .pid]]'
	assert_output '[["0000:01:00.0",101,"reservation",4242],["0000:01:00.1",101,"reservation",4242],["0000:00:02.0",200,"container",null],["0000:02:00.0",200,"container",null]]'
}

@test "a stale pid reservation and an expired time reservation hold nothing" {
	gpu_node
	rm "$PVE_GPU_BACKUP_ROOT/run/qemu-server/pci-id-reservations"
	rm -r "$PVE_GPU_BACKUP_ROOT/proc/4242"
	fake_reservation "0000:01:00.0 101 pid:4242" "0000:01:00.1 102 time:1" "0000:02:00.0 102 time:99999999999"
	run json '[.holders[] | [.pci_addr, .vmid, .source]]'
	assert_output '[["0000:02:00.0",102,"reservation"],["0000:00:02.0",200,"container"],["0000:02:00.0",200,"container"]]'
	run json '.guests[] | select(.vmid == 101) | .running'
	assert_output 'false'
}

@test "a pid file whose process is not that VM's kvm is not running" {
	gpu_node
	printf 'bash\0-c\0sleep\0' > "$PVE_GPU_BACKUP_ROOT/proc/4242/cmdline"
	run json '.guests[] | select(.vmid == 101) | .running'
	assert_output 'false'
	printf '/usr/bin/kvm\0-id\0102\0-pidfile\0/var/run/qemu-server/102.pid\0' > "$PVE_GPU_BACKUP_ROOT/proc/4242/cmdline"
	run json '.guests[] | select(.vmid == 101) | .running'
	assert_output 'false'
}

@test "IOMMU groups are listed in number order" {
	gpu_node
	run json '[.iommu_groups[] | [.group, .devices]]'
	assert_output '[["0",["0000:00:02.0"]],["14",["0000:01:00.0","0000:01:00.1"]],["15",["0000:02:00.0"]]]'
}

@test "conflict groups: VMs on one GPU and the CT on the other card" {
	gpu_node
	run json '.conflict_groups'
	assert_output '[[101,102,200]]'
}

@test "containers sharing a card do not conflict with each other" {
	fake_pci 0000:00:02.0 0 i915 0x8086 0x46a6
	fake_drm renderD128 0000:00:02.0
	fake_ct 200 <<< 'dev0: /dev/dri/renderD128,gid=104'
	fake_ct 201 <<< 'lxc.mount.entry: /dev/dri/renderD128 dev/dri/renderD128 none bind,optional,create=file'
	run json '.conflict_groups'
	assert_output '[]'
	fake_vm 100 <<< 'hostpci0: 0000:00:02.0,legacy-igd=1'
	run json '.conflict_groups'
	assert_output '[[100,200,201]]'
}

@test "one IOMMU group conflicts; SR-IOV VFs in their own groups do not" {
	fake_pci 0000:03:00.0 20 vfio-pci
	fake_pci 0000:03:00.1 20 snd_hda_intel
	fake_pci 0000:04:00.1 21 vfio-pci
	fake_pci 0000:04:00.2 22 vfio-pci
	fake_vm 110 <<< 'hostpci0: 0000:03:00.0'
	fake_vm 111 <<< 'hostpci0: 0000:03:00.1'
	fake_vm 112 <<< 'hostpci0: 0000:04:00.1'
	fake_vm 113 <<< 'hostpci0: 0000:04:00.2'
	run json '.conflict_groups'
	assert_output '[[110,111]]'
}

@test "a mapping with two alternatives conflicts only when both are taken" {
	fake_pci 0000:01:00.0 1 vfio-pci
	fake_pci 0000:02:00.0 2 vfio-pci
	printf 'gpu\n\tmap id=10de:2204,node=pve1,path=0000:01:00.0\n\tmap id=10de:2204,node=pve1,path=0000:02:00.0\n\tmap id=10de:2204,node=pve2,path=0000:05:00.0\n' | fake_mapping
	fake_vm 120 <<< 'hostpci0: mapping=gpu'
	fake_vm 121 <<< 'hostpci0: 0000:01:00.0'
	run json '.conflict_groups'
	assert_output '[]'
	run json '.guests[] | select(.vmid == 120) | [.devices, .uses[0].alternatives]'
	assert_output '[["0000:01:00.0","0000:02:00.0"],[["0000:01:00.0"],["0000:02:00.0"]]]'
	fake_vm 122 <<< 'hostpci0: 0000:02:00.0'
	run json '.conflict_groups'
	assert_output '[[120,121,122]]'
}

@test "classic mdev users share their parent; a passthrough user does not" {
	fake_pci 0000:00:02.0 0 i915 0x8086 0x3e92
	fake_vm 130 <<< 'hostpci0: 0000:00:02.0,mdev=i915-GVTg_V5_4'
	fake_vm 131 <<< 'hostpci0: 0000:00:02.0,mdev=i915-GVTg_V5_8'
	run json '.conflict_groups'
	assert_output '[]'
	run json '[.guests[].uses[0].shared]'
	assert_output '[true,true]'
	fake_vm 132 <<< 'hostpci0: 0000:00:02.0'
	run json '.conflict_groups'
	assert_output '[[130,131,132]]'
}

@test "templates, snapshots, pending changes and descriptions" {
	fake_vm 140 <<-'EOF'
	#hostpci0%3A 0000%3A09%3A00,pcie=1
	name: golden
	template: 1
	hostpci0: 0000:01:00,pcie=1
	EOF
	fake_vm 141 <<-'EOF'
	hostpci0: 0000:01:00
	hostpci1: 0000:03:00.0
	name: changing

	[PENDING]
	delete: hostpci1
	hostpci2: 0000:04:00.0

	[before]
	hostpci0: 0000:05:00
	EOF
	fake_vm 142 <<< 'hostpci0: 0000:04:00.0'
	run json '[.guests[] | [.vmid, .template, .devices]]'
	assert_output '[[140,true,["0000:01:00"]],[141,false,["0000:01:00","0000:03:00.0"]],[142,false,["0000:04:00.0"]]]'
	run json '[.guests[] | select(.vmid == 141) | .uses[] | [.source, .live, .next_start]]'
	assert_output '[["hostpci0",true,true],["hostpci1",true,false],["hostpci2",false,true]]'
	# the template starts without PCI devices; 141's next start takes 142's device
	run json '.conflict_groups'
	assert_output '[[141,142]]'
}

@test "a bad line is a problem with file and line; the rest is read" {
	fake_vm 150 <<-'EOF'
	name: broken
	hostpci0: 0000:01:00.0
	hostpci1: 0A:00.0
	hostpci2: mapping=nope
	EOF
	fake_vm 151 <<< 'name: fine'
	run json '[.guests[].vmid]'
	assert_output '[150,151]'
	run json '.guests[0].devices'
	assert_output '["0000:01:00.0"]'
	run json '[.problems[] | [.file, .line, .message]]'
	assert_output '[["/etc/pve/qemu-server/150.conf",3,"hostpci1: invalid PCI id '"'0A:00.0'"'"],["/etc/pve/qemu-server/150.conf",4,"hostpci2: PCI device mapping not found for '"'nope'"'"]]'
	run hook status
	assert_success
	assert_output --partial "/etc/pve/qemu-server/150.conf:3: hostpci1: invalid PCI id '0A:00.0'"
}

@test "only this node's guests count" {
	mkdir -p "$PVE_GPU_BACKUP_ROOT/etc/pve/nodes/pve2/qemu-server"
	echo 'hostpci0: 0000:01:00.0' > "$PVE_GPU_BACKUP_ROOT/etc/pve/nodes/pve2/qemu-server/300.conf"
	fake_vm 160 <<< 'hostpci0: 0000:01:00.0'
	run json '[.guests[].vmid]'
	assert_output '[160]'
}

@test "HA-managed guests are marked" {
	fake_vm 170 <<< 'name: ha'
	fake_vm 171 <<< 'name: ignored'
	fake_vm 172 <<< 'name: plain'
	mkdir -p "$PVE_GPU_BACKUP_ROOT/etc/pve/ha"
	printf 'vm: 170\n\tstate started\n\nvm: 171\n\tstate ignored\n' > "$PVE_GPU_BACKUP_ROOT/etc/pve/ha/resources.cfg"
	run json '[.guests[].ha_managed]'
	assert_output '[true,false,false]'
}

@test "text output names each device, its users, holder and group" {
	gpu_node
	run hook status
	assert_success
	assert_line "node: pve1"
	assert_line "0000:01:00  iommu group 14"
	assert_line "  used by: VM 101 (win11, running)"
	assert_line "  held by: VM 101 (reservation, pid 4242)"
	assert_line "0000:02:00.0  iommu group 15"
	assert_line "  used by: VM 102 (linux, stopped), CT 200 (plex, running)"
	assert_line "  101 102 200"
}

@test "a node with no guests prints that no guest uses a device" {
	run hook status
	assert_success
	assert_output "node: pve1
no guest uses a PCI device"
	run json '.guests'
	assert_output '[]'
}

@test "nothing readable exits 2 with one error line" {
	rm -rf "$PVE_GPU_BACKUP_ROOT/etc/pve"
	run hook status --json
	assert_failure 2
	assert_output --regexp "^pve-gpu-backup-hook: cannot read '/etc/pve/nodes/.*/qemu-server': No such file or directory$"
}

@test "a failed write of stdout is an error" {
	[ -w /dev/full ] || skip "no /dev/full"
	gpu_node
	run bash -c '"$0" status --json > /dev/full' "$(prog_path pve-gpu-backup-hook)"
	assert_failure 1
	assert_output "pve-gpu-backup-hook: cannot write to standard output: No space left on device"
}

@test "NVIDIA device nodes map through /proc/driver/nvidia; nvidiactl names no card" {
	fake_pci 0000:41:00.0 40 nvidia
	fake_nvidia 0000:41:00.0 1
	fake_pci 0000:01:00.0 14 nvidia
	fake_nvidia 0000:01:00.0 0
	fake_ct 210 <<-'EOF'
	lxc.cgroup.devices.allow: c 195:* rwm
	lxc.mount.entry = /dev/nvidia1 dev/nvidia1 none bind,optional,create=file
	lxc.mount.entry: /dev/nvidiactl dev/nvidiactl none bind,optional,create=file
	lxc.mount.entry: /dev/nvidia-uvm dev/nvidia-uvm none bind,optional,create=file
	EOF
	run json '.guests[0] | [.devices, .device_nodes]'
	assert_output '[["0000:41:00.0"],["/dev/nvidia1","/dev/nvidiactl","/dev/nvidia-uvm"]]'
	run json '.problems'
	assert_output '[]'
}

@test "a CT device node without its sysfs entry is a problem, not a crash" {
	fake_ct 220 <<< 'dev0: /dev/dri/renderD129,gid=104'
	run json '[.guests[0].devices, .guests[0].device_nodes, [.problems[] | [.file, .line, .message]]]'
	assert_output '[[],["/dev/dri/renderD129"],[["/etc/pve/lxc/220.conf",1,"dev0: cannot find the PCI device of '"'/dev/dri/renderD129'"': No such file or directory"]]]'
}

@test "without /etc/pve/local the node is the short host name" {
	local short
	short=$(uname -n)
	short=${short%%.*}
	rm "$PVE_GPU_BACKUP_ROOT/etc/pve/local"
	mkdir -p "$PVE_GPU_BACKUP_ROOT/etc/pve/nodes/$short/qemu-server"
	echo 'name: here' > "$PVE_GPU_BACKUP_ROOT/etc/pve/nodes/$short/qemu-server/180.conf"
	run json '[.node, [.guests[].vmid]]'
	assert_output "[\"$short\",[180]]"
}

@test "a vmid with both a VM and a CT config is a problem and counted once" {
	fake_vm 190 <<< 'name: vm'
	fake_ct 190 <<< 'hostname: ct'
	run json '[[.guests[] | [.vmid, .type]], [.problems[].message]]'
	assert_output '[[[190,"qemu"]],["guest 190 has both a VM and a CT config; the CT config is ignored"]]'
}

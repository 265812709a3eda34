#!/usr/bin/env bats
# The wizard's report of the node: GPUs, the guests that use them, conflict
# groups, stopped VMs whose backup fails today, the old hook's stopped guests.

load setup-helpers

setup() {
	make_root
	printf 'mode: snapshot\n' >"$VZ"
}

# One GPU (two functions, group 14) shared by two VMs; an NVIDIA card used by a CT and a VM.
gpu_node() {
	fake_pci 0000:01:00.0 14 vfio-pci 0x10de 0x2204
	fake_pci 0000:01:00.1 14 vfio-pci 0x10de 0x1aef 0x040300
	fake_pci 0000:02:00.0 15 nvidia 0x10de 0x2504
	fake_nvidia 0000:02:00.0 0
	fake_vm 101 <<-'EOF'
	name: win11
	hostpci0: 0000:01:00,pcie=1,x-vga=1
	EOF
	fake_vm 102 <<-'EOF'
	name: linux
	hostpci0: 01:00.0,pcie=1
	EOF
	fake_vm 103 <<-'EOF'
	name: ai
	hostpci0: 02:00.0
	EOF
	fake_vm 104 <<-'EOF'
	name: nogpu
	EOF
	fake_ct 200 <<-'EOF'
	hostname: plex
	lxc.cgroup2.devices.allow: c 195:* rwm
	lxc.mount.entry: /dev/nvidia0 dev/nvidia0 none bind,optional,create=file
	EOF
	fake_running_vm 101 4242
	fake_running_ct 200
	fake_reservation "0000:01:00.0 101 pid:4242" "0000:01:00.1 101 pid:4242"
}

@test "each GPU with the guests that use it, running or not" {
	gpu_node
	with_pci_ids
	wizard --dry-run
	assert_success
	assert_output --partial "Node pve1"
	assert_output --partial "0000:01:00.0  NVIDIA Corporation GA102 [GeForce RTX 3090] [10de:2204]"
	assert_output --partial "used by: VM 101 (win11), running; VM 102 (linux), stopped"
	assert_output --partial "used by: VM 103 (ai), stopped; CT 200 (plex), running"
	refute_output --partial "104"
}

@test "conflict groups and, in plain words, the backups that fail today" {
	gpu_node
	wizard --dry-run
	assert_success
	assert_output --partial "VM 101 (win11), VM 102 (linux)"
	assert_output --partial "Backups that fail today"
	assert_output --partial "VM 102 (linux) is stopped and its backup fails"
	assert_output --partial "the running VM 101 (win11) holds 0000:01:00.0."
	assert_output --partial "VM 103 (ai) is stopped and its backup fails"
	assert_output --partial "the running CT 200 (plex) holds 0000:02:00.0."
}

@test "nothing fails when the holders are stopped" {
	gpu_node
	rm "$ROOT/run/qemu-server/101.pid" "$ROOT/run/qemu-server/pci-id-reservations"
	: >"$ROOT/proc/net/unix"
	wizard --dry-run
	assert_success
	refute_output --partial "backup fails"
}

@test "--json: guests per GPU, conflict groups, blocked backups" {
	gpu_node
	run "$SETUP" --json --dry-run
	assert_success
	echo "$output" | jq -e '.node == "pve1"'
	echo "$output" | jq -e '[.gpus[] | select(.pci_addr == "0000:01:00.0") | .guests[].vmid] == [101, 102]'
	echo "$output" | jq -e '[.blocked_backups[] | {vmid, held_by}] == [{"vmid":102,"held_by":[101]},{"vmid":103,"held_by":[200]}]'
	echo "$output" | jq -e '(.conflict_groups | length) >= 1'
}

@test "the old bash hook: the guests its state file lists, and whether they are still stopped" {
	gpu_node
	printf 'script: /usr/local/bin/backup-gpu-hook.sh\n' >"$VZ"
	printf '102\n200\n102\n999\nnot-a-vmid\n' >"$ROOT/tmp/vzdump-gpu-stopped-vms.state"
	wizard --dry-run
	assert_success
	assert_output --partial "vzdump runs the old bash hook /usr/local/bin/backup-gpu-hook.sh (line 1)."
	assert_output --partial "never started again: 102 (stopped), 200 (running), 999 (gone)"
	run "$SETUP" --json --dry-run
	echo "$output" | jq -e '.old_hook_stopped == [{"vmid":102,"state":"stopped"},{"vmid":200,"state":"running"},{"vmid":999,"state":"gone"}]'
}

@test "a bad guest config line is shown with file and line, the rest still read" {
	gpu_node
	printf 'name: bad\nhostpci0: zz:00.0\n' | fake_vm 105
	wizard --dry-run
	assert_success
	assert_output --regexp "note: /etc/pve/.*105.conf line 2"
	assert_output --partial "VM 101 (win11)"
}

#!/usr/bin/env bats
# The simulated Proxmox node (tests/sim) behaves as Proxmox does: these tests
# pin the facts of ../shared/PROXMOX.md that the hook's end-to-end tests rely on.

load simnode

setup() {
	sim_node
	QM=$R/usr/sbin/qm PCT=$R/usr/sbin/pct
	HOOK=$top_srcdir/tests/sim/record-hook
	sim_knob "$R" - ha-delay 1
}

teardown() {
	sim_teardown "$R"
}

# The demo's card: VGA + audio in IOMMU group 14, on vfio-pci.
nvidia_gpu() {
	sim_add_pci "$R" 0000:05:00.0 10de 2204 030000 14 "${1:-vfio-pci}" nvidia nvidia:0
	sim_add_pci "$R" 0000:05:00.1 10de 1aef 040300 14 "${2:-vfio-pci}" snd_hda_intel
}

phases() { sed -n 's/^argv: //p' "$R/var/lib/sim/hook.log"; }

@test "layout: pmxcfs links, sysfs links, driver nodes as the kernel shows them" {
	sim_add_pci "$R" 0000:00:02.0 8086 a780 030000 0 i915 i915 "drm:card0 drm:renderD128"
	[ "$(readlink "$R/etc/pve/local")" = nodes/pve1 ]
	[ "$(readlink "$R/etc/pve/qemu-server")" = nodes/pve1/qemu-server ]
	[ "$(readlink "$R/etc/pve/lxc")" = nodes/pve1/lxc ]
	d=$R/sys/devices/pci0000:00/0000:00:02.0
	[ "$(readlink -f "$R/sys/bus/pci/devices/0000:00:02.0")" = "$d" ]
	[ "$(readlink -f "$d/driver")" = "$R/sys/bus/pci/drivers/i915" ]
	[ "$(readlink -f "$d/iommu_group")" = "$R/sys/kernel/iommu_groups/0" ]
	[ "$(readlink -f "$R/sys/kernel/iommu_groups/0/devices/0000:00:02.0")" = "$d" ]
	[ "$(readlink -f "$R/sys/bus/pci/drivers/i915/0000:00:02.0")" = "$d" ]
	[ "$(readlink -f "$R/sys/class/drm/renderD128/device")" = "$d" ]
	[ "$(readlink -f "$R/sys/dev/char/226:128/device")" = "$d" ]
	[ "$(cat "$d/driver_override")" = "(null)" ]
	[ "$(cat "$d/vendor") $(cat "$d/device") $(cat "$d/class")" = "0x8086 0xa780 0x030000" ]
	[ -f "$R/dev/dri/renderD128" ] && [ -f "$R/dev/dri/card0" ]
	[ -f "$R/sys/bus/pci/drivers/vfio-pci/new_id" ] && [ -f "$R/sys/bus/pci/drivers_probe" ]
	[ -s "$R/proc/sys/kernel/random/boot_id" ] && [ -s "$R/proc/cmdline" ]
}

@test "qm start reserves with the QEMU pid, writes pid file and /proc cmdline" {
	nvidia_gpu
	sim_add_vm "$R" 104 name=gaming hostpci0=05:00,pcie=1
	run "$QM" start 104
	assert_success
	pid=$(cat "$R/var/run/qemu-server/104.pid")
	kill -0 "$pid"
	run cat "$R/run/qemu-server/pci-id-reservations"
	assert_output "0000:05:00.0 104 pid:$pid
0000:05:00.1 104 pid:$pid"
	run bash -c "tr '\\0' ' ' <'$R/proc/$pid/cmdline'"
	assert_output --partial "/usr/bin/kvm -id 104 "
	assert_output --partial "-pidfile /var/run/qemu-server/104.pid"
	run "$QM" status 104
	assert_output "status: running"
	run "$QM" stop 104
	assert_success
	[ ! -e "$R/proc/$pid" ] && [ ! -e "$R/run/qemu-server/104.pid" ]
	[ ! -s "$R/run/qemu-server/pci-id-reservations" ]
	run "$QM" status 104
	assert_output "status: stopped"
}

@test "qm start refuses a device held by a running VM, a template, a locked VM" {
	nvidia_gpu
	sim_add_vm "$R" 104 hostpci0=0000:05:00.1 running=1
	sim_add_vm "$R" 102 hostpci0=0000:05:00
	sim_add_vm "$R" 106 template=1
	sim_add_vm "$R" 107 lock=backup
	run "$QM" start 102
	assert_failure 255
	assert_output "PCI device '0000:05:00.1' already in use by VMID '104'"
	[ ! -e "$R/run/qemu-server/102.pid" ]
	grep -q '^0000:05:00.1 104 pid:' "$R/run/qemu-server/pci-id-reservations"
	! grep -q ' 102 ' "$R/run/qemu-server/pci-id-reservations"
	run "$QM" start 106
	assert_failure 255
	assert_output "you can't start a vm if it's a template"
	run "$QM" start 107
	assert_failure 255
	assert_output "VM is locked (backup)"
	run "$QM" start 107 --skiplock 1
	assert_success
}

@test "qm start binds the whole IOMMU group to vfio-pci the way Proxmox does" {
	nvidia_gpu nvidia snd_hda_intel
	[ -f "$R/dev/nvidia0" ]
	sim_add_vm "$R" 102 hostpci0=0000:05:00.0
	run "$QM" start 102
	assert_success
	for f in 0 1; do
		[ "$(readlink "$R/sys/bus/pci/devices/0000:05:00.$f/driver")" = ../../../bus/pci/drivers/vfio-pci ]
	done
	[ ! -e "$R/dev/nvidia0" ] && [ ! -e "$R/proc/driver/nvidia/gpus/0000:05:00.0" ]
	run sim_events "$R"
	assert_output --partial "unbind 0000:05:00.0 nvidia
bind 0000:05:00.0 vfio-pci
unbind 0000:05:00.1 snd_hda_intel
bind 0000:05:00.1 vfio-pci"
	# only the listed function is reserved, not its group sibling
	run cat "$R/run/qemu-server/pci-id-reservations"
	assert_output --regexp '^0000:05:00.0 102 pid:[0-9]+$'
}

@test "mapping alternatives: the first free one is taken, none free fails" {
	nvidia_gpu
	sim_add_pci "$R" 0000:06:00.0 10de 2204 030000 15 vfio-pci nvidia nvidia:1
	sim_add_mapping "$R" gpu "id=10de:2204,node=pve1,path=0000:05:00.0" "id=10de:2204,node=pve1,path=0000:06:00.0" \
		"id=10de:2204,node=pve2,path=0000:07:00.0"
	sim_add_vm "$R" 101 hostpci0=mapping=gpu running=1
	sim_add_vm "$R" 102 hostpci0=mapping=gpu,pcie=1 running=1
	sim_add_vm "$R" 103 hostpci0=mapping=gpu
	grep -q '^0000:05:00.0 101 ' "$R/run/qemu-server/pci-id-reservations"
	grep -q '^0000:06:00.0 102 ' "$R/run/qemu-server/pci-id-reservations"
	run "$QM" start 103
	assert_failure 255
	assert_output "could not find a free device for 'hostpci0'"
}

@test "vzdump: a stopped VM's backup fails with Proxmox's message while 104 runs" {
	nvidia_gpu
	for v in 102 103; do sim_add_vm "$R" "$v" name="vm$v" hostpci0=0000:05:00,pcie=1; done
	sim_add_vm "$R" 104 name=gaming hostpci0=0000:05:00,pcie=1 running=1
	run "$VZDUMP" 102 103 --mode stop --script "$HOOK"
	assert_failure 255
	assert_line "INFO: starting new backup job: vzdump 102 103 --mode stop --script $HOOK"
	assert_line "INFO: Starting Backup of VM 102 (qemu)"
	assert_line "INFO: hook backup-start stop 102"
	assert_line "ERROR: Backup of VM 102 failed - PCI device '0000:05:00.0' already in use by VMID '104'"
	assert_line "ERROR: Backup of VM 103 failed - PCI device '0000:05:00.0' already in use by VMID '104'"
	assert_line "INFO: Backup job finished with errors"
	assert_line "TASK ERROR: job errors"
	run phases
	assert_output "job-init
job-start
backup-start stop 102
backup-abort stop 102
log-end stop 102
backup-start stop 103
backup-abort stop 103
log-end stop 103
job-end"
	[ "$(sim_vm_state "$R" 104)" = running ] && [ "$(sim_vm_state "$R" 102)" = stopped ]
	! grep -q '^lock:' "$R/etc/pve/qemu-server/102.conf"
}

@test "vzdump: the same backup succeeds once 104 is stopped; paused start, then stopped again" {
	nvidia_gpu
	sim_add_vm "$R" 102 name=win hostpci0=0000:05:00,pcie=1
	sim_add_vm "$R" 104 hostpci0=0000:05:00,pcie=1 running=1
	"$QM" shutdown 104 --timeout 5
	run "$VZDUMP" 102 --mode snapshot --script "$HOOK"
	assert_success
	assert_line "INFO: backup mode: stop"
	assert_line "INFO: starting kvm to execute backup task"
	assert_line "INFO: stopping kvm after backup task"
	assert_line --regexp '^INFO: Finished Backup of VM 102 \(00:00:0[0-9]\)$'
	assert_line "INFO: Backup job finished successfully"
	assert_line "TASK OK"
	run phases
	assert_output "job-init
job-start
backup-start stop 102
backup-end stop 102
log-end stop 102
job-end"
	[ "$(sim_vm_state "$R" 102)" = stopped ]
	[ ! -s "$R/run/qemu-server/pci-id-reservations" ]
	run sim_events "$R"
	assert_line "102 start paused"
	ls "$R"/var/lib/vz/dump/vzdump-qemu-102-*.vma.zst "$R"/var/lib/vz/dump/vzdump-qemu-102-*.log
	grep -q '^UPID:pve1:[0-9A-F]\{8\}:[0-9A-F]\{8\}:[0-9A-F]\{8\}:vzdump:102:root@pam:$' "$R/var/run/vzdump.pid"
}

@test "vzdump: the hook runs with vzdump's cleared environment and argv" {
	sim_add_vm "$R" 110 name=web
	sim_add_ct "$R" 200 hostname=nas
	sim_add_ct "$R" 201 running=1
	# the sanitizer variables the harness exports are passed through on purpose
	run env -u ASAN_OPTIONS -u UBSAN_OPTIONS FOO=bar HOME=/root "$VZDUMP" 110 200 201 --mode suspend --script "$HOOK"
	assert_success
	run phases
	assert_output "job-init
job-start
backup-start stop 110
backup-end stop 110
log-end stop 110
backup-start stop 200
backup-end stop 200
log-end stop 200
backup-start suspend 201
pre-stop suspend 201
pre-restart suspend 201
post-restart suspend 201
backup-end suspend 201
log-end suspend 201
job-end"
	# job-init: before storage activation, no DUMPDIR
	run awk '/^argv: job-init$/ { on = 1; next } /^argv:/ { on = 0 } on' "$R/var/lib/sim/hook.log"
	assert_output "env: LC_ALL=C
env: LVM_SUPPRESS_FD_WARNINGS=1
env: PVE_GPU_BACKUP_ROOT=$R
env: STOREID=local"
	run awk '/^argv: backup-start stop 200$/ { on = 1; next } /^argv:/ { on = 0 } on' "$R/var/lib/sim/hook.log"
	assert_output --regexp "^env: DUMPDIR=/var/lib/vz/dump
env: HOSTNAME=nas
env: LC_ALL=C
env: LOGFILE=/var/lib/vz/dump/vzdump-lxc-200-[0-9_-]+\.log
env: LVM_SUPPRESS_FD_WARNINGS=1
env: PVE_GPU_BACKUP_ROOT=$R
env: STOREID=local
env: TARGET=/var/lib/vz/dump/vzdump-lxc-200-[0-9_-]+\.tar\.zst
env: VMTYPE=lxc$"
	[ "$(sim_ct_state "$R" 201)" = running ]
}

@test "vzdump: a running VM in stop mode is shut down, restarted paused with its devices, resumed" {
	nvidia_gpu
	sim_add_vm "$R" 104 hostpci0=0000:05:00,pcie=1 running=1
	run "$VZDUMP" 104 --mode stop --script "$HOOK"
	assert_success
	run phases
	assert_output "job-init
job-start
backup-start stop 104
pre-stop stop 104
backup-end stop 104
pre-restart stop 104
post-restart stop 104
log-end stop 104
job-end"
	[ "$(sim_vm_state "$R" 104)" = running ]
	pid=$(cat "$R/run/qemu-server/104.pid")
	grep -q "^0000:05:00.0 104 pid:$pid\$" "$R/run/qemu-server/pci-id-reservations"
	run sim_events "$R"
	assert_output --partial "104 stop
104 start paused"
}

@test "vzdump: hook failures per phase as PVE::VZDump handles them" {
	sim_add_vm "$R" 102
	sim_add_vm "$R" 103
	echo "backup-start:102 3" >"$R/var/lib/sim/hook-fail"
	echo "job-end 1" >>"$R/var/lib/sim/hook-fail"
	run "$VZDUMP" 102 103 --script "$HOOK"
	assert_failure 255
	assert_line "ERROR: Backup of VM 102 failed - command '$HOOK backup-start stop 102' failed: exit code 3"
	assert_line --regexp "^INFO: Finished Backup of VM 103 \\(00:00:0[0-9]\\)\$"
	assert_line "ERROR: Backup job failed - command '$HOOK job-end' failed: exit code 1"
	assert_line "TASK ERROR: command '$HOOK job-end' failed: exit code 1"
	run phases
	assert_output "job-init
job-start
backup-start stop 102
backup-abort stop 102
log-end stop 102
backup-start stop 103
backup-end stop 103
log-end stop 103
job-end
job-abort"
	run cat "$R/var/lib/sim/hook-runs"
	assert_output "job-init 0
job-start 0
backup-start stop 102 3
backup-abort stop 102 0
log-end stop 102 0
backup-start stop 103 0
backup-end stop 103 0
log-end stop 103 0
job-end 1
job-abort 0"
	echo "job-start 1" >"$R/var/lib/sim/hook-fail"
	: >"$R/var/lib/sim/hook.log"
	run "$VZDUMP" 102 103 --script "$HOOK"
	assert_failure 255
	run phases
	assert_output "job-init
job-start
job-abort"
}

@test "vzdump --kill-after: the task dies after that hook, later phases never run" {
	sim_add_vm "$R" 102
	sim_add_vm "$R" 103
	run "$VZDUMP" 102 103 --mode stop --script "$HOOK" --kill-after backup-start:102
	[ "$status" -eq 137 ]
	run phases
	assert_output "job-init
job-start
backup-start stop 102"
	# as after a real SIGKILL, the guest keeps vzdump's lock
	grep -qx 'lock: backup' "$R/etc/pve/qemu-server/102.conf"
}

@test "qm shutdown: a slow guest, a guest ignoring ACPI, forceStop" {
	sim_add_vm "$R" 104 running=1
	sim_knob "$R" 104 shutdown-delay 1
	start=$SECONDS
	run "$QM" shutdown 104 --timeout 5
	assert_success
	[ $((SECONDS - start)) -ge 1 ]
	[ "$(sim_vm_state "$R" 104)" = stopped ]
	"$QM" start 104
	sim_knob "$R" 104 ignore-acpi 1
	run "$QM" shutdown 104 --timeout 1
	assert_failure 255
	assert_output "VM quit/powerdown failed - got timeout"
	[ "$(sim_vm_state "$R" 104)" = running ]
	run "$QM" shutdown 104 --timeout 1 --forceStop 1
	assert_success
	[ "$(sim_vm_state "$R" 104)" = stopped ]
	[ ! -e "$R/run/qemu-server/104.pid" ]
}

@test "qm on a locked or paused VM" {
	sim_add_vm "$R" 104 running=1
	"$QM" suspend 104
	run "$QM" shutdown 104
	assert_failure 255
	assert_output "VM is paused - cannot shutdown"
	"$QM" resume 104
	echo 'lock: snapshot' >>"$R/etc/pve/qemu-server/104.conf"
	run "$QM" shutdown 104 --timeout 1
	assert_failure 255
	assert_output "VM is locked (snapshot)"
	run "$QM" stop 104
	assert_output "VM is locked (snapshot)"
	run "$QM" shutdown 104 --timeout 1 --skiplock 1
	assert_success
}

@test "HA-managed guests: qm only queues the request, the CRM acts later" {
	sim_add_vm "$R" 104 running=1
	sim_add_ha "$R" vm 104 started
	run "$QM" shutdown 104 --timeout 30
	assert_success
	assert_output "Requesting HA stop for VM 104"
	[ "$(sim_vm_state "$R" 104)" = running ]
	for _ in $(seq 50); do [ "$(sim_vm_state "$R" 104)" = stopped ] && break; sleep 0.1; done
	[ "$(sim_vm_state "$R" 104)" = stopped ]
	grep -qx $'\tstate stopped' "$R/etc/pve/ha/resources.cfg"
	run "$QM" start 104
	assert_success
	assert_output "Requesting HA start for VM 104"
	grep -qx $'\tstate started' "$R/etc/pve/ha/resources.cfg"
	[ "$(sim_vm_state "$R" 104)" = stopped ]
	for _ in $(seq 50); do [ "$(sim_vm_state "$R" 104)" = running ] && break; sleep 0.1; done
	[ "$(sim_vm_state "$R" 104)" = running ]
	# a stop-mode backup of an HA-started guest is refused before any hook phase but abort/log-end
	run "$VZDUMP" 104 --mode stop --script "$HOOK"
	assert_failure 255
	assert_line "ERROR: Backup of VM 104 failed - Cannot execute a backup with stop mode on a HA managed and enabled Service. Use snapshot mode or disable the Service."
	run grep -c '^argv: backup-start' "$R/var/lib/sim/hook.log"
	assert_output 0
}

@test "pct: device nodes checked at start, running marker in /proc/net/unix, lock" {
	sim_add_pci "$R" 0000:00:02.0 8086 a780 030000 0 i915 i915 "drm:card0 drm:renderD128"
	sim_add_ct "$R" 201 hostname=plex dev0=/dev/dri/renderD128,gid=104 running=1
	grep -q ' @/var/lib/lxc/201/command$' "$R/proc/net/unix"
	run "$PCT" status 201
	assert_output "status: running"
	"$PCT" stop 201
	! grep -q ' @/var/lib/lxc/201/command$' "$R/proc/net/unix"
	sim_add_vm "$R" 102 hostpci0=0000:00:02.0
	"$QM" start 102
	"$QM" stop 102
	# Proxmox left the iGPU on vfio-pci: the render node is gone
	[ "$(readlink "$R/sys/bus/pci/devices/0000:00:02.0/driver")" = ../../../bus/pci/drivers/vfio-pci ]
	run "$PCT" start 201
	assert_failure 255
	assert_output "Device /dev/dri/renderD128 does not exist"
	[ "$(sim_ct_state "$R" 201)" = stopped ]
	echo 'lock: backup' >>"$R/etc/pve/lxc/201.conf"
	run "$PCT" shutdown 201
	assert_failure 255
	assert_output "CT is locked (backup)"
}

@test "[PENDING] hostpci is applied by the backup's paused start" {
	nvidia_gpu
	sim_add_vm "$R" 104 hostpci0=0000:05:00.0 running=1
	sim_add_vm "$R" 102 name=x pending:hostpci0=0000:05:00.0
	run "$VZDUMP" 102 --script "$HOOK"
	assert_failure 255
	assert_line "ERROR: Backup of VM 102 failed - PCI device '0000:05:00.0' already in use by VMID '104'"
	! grep -q PENDING "$R/etc/pve/qemu-server/102.conf"
	grep -qx 'hostpci0: 0000:05:00.0' "$R/etc/pve/qemu-server/102.conf"
}

@test "qm start of vzdump's paused instance resumes it; vzdump then keeps it running" {
	sim_add_vm "$R" 102
	sim_add_vm "$R" 103
	run "$VZDUMP" 102 103 --script "$HOOK" --kill-after backup-end:102
	[ "$status" -eq 137 ]
	# killed after archive: the paused instance was already stopped again
	[ "$(sim_vm_state "$R" 102)" = stopped ]
	"$QM" unlock 102
	run "$VZDUMP" 102 --script "$HOOK" --kill-after backup-start:102
	_sim_vm_start "$R" 102 1 1 1
	[ "$(sim_vm_state "$R" 102)" = prelaunch ]
	run "$QM" status 102
	assert_output "status: prelaunch"
	run "$QM" start 102
	assert_success
	[ "$(sim_vm_state "$R" 102)" = running ]
}

@test "vzdump: a running CT in stop mode is shut down and started again after backup-end" {
	sim_add_pci "$R" 0000:00:02.0 8086 a780 030000 0 i915 i915 "drm:card0 drm:renderD128"
	sim_add_ct "$R" 201 hostname=plex "lxc.mount.entry=/dev/dri dev/dri none bind,optional,create=dir" \
		dev0=/dev/dri/renderD128 running=1
	run "$VZDUMP" 201 --mode stop --script "$HOOK"
	assert_success
	assert_line "INFO: stopping virtual guest"
	assert_line "INFO: restarting vm"
	run phases
	assert_output "job-init
job-start
backup-start stop 201
pre-stop stop 201
backup-end stop 201
pre-restart stop 201
post-restart stop 201
log-end stop 201
job-end"
	[ "$(sim_ct_state "$R" 201)" = running ]
	run sim_events "$R"
	assert_output --partial "201 stop
201 start"
}

@test "pct shutdown: slow, never, forceStop; HA containers are asynchronous" {
	sim_add_ct "$R" 201 running=1
	sim_knob "$R" 201 ignore-acpi 1
	run "$PCT" shutdown 201 --timeout 1
	assert_failure 255
	assert_output "container did not stop"
	[ "$(sim_ct_state "$R" 201)" = running ]
	run "$PCT" shutdown 201 --timeout 1 --forceStop 1
	assert_success
	[ "$(sim_ct_state "$R" 201)" = stopped ]
	sim_add_ha "$R" ct 201 stopped
	run "$PCT" start 201
	assert_output "Requesting HA start for CT 201"
	[ "$(sim_ct_state "$R" 201)" = stopped ]
	for _ in $(seq 50); do [ "$(sim_ct_state "$R" 201)" = running ] && break; sleep 0.1; done
	[ "$(sim_ct_state "$R" 201)" = running ]
}

@test "a stopped VM with a missing device or mapping fails as qemu-server does" {
	sim_add_vm "$R" 102 hostpci0=0000:09:00
	sim_add_vm "$R" 103 hostpci0=mapping=nothere
	run "$QM" start 102
	assert_failure 255
	assert_output "no PCI device found for '0000:09:00'"
	run "$QM" start 103
	assert_output "PCI device mapping not found for 'nothere'"
}

@test "a refused sysfs write makes qm start fail as pci_dev_bind_to_vfio does" {
	nvidia_gpu nvidia snd_hda_intel
	echo unbind >"$R/sys/devices/pci0000:00/0000:05:00.1/.sim/refuse"
	sim_add_vm "$R" 102 hostpci0=0000:05:00.0
	run "$QM" start 102
	assert_failure 255
	assert_output "can't unbind/bind PCI group to VFIO '0000:05:00.0'"
	[ "$(sim_vm_state "$R" 102)" = stopped ]
	[ ! -s "$R/run/qemu-server/pci-id-reservations" ]
}

@test "under the LD_PRELOAD fake kernel, qm's own sysfs writes move the group" {
	so=$top_builddir/tests/sim/fakesys.so
	[ -f "$so" ] || skip "fake kernel not built"
	nvidia_gpu nvidia snd_hda_intel
	sim_add_vm "$R" 102 hostpci0=0000:05:00.0
	LD_PRELOAD=$so "$QM" start 102
	for f in 0 1; do
		[ "$(readlink "$R/sys/bus/pci/devices/0000:05:00.$f/driver")" = ../../../bus/pci/drivers/vfio-pci ]
	done
	[ ! -e "$R/dev/nvidia0" ]
	# the fake kernel logged the move once; the bash stand-in did not act too
	run grep -c ' bind 0000:05:00.0 vfio-pci$' "$R/var/lib/sim/events"
	assert_output 1
}

@test "the demo's node script runs twice in a row and leaves no process behind" {
	node=$BATS_TEST_TMPDIR/demo-node
	run bash "$top_srcdir/tests/sim/demo.sh" "$node" "$HOOK"
	assert_line "INFO: starting new backup job: vzdump 102 103 104 105 --mode stop"
	assert_line "INFO: hook backup-start stop 102"
	# the recording hook parks nobody: Proxmox's own failure shows
	assert_line "ERROR: Backup of VM 102 failed - PCI device '0000:05:00.0' already in use by VMID '104'"
	assert_line --regexp '^# guests now: VM 102 stopped, VM 103 stopped, VM 104 running, VM 105 stopped; VM 104 was shut down 1 time\(s\); backups: 1 of 4$'
	run bash "$top_srcdir/tests/sim/demo.sh" "$node" "$HOOK"
	assert_line --regexp '^# guests now: .*VM 104 running'
	# gone, or a zombie where nothing reaps orphans
	pid=$(cat "$node/run/qemu-server/104.pid")
	run ps -o stat= -p "$pid"
	[[ -z $output || $output == Z* ]]
}

@test "a template is backed up without its PCI devices; other nodes' guests are skipped" {
	nvidia_gpu
	sim_add_vm "$R" 104 hostpci0=0000:05:00 running=1
	sim_add_vm "$R" 106 name=tpl template=1 hostpci0=0000:05:00
	sim_add_vm "$R" 300 name=far hostpci0=0000:05:00 node=pve2
	run "$VZDUMP" 106 300 --mode stop --script "$HOOK"
	assert_success
	assert_line "INFO: skip external VMs: 300"
	assert_line "INFO: starting kvm to execute backup task"
	run phases
	assert_output "job-init
job-start
backup-start stop 106
backup-end stop 106
log-end stop 106
job-end"
	[ -f "$R/etc/pve/nodes/pve2/qemu-server/300.conf" ]
	[ "$(sim_vm_state "$R" 104)" = running ]
}

@test "a slow guest that missed the timeout still powers off later" {
	sim_add_vm "$R" 104 running=1
	sim_knob "$R" 104 shutdown-delay 2
	run "$QM" shutdown 104 --timeout 1
	assert_failure 255
	assert_output "VM quit/powerdown failed - got timeout"
	[ "$(sim_vm_state "$R" 104)" = running ]
	for _ in $(seq 30); do [ "$(sim_vm_state "$R" 104)" = stopped ] && break; sleep 0.1; done
	[ "$(sim_vm_state "$R" 104)" = stopped ]
}

@test "functions of one IOMMU group cannot be split between VMs; SR-IOV VFs can" {
	nvidia_gpu
	sim_add_pci "$R" 0000:41:00.1 8086 1520 020000 60 vfio-pci igbvf
	sim_add_pci "$R" 0000:41:00.2 8086 1520 020000 61 vfio-pci igbvf
	sim_add_vm "$R" 104 hostpci0=0000:05:00.0 running=1
	sim_add_vm "$R" 102 hostpci0=0000:05:00.1
	run "$QM" start 102
	assert_failure 255
	assert_line "kvm: -device vfio-pci,host=0000:05:00.1,id=hostpci0: vfio 0000:05:00.1: failed to open /dev/vfio/14: Device or resource busy"
	assert_line "start failed: QEMU exited with code 1"
	! grep -q ' 102 ' "$R/run/qemu-server/pci-id-reservations"
	sim_add_vm "$R" 110 hostpci0=0000:41:00.1 running=1
	sim_add_vm "$R" 111 hostpci0=0000:41:00.2
	run "$QM" start 111
	assert_success
}

@test "without the hook, a VM backup takes the iGPU from running containers for good" {
	sim_add_pci "$R" 0000:00:02.0 8086 a780 030000 0 i915 i915 "drm:card0 drm:renderD128"
	sim_add_ct "$R" 201 hostname=plex dev0=/dev/dri/renderD128 running=1
	sim_add_ct "$R" 202 hostname=frigate dev0=/dev/dri/renderD128 running=1
	sim_add_vm "$R" 102 name=win hostpci0=0000:00:02.0
	run "$VZDUMP" 102 --mode stop
	assert_success
	# qemu-server moved the card to vfio-pci and never gave it back
	[ "$(readlink "$R/sys/bus/pci/devices/0000:00:02.0/driver")" = ../../../bus/pci/drivers/vfio-pci ]
	[ ! -e "$R/dev/dri/renderD128" ] && [ ! -e "$R/sys/class/drm/renderD128" ]
	grep -qx '8086 a780' "$R/var/lib/sim/vfio-pci.new_ids"
	"$PCT" stop 201
	run "$PCT" start 201
	assert_failure 255
	assert_output "Device /dev/dri/renderD128 does not exist"
}

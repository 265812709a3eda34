# Build a fake Proxmox VE node under $PVE_GPU_BACKUP_ROOT, laid out as pmxcfs,
# sysfs and procfs lay it out (see the simulator for the same shapes).

# fake_node NAME: /etc/pve/nodes/NAME/{qemu-server,lxc} and the pmxcfs links.
fake_node() {
	local node=$1 r=$PVE_GPU_BACKUP_ROOT
	mkdir -p "$r/etc/pve/nodes/$node/qemu-server" "$r/etc/pve/nodes/$node/lxc" "$r/etc/pve/mapping" \
		"$r/run/qemu-server" "$r/proc/net" "$r/sys/kernel/iommu_groups" "$r/sys/bus/pci/devices" \
		"$r/sys/bus/pci/drivers" "$r/sys/class/drm"
	ln -sfn "nodes/$node" "$r/etc/pve/local"
	ln -sfn "nodes/$node/qemu-server" "$r/etc/pve/qemu-server"
	ln -sfn "nodes/$node/lxc" "$r/etc/pve/lxc"
	: > "$r/proc/net/unix"
}

# fake_vm VMID < config
fake_vm() { cat > "$PVE_GPU_BACKUP_ROOT/etc/pve/qemu-server/$1.conf"; }
# fake_ct VMID < config
fake_ct() { cat > "$PVE_GPU_BACKUP_ROOT/etc/pve/lxc/$1.conf"; }
# fake_mapping < pci.cfg
fake_mapping() { cat > "$PVE_GPU_BACKUP_ROOT/etc/pve/mapping/pci.cfg"; }

# fake_pci BDF GROUP [DRIVER [VENDOR DEVICE CLASS]]
fake_pci() {
	local bdf=$1 group=$2 drv=${3:-} r=$PVE_GPU_BACKUP_ROOT
	local dev=$r/sys/devices/pci0000:00/$bdf
	mkdir -p "$dev" "$r/sys/kernel/iommu_groups/$group/devices"
	echo "${4:-0x10de}" > "$dev/vendor"
	echo "${5:-0x2204}" > "$dev/device"
	echo "${6:-0x030000}" > "$dev/class"
	echo "(null)" > "$dev/driver_override"
	ln -sfn "../../../kernel/iommu_groups/$group" "$dev/iommu_group"
	ln -sfn "../../../devices/pci0000:00/$bdf" "$r/sys/bus/pci/devices/$bdf"
	ln -sfn "../../../../devices/pci0000:00/$bdf" "$r/sys/kernel/iommu_groups/$group/devices/$bdf"
	if [ -n "$drv" ]; then
		mkdir -p "$r/sys/bus/pci/drivers/$drv"
		ln -sfn "../../../bus/pci/drivers/$drv" "$dev/driver"
	fi
}

# fake_drm NAME BDF: /sys/class/drm/NAME (card0, renderD128) of that function.
fake_drm() {
	local name=$1 bdf=$2 r=$PVE_GPU_BACKUP_ROOT
	mkdir -p "$r/sys/devices/pci0000:00/$bdf/drm/$name"
	ln -sfn "../../../$bdf" "$r/sys/devices/pci0000:00/$bdf/drm/$name/device"
	ln -sfn "../../devices/pci0000:00/$bdf/drm/$name" "$r/sys/class/drm/$name"
}

# fake_nvidia BDF MINOR: /proc/driver/nvidia/gpus/BDF/information.
fake_nvidia() {
	local d=$PVE_GPU_BACKUP_ROOT/proc/driver/nvidia/gpus/$1
	mkdir -p "$d"
	printf 'Model: \t\t NVIDIA GeForce RTX 3090\nIRQ:   \t\t 180\nGPU UUID: \t GPU-0\nVideo BIOS: \t 94.02.42.00.a9\nBus Type: \t PCIe\nDMA Size: \t 47 bits\nDMA Mask: \t 0x7fffffffffff\nBus Location: \t %s\nDevice Minor: \t %s\n' "$1" "$2" > "$d/information"
}

# fake_running_vm VMID PID: pid file and a kvm /proc/PID/cmdline as qemu-server starts it.
fake_running_vm() {
	local r=$PVE_GPU_BACKUP_ROOT
	echo "$2" > "$r/run/qemu-server/$1.pid"
	mkdir -p "$r/proc/$2"
	printf '/usr/bin/kvm\0-id\0%s\0-name\0vm%s\0-pidfile\0/var/run/qemu-server/%s.pid\0-daemonize\0' "$1" "$1" "$1" > "$r/proc/$2/cmdline"
}

# fake_running_ct VMID: the container's monitor socket in /proc/net/unix.
fake_running_ct() {
	local f=$PVE_GPU_BACKUP_ROOT/proc/net/unix
	[ -s "$f" ] || echo "Num       RefCount Protocol Flags    Type St Inode Path" > "$f"
	echo "0000000000000000: 00000002 00000000 00010000 0001 01 $((40000 + $1)) @/var/lib/lxc/$1/command" >> "$f"
}

# fake_reservation LINE...: /run/qemu-server/pci-id-reservations
fake_reservation() { printf '%s\n' "$@" >> "$PVE_GPU_BACKUP_ROOT/run/qemu-server/pci-id-reservations"; }

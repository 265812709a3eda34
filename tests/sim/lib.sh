# shellcheck shell=bash
# A simulated Proxmox VE node under a root directory R: the files Proxmox keeps
# (/etc/pve, /run/qemu-server, /proc, /sys) and guest state the test doubles
# (qm, pct, ha-manager, vzdump in this directory) read and change.
# Source it from bash: `. tests/sim/lib.sh`. Layout functions start with sim_;
# helpers for the doubles start with _sim_. Facts: ../shared/PROXMOX.md.

SIM_DIR=${SIM_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
. "$SIM_DIR/conf.sh"
. "$SIM_DIR/kernel.sh"
. "$SIM_DIR/guest.sh"

# sim_init R [NODE]: an empty node named NODE (default pve1) with pmxcfs'
# symlinks, the doubles in /usr/sbin, a boot id, an empty /proc/net/unix.
sim_init() {
	local R=$1 node=${2:-pve1}
	mkdir -p "$R"/etc/pve/nodes/"$node"/{qemu-server,lxc} "$R"/etc/pve/mapping "$R"/etc/pve/ha \
		"$R"/run/qemu-server "$R"/run/lock "$R"/var/lib/sim "$R"/var/lib/vz/dump "$R"/var/log/vzdump \
		"$R"/usr/sbin "$R"/proc/sys/kernel/random "$R"/proc/net "$R"/dev/dri \
		"$R"/sys/devices/pci0000:00 "$R"/sys/bus/pci/devices "$R"/sys/bus/pci/drivers \
		"$R"/sys/kernel/iommu_groups "$R"/sys/class/drm "$R"/sys/dev/char
	# /var/run is a link to /run on Debian; both spellings then work.
	[ -e "$R/var/run" ] || ln -s ../run "$R/var/run"
	ln -sfn "nodes/$node" "$R/etc/pve/local"
	ln -sfn "nodes/$node/qemu-server" "$R/etc/pve/qemu-server"
	ln -sfn "nodes/$node/lxc" "$R/etc/pve/lxc"
	ln -sfn "nodes/$node/openvz" "$R/etc/pve/openvz"
	printf '%s\n' "$node" >"$R/etc/hostname"
	: >>"$R/etc/pve/mapping/pci.cfg"
	: >>"$R/etc/pve/ha/resources.cfg"
	local p
	for p in qm pct ha-manager; do ln -sfn "$SIM_DIR/$p" "$R/usr/sbin/$p"; done
	[ -s "$R/proc/sys/kernel/random/boot_id" ] ||
		cat /proc/sys/kernel/random/uuid >"$R/proc/sys/kernel/random/boot_id"
	[ -s "$R/proc/cmdline" ] ||
		echo 'BOOT_IMAGE=/boot/vmlinuz-6.8.12-4-pve root=/dev/mapper/pve-root ro quiet intel_iommu=on iommu=pt' >"$R/proc/cmdline"
	[ -s "$R/proc/net/unix" ] ||
		echo 'Num       RefCount Protocol Flags    Type St Inode Path' >"$R/proc/net/unix"
	: >>"$R/sys/bus/pci/drivers_probe"
	: >>"$R/var/lib/sim/pids"
	: >>"$R/var/lib/sim/events"
	# vfio-pci is loaded, as after the first VM start with passthrough.
	_sim_driver_dir "$R" vfio-pci
}

# sim_node_name R: the node name (target of /etc/pve/local).
sim_node_name() {
	local t
	t=$(readlink "$1/etc/pve/local") || return 1
	printf '%s\n' "${t#nodes/}"
}

# sim_add_vm R VMID [key=value ...] [running=1] [node=NAME] [pending:key=value ...]:
# writes /etc/pve/qemu-server/VMID.conf (keys in the order given; pending:
# keys go to [PENDING]); running=1 starts it with `qm start` (reserving its
# devices); node=NAME puts it on another cluster node (never started here).
# Example: sim_add_vm R 102 name=win hostpci0=0000:05:00,pcie=1
sim_add_vm() {
	local R=$1 vmid=$2; shift 2
	_sim_add_guest "$R" qemu "$vmid" "$@"
}

# sim_add_ct R VMID [key=value ...] [running=1]: /etc/pve/lxc/VMID.conf; keys
# may repeat (lxc.mount.entry=...); running=1 starts it with `pct start`.
sim_add_ct() {
	local R=$1 vmid=$2; shift 2
	_sim_add_guest "$R" lxc "$vmid" "$@"
}

_sim_add_guest() {
	local R=$1 type=$2 vmid=$3; shift 3
	local dir=qemu-server cli=qm running=0 arg main="" pending="" node
	[ "$type" = lxc ] && dir=lxc cli=pct
	node=$(sim_node_name "$R")
	for arg in "$@"; do
		case $arg in
		running=1) running=1 ;;
		node=*) node=${arg#node=}; mkdir -p "$R/etc/pve/nodes/$node/$dir" ;;
		running=*) ;;
		pending:*=*) arg=${arg#pending:}; pending+="${arg%%=*}: ${arg#*=}"$'\n' ;;
		*=*) main+="${arg%%=*}: ${arg#*=}"$'\n' ;;
		*) echo "sim_add_guest: bad argument '$arg'" >&2; return 2 ;;
		esac
	done
	local f="$R/etc/pve/nodes/$node/$dir/$vmid.conf"
	{
		printf '%s' "$main"
		[ -n "$pending" ] && printf '\n[PENDING]\n%s' "$pending"
	} >"$f"
	if [ "$running" = 1 ]; then
		PVE_GPU_BACKUP_ROOT=$R LD_PRELOAD= "$SIM_DIR/$cli" start "$vmid" --skiplock 1 >/dev/null || {
			echo "sim_add_guest: $cli start $vmid failed" >&2; return 1; }
	fi
}

# sim_add_mapping R NAME "map-line" ...: a section in /etc/pve/mapping/pci.cfg,
# e.g. sim_add_mapping R gpu0 "id=10de:2204,node=pve1,path=0000:05:00".
sim_add_mapping() {
	local R=$1 name=$2 m; shift 2
	{
		printf '%s\n' "$name"
		for m in "$@"; do printf '\tmap %s\n' "$m"; done
		printf '\n'
	} >>"$R/etc/pve/mapping/pci.cfg"
}

# sim_add_ha R vm|ct VMID [STATE]: an HA resource (state default started).
sim_add_ha() {
	local R=$1 kind=$2 vmid=$3 state=${4:-started}
	printf '%s: %s\n\tstate %s\n\n' "$kind" "$vmid" "$state" >>"$R/etc/pve/ha/resources.cfg"
}

# sim_knob R VMID KNOB VALUE: per-guest behaviour.
#   shutdown-delay N  the guest powers off N seconds after an ACPI shutdown
#   ignore-acpi 1     the guest never reacts to a shutdown request
#   (VALUE "" removes the knob)
# sim_knob R - ha-delay N: seconds the simulated CRM/LRM takes (default 1).
sim_knob() {
	local R=$1 vmid=$2 knob=$3 value=$4 f
	if [ "$vmid" = - ]; then f="$R/var/lib/sim/$knob"; else f="$R/var/lib/sim/$vmid.$knob"; fi
	if [ -z "$value" ]; then rm -f "$f"; else printf '%s\n' "$value" >"$f"; fi
}

# sim_vm_state R VMID / sim_ct_state R VMID: running|stopped|prelaunch|paused
sim_vm_state() { _sim_vm_status "$1" "$2"; }
sim_ct_state() { if _sim_ct_running "$1" "$2"; then echo running; else echo stopped; fi; }

# sim_events R: the log of guest starts/stops the doubles did ("<vmid> start", ...).
sim_events() { cut -d' ' -f2- "$1/var/lib/sim/events"; }

# sim_teardown R: kill every process the simulator started under R.
sim_teardown() {
	local R=$1 pid
	[ -f "$R/var/lib/sim/pids" ] || return 0
	while read -r pid _; do
		[ -z "$pid" ] || kill -KILL "$pid" 2>/dev/null || true
	done <"$R/var/lib/sim/pids"
	: >"$R/var/lib/sim/pids"
	return 0
}

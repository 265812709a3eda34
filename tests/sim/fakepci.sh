# Lay out PCI functions in a fake sysfs under a root prefix, as fakesys.so expects.
# Source it, then: fakepci_add R BDF vendor device class group driver host_driver nodes
#   driver: bound now ("" = none); host_driver: what the kernel would pick;
#   nodes: device nodes the host driver creates ("drm:card0 drm:renderD128", "nvidia:0").
# Run the program under test with LD_PRELOAD="$top_builddir/tests/sim/fakesys.so".

fakepci_driver_dir() {
	local R=$1 drv=$2 f
	mkdir -p "$R/sys/bus/pci/drivers/$drv"
	for f in bind unbind new_id remove_id; do
		[ -e "$R/sys/bus/pci/drivers/$drv/$f" ] || : >"$R/sys/bus/pci/drivers/$drv/$f"
	done
	[ -e "$R/sys/bus/pci/drivers_probe" ] || : >"$R/sys/bus/pci/drivers_probe"
}

# Bind without the shim (setting up the initial state); creates the host driver's nodes.
fakepci_link() {
	local R=$1 bdf=$2 drv=$3 node
	fakepci_driver_dir "$R" "$drv"
	ln -sfn "../../../bus/pci/drivers/$drv" "$R/sys/devices/pci0000:00/$bdf/driver"
	ln -sfn "../../../../devices/pci0000:00/$bdf" "$R/sys/bus/pci/drivers/$drv/$bdf"
	[ "$drv" = "$(cat "$R/sys/devices/pci0000:00/$bdf/.sim/host_driver")" ] || return 0
	for node in $(cat "$R/sys/devices/pci0000:00/$bdf/.sim/nodes"); do
		case $node in
		drm:*)
			node=${node#drm:}
			mkdir -p "$R/dev/dri" "$R/sys/class/drm" "$R/sys/devices/pci0000:00/$bdf/drm/$node"
			: >"$R/dev/dri/$node"
			ln -sfn "../../../$bdf" "$R/sys/devices/pci0000:00/$bdf/drm/$node/device"
			ln -sfn "../../devices/pci0000:00/$bdf/drm/$node" "$R/sys/class/drm/$node"
			;;
		nvidia:*)
			node=${node#nvidia:}
			mkdir -p "$R/dev" "$R/proc/driver/nvidia/gpus/$bdf"
			: >"$R/dev/nvidia$node"
			printf 'Model: \t\t Simulated GPU\nDevice Minor: \t %s\nBus Location: \t %s\n' "$node" "$bdf" \
				>"$R/proc/driver/nvidia/gpus/$bdf/information"
			;;
		esac
	done
}

fakepci_add() {
	local R=$1 bdf=$2 vendor=$3 device=$4 class=$5 group=$6 driver=$7 host=$8 nodes=$9
	local dev="$R/sys/devices/pci0000:00/$bdf"
	mkdir -p "$dev/.sim" "$R/sys/bus/pci/devices" "$R/sys/kernel/iommu_groups/$group/devices"
	echo "$vendor" >"$dev/vendor"
	echo "$device" >"$dev/device"
	echo "$class" >"$dev/class"
	echo "(null)" >"$dev/driver_override"
	echo "$host" >"$dev/.sim/host_driver"
	echo "$nodes" >"$dev/.sim/nodes"
	ln -sfn "../../../kernel/iommu_groups/$group" "$dev/iommu_group"
	ln -sfn "../../../devices/pci0000:00/$bdf" "$R/sys/bus/pci/devices/$bdf"
	ln -sfn "../../../../devices/pci0000:00/$bdf" "$R/sys/kernel/iommu_groups/$group/devices/$bdf"
	fakepci_driver_dir "$R" vfio-pci
	[ -z "$host" ] || fakepci_driver_dir "$R" "$host"
	[ -z "$driver" ] || fakepci_link "$R" "$bdf" "$driver"
}

# What Proxmox does at VM start (pci_dev_bind_to_vfio), without the shim: record the
# id in vfio-pci's dynamic ids and move the function to vfio-pci.
fakepci_to_vfio() {
	local R=$1 bdf=$2 dev="$1/sys/devices/pci0000:00/$2" cur node
	local id
	id="$(printf '%04x %04x' "$(cat "$dev/vendor")" "$(cat "$dev/device")")"
	grep -qx "$id" "$R/sys/bus/pci/drivers/vfio-pci/.sim_ids" 2>/dev/null ||
		echo "$id" >>"$R/sys/bus/pci/drivers/vfio-pci/.sim_ids"
	cur=$(basename "$(readlink "$dev/driver" 2>/dev/null)" 2>/dev/null)
	if [ -n "$cur" ]; then
		rm -f "$dev/driver" "$R/sys/bus/pci/drivers/$cur/$bdf"
		if [ "$cur" = "$(cat "$dev/.sim/host_driver")" ]; then
			for node in $(cat "$dev/.sim/nodes"); do
				case $node in
				drm:*) node=${node#drm:}
					rm -rf "$R/dev/dri/$node" "$R/sys/class/drm/$node" "$dev/drm/$node" ;;
				nvidia:*) rm -rf "$R/dev/nvidia${node#nvidia:}" "$R/proc/driver/nvidia/gpus/$bdf" ;;
				esac
			done
		fi
	fi
	fakepci_link "$R" "$bdf" vfio-pci
}

# shellcheck shell=bash
# The fake sysfs of PCI devices, and a bash stand-in for the kernel's driver
# core: when no LD_PRELOAD fake kernel is active, the doubles call these after
# each sysfs write so that bind/unbind/new_id take effect as on a real host.

_sim_driver_dir() { # R DRIVER
	local d="$1/sys/bus/pci/drivers/$2" f
	mkdir -p "$d"
	for f in bind unbind new_id remove_id; do [ -e "$d/$f" ] || : >"$d/$f"; done
}

_sim_hex() { local v=${1#0x}; printf '0x%s\n' "$v"; }

# sim_add_pci R BDF VENDOR DEVICE CLASS IOMMU_GROUP DRIVER [HOST_DRIVER] [NODES]
# A PCI function; DRIVER "" or - = unbound; HOST_DRIVER (default DRIVER unless
# that is vfio-pci) is what creates NODES ("drm:card0 drm:renderD128",
# "nvidia:0") while the function is bound to it.
sim_add_pci() {
	local R=$1 bdf=$2 vendor=$3 device=$4 class=$5 group=$6 drv=${7:-} host=${8:-} nodes=${9:-}
	[ "$drv" = - ] && drv=
	[ -z "$host" ] && [ "$drv" != vfio-pci ] && host=$drv
	local d="$R/sys/devices/pci0000:00/$bdf"
	mkdir -p "$d/.sim" "$R/sys/kernel/iommu_groups/$group/devices"
	_sim_hex "$vendor" >"$d/vendor"
	_sim_hex "$device" >"$d/device"
	case $class in 0x??????) echo "$class" ;; *) printf '0x%06x\n' "$((16#${class#0x}))" ;; esac >"$d/class"
	echo '(null)' >"$d/driver_override"
	ln -sfn "../../../kernel/iommu_groups/$group" "$d/iommu_group"
	ln -sfn "../../../devices/pci0000:00/$bdf" "$R/sys/bus/pci/devices/$bdf"
	ln -sfn "../../../../devices/pci0000:00/$bdf" "$R/sys/kernel/iommu_groups/$group/devices/$bdf"
	printf '%s\n' "$host" >"$d/.sim/host_driver"
	printf '%s\n' "$nodes" >"$d/.sim/nodes"
	[ -n "$host" ] && _sim_driver_dir "$R" "$host"
	[ -n "$drv" ] && _sim_kernel_bind "$R" "$bdf" "$drv"
	return 0
}

_sim_pci_driver() { # R BDF -> driver name or ""
	local t
	t=$(readlink "$1/sys/devices/pci0000:00/$2/driver" 2>/dev/null) || return 0
	printf '%s\n' "${t##*/}"
}

_sim_kernel_bind() { # R BDF DRIVER: the kernel's probe succeeding
	local R=$1 bdf=$2 drv=$3 d="$1/sys/devices/pci0000:00/$2"
	_sim_driver_dir "$R" "$drv"
	ln -sfn "../../../bus/pci/drivers/$drv" "$d/driver"
	ln -sfn "../../../../devices/pci0000:00/$bdf" "$R/sys/bus/pci/drivers/$drv/$bdf"
	[ "$drv" = "$(cat "$d/.sim/host_driver" 2>/dev/null)" ] && _sim_nodes_create "$R" "$bdf"
	printf '%s bind %s %s\n' "$(date +%s)" "$bdf" "$drv" >>"$R/var/lib/sim/events"
}

_sim_kernel_unbind() { # R BDF
	local R=$1 bdf=$2 drv d="$1/sys/devices/pci0000:00/$2"
	drv=$(_sim_pci_driver "$R" "$bdf")
	[ -n "$drv" ] || return 1
	rm -f "$d/driver" "$R/sys/bus/pci/drivers/$drv/$bdf"
	[ "$drv" = "$(cat "$d/.sim/host_driver" 2>/dev/null)" ] && _sim_nodes_remove "$R" "$bdf"
	printf '%s unbind %s %s\n' "$(date +%s)" "$bdf" "$drv" >>"$R/var/lib/sim/events"
}

# What the host driver creates for a function: DRM card/render nodes with their
# sysfs class links, or an NVIDIA minor with its /proc information file.
_sim_nodes_create() {
	local R=$1 bdf=$2 n name d="$1/sys/devices/pci0000:00/$2" minor
	for n in $(cat "$d/.sim/nodes" 2>/dev/null); do
		case $n in
		drm:*)
			name=${n#drm:}; minor=${name##*[!0-9]}
			mkdir -p "$d/drm/$name" "$R/dev/dri"
			ln -sfn "../../../$bdf" "$d/drm/$name/device"
			echo "226:$minor" >"$d/drm/$name/dev"
			ln -sfn "../../devices/pci0000:00/$bdf/drm/$name" "$R/sys/class/drm/$name"
			ln -sfn "../../devices/pci0000:00/$bdf/drm/$name" "$R/sys/dev/char/226:$minor"
			: >"$R/dev/dri/$name"
			;;
		nvidia:*)
			minor=${n#nvidia:}
			mkdir -p "$R/proc/driver/nvidia/gpus/$bdf" "$R/dev"
			printf 'Model: \t\t NVIDIA Simulated GPU\nIRQ:   \t\t 150\nGPU UUID: \t GPU-00000000-0000-0000-0000-%012d\nVideo BIOS: \t 00.00.00.00.00\nBus Type: \t PCIe\nDMA Size: \t 47 bits\nDMA Mask: \t 0x7fffffffffff\nBus Location: \t %s\nDevice Minor: \t %s\nGPU Excluded:\t No\n' \
				"$minor" "$bdf" "$minor" >"$R/proc/driver/nvidia/gpus/$bdf/information"
			: >"$R/dev/nvidia$minor"
			: >"$R/dev/nvidiactl"
			;;
		esac
	done
}

_sim_nodes_remove() {
	local R=$1 bdf=$2 n name d="$1/sys/devices/pci0000:00/$2" minor
	for n in $(cat "$d/.sim/nodes" 2>/dev/null); do
		case $n in
		drm:*)
			name=${n#drm:}; minor=${name##*[!0-9]}
			rm -rf "$d/drm/$name" "$R/sys/class/drm/$name" "$R/sys/dev/char/226:$minor" "$R/dev/dri/$name"
			;;
		nvidia:*)
			minor=${n#nvidia:}
			rm -rf "$R/proc/driver/nvidia/gpus/$bdf" "$R/dev/nvidia$minor"
			;;
		esac
	done
}

# The bash kernel only acts when no LD_PRELOAD fake kernel handles the writes.
_sim_fake_kernel_active() { [ -n "${LD_PRELOAD:-}" ]; }

# _sim_sysfs_write R PATH VALUE: write a sysfs attribute as Perl's file_write
# does, then apply the kernel's reaction (bash kernel only). Returns 1 when
# the write (or the kernel) refused it.
_sim_sysfs_write() {
	local R=$1 path=$2 value=$3
	# test knob shared with the fake kernel: <dev>/.sim/refuse lists refused command files
	case $path in */bind|*/unbind)
		grep -qx "${path##*/}" "$R/sys/bus/pci/devices/$value/.sim/refuse" 2>/dev/null && ! _sim_fake_kernel_active && return 1 ;;
	esac
	{ printf '%s' "$value" >"$R$path"; } 2>/dev/null || return 1
	_sim_fake_kernel_active && return 0
	local base=${path%/*} attr=${path##*/} drv bdf d v dv ov
	case $path in
	/sys/bus/pci/drivers/*/new_id)
		drv=${base##*/}
		echo "$value" >>"$R/var/lib/sim/$drv.new_ids"
		# The kernel probes every unbound device the new id matches.
		for d in "$R"/sys/bus/pci/devices/*; do
			[ -e "$d" ] || continue
			bdf=${d##*/}
			[ -n "$(_sim_pci_driver "$R" "$bdf")" ] && continue
			v=$(cat "$d/vendor"); dv=$(cat "$d/device")
			[ "${v#0x} ${dv#0x}" = "$value" ] || continue
			ov=$(cat "$d/driver_override")
			[ "$ov" = '(null)' ] || [ "$ov" = "$drv" ] || continue
			_sim_kernel_bind "$R" "$bdf" "$drv"
		done
		;;
	/sys/bus/pci/drivers/*/unbind|/sys/bus/pci/devices/*/driver/unbind)
		_sim_kernel_unbind "$R" "$value" || return 1
		;;
	/sys/bus/pci/drivers/*/bind)
		drv=${base##*/}
		[ -e "$R/sys/bus/pci/devices/$value" ] || return 1
		[ -z "$(_sim_pci_driver "$R" "$value")" ] || return 1
		_sim_kernel_bind "$R" "$value" "$drv"
		;;
	esac
	: "$attr"
	return 0
}

# _sim_bind_group_to_vfio R BDF: pve-common SysFSTools pci_dev_group_bind_to_vfio.
_sim_bind_group_to_vfio() {
	local R=$1 bdf=$2 dev id class vfio=/sys/bus/pci/drivers/vfio-pci
	[ -e "$R/sys/bus/pci/devices/$bdf/iommu_group" ] || {
		echo "cannot prepare PCI pass-through, IOMMU not present"; return 1; }
	# no vfio-pci driver directory: a node laid out without driver binding
	[ -d "$R$vfio" ] || return 0
	for dev in "$R/sys/bus/pci/devices/$bdf/iommu_group/devices/"*; do
		[ -e "$dev" ] || continue
		id=${dev##*/}
		class=$(cat "$dev/class")
		case $class in 0x0604*) continue ;; esac # bridges stay
		_sim_bind_to_vfio "$R" "$id" || { echo "can't unbind/bind PCI group to VFIO '$bdf'"; return 1; }
	done
}

# pve-common SysFSTools pci_dev_bind_to_vfio: new_id, unbind, bind.
_sim_bind_to_vfio() {
	local R=$1 id=$2 vfio=/sys/bus/pci/drivers/vfio-pci d="$1/sys/bus/pci/devices/$2"
	[ -e "$R$vfio/$id" ] && return 0
	_sim_sysfs_write "$R" "$vfio/new_id" "$(sed 's/^0x//' "$d/vendor") $(sed 's/^0x//' "$d/device")" || return 1
	if [ -e "$d/driver/unbind" ] || [ -L "$d/driver" ]; then
		_sim_sysfs_write "$R" "/sys/bus/pci/devices/$id/driver/unbind" "$id" || return 1
	fi
	if [ ! -e "$R$vfio/$id" ]; then
		_sim_sysfs_write "$R" "$vfio/bind" "$id" || return 1
	fi
	[ -e "$R$vfio/$id" ]
}

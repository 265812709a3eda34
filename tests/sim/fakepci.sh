# shellcheck shell=bash
# Lay out PCI functions in a fake sysfs under a root prefix, as fakesys.so expects:
# a thin wrapper over the simulator's sim_add_pci (kernel.sh), for suites that
# need no whole simulated node. Source it, then:
#   fakepci_add R BDF vendor device class group driver host_driver nodes
#     driver: bound now ("" = none); host_driver: what the kernel would pick;
#     nodes: device nodes the host driver creates ("drm:card0 drm:renderD128", "nvidia:0").
# Run the program under test with LD_PRELOAD="$top_builddir/tests/sim/fakesys.so".

SIM_DIR=${SIM_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
. "$SIM_DIR/kernel.sh"

fakepci_driver_dir() {
	_sim_driver_dir "$1" "$2"
	: >>"$1/sys/bus/pci/drivers_probe"
}

fakepci_add() {
	local R=$1
	# what sim_init would have made: the event log, the class directories, vfio-pci
	mkdir -p "$R/var/lib/sim" "$R/sys/bus/pci/devices" "$R/sys/class/drm" "$R/sys/dev/char"
	fakepci_driver_dir "$R" vfio-pci
	sim_add_pci "$@"
}

# What Proxmox does at VM start (pci_dev_bind_to_vfio), without the shim: record the
# id in vfio-pci's dynamic ids (as the fake kernel keeps them) and move the function.
fakepci_to_vfio() {
	local R=$1 bdf=$2 dev="$1/sys/bus/pci/devices/$2" id ids="$1/sys/bus/pci/drivers/vfio-pci/.sim_ids"
	id="$(printf '%04x %04x' "$(cat "$dev/vendor")" "$(cat "$dev/device")")"
	grep -qx "$id" "$ids" 2>/dev/null || echo "$id" >>"$ids"
	[ -z "$(_sim_pci_driver "$R" "$bdf")" ] || _sim_kernel_unbind "$R" "$bdf"
	_sim_kernel_bind "$R" "$bdf" vfio-pci
}

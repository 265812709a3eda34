#!/bin/bash
# demo.sh NODE_DIR HOOK: the demo scenario on a fresh simulated node in NODE_DIR.
set -eu
node=$1 hook=$2
. "$(dirname "$(readlink -f "$0")")/lib.sh"
[ -x "$hook" ] || { echo "demo: the hook '$hook' was not built" >&2; exit 1; }
# A node left by an earlier run: stop its processes, start again from nothing.
[ -d "$node" ] && sim_teardown "$node"
rm -rf "$node"
mkdir -p "$node"
R=$(cd "$node" && pwd)
sim_init "$R" pve1
# One NVIDIA card for VMs only: VGA and audio functions in IOMMU group 14, on vfio-pci.
sim_add_pci "$R" 0000:05:00.0 10de 2204 030000 14 vfio-pci nvidia nvidia:0
sim_add_pci "$R" 0000:05:00.1 10de 1aef 040300 14 vfio-pci snd_hda_intel
sim_add_vm "$R" 102 name=win11 ostype=win11 machine=q35 hostpci0=0000:05:00,pcie=1,x-vga=1
sim_add_vm "$R" 103 name=ubuntu-ml machine=q35 hostpci0=0000:05:00,pcie=1
sim_add_vm "$R" 104 name=gaming machine=q35 hostpci0=0000:05:00,pcie=1,x-vga=1 running=1
sim_add_vm "$R" 105 name=render machine=q35 hostpci0=0000:05:00,pcie=1
printf 'script: %s\n' "$hook" >"$R/etc/vzdump.conf"
trap 'sim_teardown "$R"' EXIT
echo "# simulated node $R: VMs 102-105 share the GPU 0000:05:00, VM 104 is running"
echo "# vzdump 102 103 104 105 --mode stop"
rc=0
PVE_GPU_BACKUP_ROOT=$R "$(dirname "$(readlink -f "$0")")/vzdump" 102 103 104 105 --mode stop || rc=$?
states=""
for v in 102 103 104 105; do states+="VM $v $(sim_vm_state "$R" "$v"), "; done
stops=$(sim_events "$R" | grep -c '^104 stop$' || true)
echo "# guests now: ${states%, }; VM 104 was shut down $stops time(s); backups: $(ls "$R/var/lib/vz/dump/"*.vma.zst 2>/dev/null | wc -l) of 4"
exit $rc

# Shared by the setup-*.bats suites: a fake node under $BATS_TEST_TMPDIR/root.
load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load
load fakenode
load helpers

SETUP=$(prog_path pve-gpu-backup-setup)
OURS="script: /usr/sbin/pve-gpu-backup-hook"
COMMENT="# pve-gpu-backup-setup: park guests holding a GPU while a stopped guest that needs it is backed up"

make_root() {
	ROOT="$BATS_TEST_TMPDIR/root"
	export PVE_GPU_BACKUP_ROOT="$ROOT"
	fake_node pve1
	mkdir -p "$ROOT/etc/logrotate.d" "$ROOT/tmp" "$ROOT/usr/sbin" "$ROOT/root/scripts"
	# the hook as the package installs it, and the other hooks the tests chain
	for h in usr/sbin/pve-gpu-backup-hook root/h.sh root/scripts/backup-hook.sh; do
		printf '#!/bin/sh\nexit 0\n' >"$ROOT/$h"
		chmod 0755 "$ROOT/$h"
	done
	VZ="$ROOT/etc/vzdump.conf"
	HC="$ROOT/etc/pve-gpu-backup-hook.conf"
}

# fake_gpu <pci_addr> <vendor> <device> <driver|-> <iommu group|->
fake_gpu() {
	local d="$ROOT/sys/bus/pci/devices/$1"
	mkdir -p "$d"
	echo 0x030000 >"$d/class"
	echo "0x$2" >"$d/vendor"
	echo "0x$3" >"$d/device"
	if [ "$4" != - ]; then
		mkdir -p "$ROOT/sys/bus/pci/drivers/$4"
		ln -s "../../../bus/pci/drivers/$4" "$d/driver"
	fi
	if [ "$5" != - ]; then
		mkdir -p "$ROOT/sys/kernel/iommu_groups/$5/devices"
		ln -s "../../../kernel/iommu_groups/$5" "$d/iommu_group"
		ln -s "../../../../bus/pci/devices/$1" "$ROOT/sys/kernel/iommu_groups/$5/devices/$1"
	fi
}

with_pci_ids() {
	mkdir -p "$ROOT/usr/share/misc"
	cp /usr/share/misc/pci.ids "$ROOT/usr/share/misc/pci.ids"
}

# A checksum of every file under the root with its mode (what "nothing changed"
# means); the empty lock file the wizard leaves, as flock(1) users do, is not content.
tree_sum() {
	(cd "$ROOT" && find . \( -path ./sys -o -path ./etc/vzdump.conf.lock \) -prune -o \( -type f -o -type l \) -printf '%p %m %l\n' | sort &&
		find . \( -path ./sys -o -path ./etc/vzdump.conf.lock \) -prune -o -type f -print0 | sort -z | xargs -0r sha256sum) | sha256sum
	[ ! -s "$ROOT/etc/vzdump.conf.lock" ]
}

# Run the wizard without a terminal on stdin.
wizard() {
	run "$SETUP" --no-color "$@" </dev/null
}

# Run the wizard on a pseudo-terminal, answering $1.
wizard_tty() {
	local answer=$1
	shift
	run bash -c 'printf "%s\n" "$1" | script -qec "$2" /dev/null' _ "$answer" "$SETUP $*"
}

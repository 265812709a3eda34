#!/usr/bin/env bats
# The fake kernel (tests/sim/fakesys.so): shell writes into the fake sysfs behave like Linux's.

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load

setup() {
	R=$BATS_TEST_TMPDIR/root
	export PVE_GPU_BACKUP_ROOT=$R
	SHIM=$top_builddir/tests/sim/fakesys.so
	. "$top_srcdir/tests/sim/fakepci.sh"
	fakepci_add "$R" 0000:00:02.0 0x8086 0x3e92 0x030000 1 i915 i915 "drm:card0 drm:renderD128"
	P=$R/sys/bus/pci
}

# Run a shell snippet under the fake kernel, from $R/sys/bus/pci.
ksh() {
	run env LD_PRELOAD="$SHIM" bash -c "cd '$P' && $1"
}

driver_of() {
	basename "$(readlink "$P/devices/$1/driver")"
}

@test "bind to a driver while bound fails with EBUSY and changes nothing" {
	ksh 'echo 0000:00:02.0 > drivers/vfio-pci/bind'
	assert_failure
	assert_output --partial "echo: write error: Device or resource busy"
	[ "$(driver_of 0000:00:02.0)" = i915 ]
	[ -e "$R/dev/dri/renderD128" ]
}

@test "unbind through the device's driver link removes both links and the host driver's nodes" {
	ksh 'echo 0000:00:02.0 > devices/0000:00:02.0/driver/unbind'
	assert_success
	[ ! -e "$P/devices/0000:00:02.0/driver" ]
	[ ! -e "$P/drivers/i915/0000:00:02.0" ]
	[ ! -e "$R/dev/dri/renderD128" ]
	[ ! -e "$R/dev/dri/card0" ]
	[ ! -e "$R/sys/class/drm/renderD128" ]
}

@test "bind to the host driver brings the device nodes and the drm class link back" {
	ksh 'echo 0000:00:02.0 > drivers/i915/unbind && echo 0000:00:02.0 > drivers/i915/bind'
	assert_success
	[ "$(driver_of 0000:00:02.0)" = i915 ]
	[ -L "$P/drivers/i915/0000:00:02.0" ]
	[ -f "$R/dev/dri/renderD128" ]
	[ -f "$R/dev/dri/card0" ]
	[ "$(cd "$R/sys/class/drm/renderD128/device" && pwd -P)" = "$(cd "$R/sys/devices/pci0000:00/0000:00:02.0" && pwd -P)" ]
}

@test "unbind from a driver the device is not bound to fails with ENODEV" {
	ksh 'echo 0000:00:02.0 > drivers/vfio-pci/unbind'
	assert_failure
	assert_output --partial "write error: No such device"
	[ "$(driver_of 0000:00:02.0)" = i915 ]
}

@test "bind of an absent device or to a driver that does not match fails with ENODEV" {
	ksh 'echo 0000:09:00.0 > drivers/i915/bind'
	assert_failure
	assert_output --partial "No such device"
	ksh 'echo 0000:00:02.0 > drivers/i915/unbind && echo 0000:00:02.0 > drivers/vfio-pci/bind'
	assert_failure
	assert_output --partial "No such device"
	[ ! -e "$P/devices/0000:00:02.0/driver" ]
}

@test "new_id records the id and grabs every unbound device with it; a second new_id is EEXIST" {
	ksh 'echo 0000:00:02.0 > drivers/i915/unbind && echo "8086 3e92" > drivers/vfio-pci/new_id'
	assert_success
	[ "$(driver_of 0000:00:02.0)" = vfio-pci ]
	grep -qx '8086 3e92' "$P/drivers/vfio-pci/.sim_ids"
	ksh 'echo "8086 3e92" > drivers/vfio-pci/new_id'
	assert_failure
	assert_output --partial "File exists"
}

@test "remove_id drops a dynamic id; an id that is not there is ENODEV" {
	ksh 'echo "8086 3e92" > drivers/vfio-pci/new_id && echo "8086 3e92" > drivers/vfio-pci/remove_id'
	assert_success
	! grep -q '8086 3e92' "$P/drivers/vfio-pci/.sim_ids"
	[ "$(driver_of 0000:00:02.0)" = i915 ]
	ksh 'echo "8086 3e92" > drivers/vfio-pci/remove_id'
	assert_failure
	assert_output --partial "No such device"
}

@test "driver_override stores a name and a lone newline clears it to (null)" {
	ksh 'echo vfio-pci > devices/0000:00:02.0/driver_override && cat devices/0000:00:02.0/driver_override'
	assert_success
	assert_output vfio-pci
	ksh 'echo > devices/0000:00:02.0/driver_override && cat devices/0000:00:02.0/driver_override'
	assert_output "(null)"
}

@test "drivers_probe follows driver_override, then vfio-pci's dynamic ids, then the host driver" {
	ksh 'echo 0000:00:02.0 > drivers/i915/unbind && echo "8086 3e92" > drivers/vfio-pci/new_id'
	[ "$(driver_of 0000:00:02.0)" = vfio-pci ]
	ksh 'echo 0000:00:02.0 > drivers/vfio-pci/unbind && echo i915 > devices/0000:00:02.0/driver_override &&
	     echo 0000:00:02.0 > drivers_probe'
	assert_success
	[ "$(driver_of 0000:00:02.0)" = i915 ]
	ksh 'echo 0000:00:02.0 > drivers/i915/unbind && echo > devices/0000:00:02.0/driver_override &&
	     echo 0000:00:02.0 > drivers_probe'
	[ "$(driver_of 0000:00:02.0)" = vfio-pci ]
	ksh 'echo 0000:00:02.0 > drivers/vfio-pci/unbind && echo "8086 3e92" > drivers/vfio-pci/remove_id &&
	     echo 0000:00:02.0 > drivers_probe'
	assert_success
	[ "$(driver_of 0000:00:02.0)" = i915 ]
	[ -e "$R/dev/dri/renderD128" ]
	ksh 'echo 0000:07:00.0 > drivers_probe'
	assert_failure
	assert_output --partial "No such device"
}

@test "a command file named in .sim/refuse fails with EPERM" {
	echo unbind >"$R/sys/devices/pci0000:00/0000:00:02.0/.sim/refuse"
	ksh 'echo 0000:00:02.0 > drivers/i915/unbind'
	assert_failure
	assert_output --partial "echo: write error: Operation not permitted"
	[ "$(driver_of 0000:00:02.0)" = i915 ]
}

@test "an external program's write is applied too (/bin/echo, printf without newline)" {
	ksh '/bin/echo 0000:00:02.0 > drivers/i915/unbind'
	assert_success
	[ ! -e "$P/devices/0000:00:02.0/driver" ]
	ksh '/bin/echo 0000:00:02.0 > drivers/vfio-pci/bind'
	assert_failure
	assert_output --partial "write error: No such device"
	ksh 'printf 0000:00:02.0 > drivers/i915/bind'
	assert_success
	[ "$(driver_of 0000:00:02.0)" = i915 ]
}

@test "the NVIDIA driver creates /dev/nvidiaN and its /proc information file" {
	fakepci_add "$R" 0000:05:00.0 0x10de 0x2204 0x030000 2 vfio-pci nvidia "nvidia:0"
	[ ! -e "$R/dev/nvidia0" ]
	ksh 'echo 0000:05:00.0 > drivers/vfio-pci/unbind && echo 0000:05:00.0 > drivers/nvidia/bind'
	assert_success
	[ -f "$R/dev/nvidia0" ]
	run cat "$R/proc/driver/nvidia/gpus/0000:05:00.0/information"
	assert_line --regexp '^Device Minor:[[:space:]]+0$'
	assert_line --regexp '^Bus Location:[[:space:]]+0000:05:00.0$'
	ksh 'echo 0000:05:00.0 > devices/0000:05:00.0/driver/unbind'
	[ ! -e "$R/dev/nvidia0" ]
	[ ! -e "$R/proc/driver/nvidia/gpus/0000:05:00.0" ]
}

@test "files the fake kernel does not own are written as usual" {
	ksh 'echo hello > devices/0000:00:02.0/.sim/note && cat devices/0000:00:02.0/.sim/note'
	assert_success
	assert_output hello
}

@test "Proxmox's own sequence, written from Perl as SysFSTools does, moves the card to vfio-pci" {
	run env LD_PRELOAD="$SHIM" perl -e '
		sub w { my ($f, $v) = @_; open(my $fh, ">", $f) or return "$f: $!"; print $fh $v;
			close($fh) or return "$f: $!"; return "ok" }
		my $p = "$ENV{PVE_GPU_BACKUP_ROOT}/sys/bus/pci";
		print w("$p/drivers/vfio-pci/new_id", "8086 3e92"), "\n";
		print w("$p/devices/0000:00:02.0/driver/unbind", "0000:00:02.0"), "\n";
		print w("$p/drivers/vfio-pci/bind", "0000:00:02.0"), "\n";
		print w("$p/drivers/vfio-pci/bind", "0000:00:02.0"), "\n";'
	assert_success
	assert_output "ok
ok
ok
$P/drivers/vfio-pci/bind: Device or resource busy"
	[ "$(driver_of 0000:00:02.0)" = vfio-pci ]
	[ ! -e "$R/dev/dri/renderD128" ]
}

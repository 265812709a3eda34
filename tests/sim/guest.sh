# shellcheck shell=bash
# Guest state the doubles keep under R: fake QEMU/LXC processes, pid files,
# /proc entries, PCI reservations, HA resources. Error texts are Proxmox's.

_sim_event() { printf '%s %s\n' "$(date +%s.%N)" "$2" >>"$1/var/lib/sim/events"; }

# _sim_spawn R ARGV0: a long-running process in its own session, holding no
# descriptor of the caller (vzdump waits for EOF on the hook's pipes). Prints its pid.
_sim_spawn() {
	local R=$1 argv0=$2 pf i
	pf=$(mktemp "$R/var/lib/sim/spawn.XXXXXX") || return 1
	# fds 3-9 closed too: bats waits on fd 3, vzdump holds its lock on 8
	setsid -f bash -c 'echo $$ >"$1.new" && mv "$1.new" "$1"; unset LD_PRELOAD; exec -a "$2" sleep infinity' \
		_ "$pf" "$argv0" </dev/null >/dev/null 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-
	for ((i = 0; i < 100; i++)); do
		[ -s "$pf" ] && break
		sleep 0.05
	done
	local pid
	pid=$(cat "$pf"); rm -f "$pf"
	[ -n "$pid" ] || return 1
	echo "$pid" >>"$R/var/lib/sim/pids"
	echo "$pid"
}

_sim_node() { sim_node_name "$1"; }

# ---------------------------------------------------------------- VMs

_sim_vm_conf() { printf '%s/etc/pve/qemu-server/%s.conf\n' "$1" "$2"; }

# _sim_vm_pid R VMID: pid of the running QEMU (pid file + /proc/<pid>/cmdline).
_sim_vm_pid() {
	local R=$1 vmid=$2 pid
	pid=$(cat "$R/run/qemu-server/$vmid.pid" 2>/dev/null) || return 1
	[ -n "$pid" ] && [ -f "$R/proc/$pid/cmdline" ] && kill -0 "$pid" 2>/dev/null || return 1
	tr '\0' ' ' <"$R/proc/$pid/cmdline" | grep -q -- "-pidfile /var/run/qemu-server/$vmid.pid" || return 1
	echo "$pid"
}

_sim_vm_status() {
	local R=$1 vmid=$2
	if _sim_vm_pid "$R" "$vmid" >/dev/null; then
		cat "$R/var/lib/sim/$vmid.qmpstatus" 2>/dev/null || echo running
	else
		echo stopped
	fi
}

_sim_vm_kill() { # R VMID: QEMU exits; vm_stop_cleanup releases the reservations
	local R=$1 vmid=$2 pid was
	was=$(cat "$R/var/lib/sim/$vmid.qmpstatus" 2>/dev/null) || was=""
	pid=$(cat "$R/run/qemu-server/$vmid.pid" 2>/dev/null) || true
	if [ -n "$pid" ]; then
		kill -KILL "$pid" 2>/dev/null
		rm -rf "$R/proc/$pid"
	fi
	rm -f "$R/run/qemu-server/$vmid.pid" "$R/var/lib/sim/$vmid.qmpstatus"
	_sim_res_remove "$R" "$vmid"
	# a paused (backup) instance stopping is not a running guest going down
	if [ "$was" = prelaunch ]; then _sim_event "$R" "$vmid stop prelaunch"; else _sim_event "$R" "$vmid stop"; fi
}

_sim_res_file() { printf '%s/run/qemu-server/pci-id-reservations\n' "$1"; }

# _sim_res_reserve R VMID TAG ID...: qemu-server PCI.pm reserve_pci_usage;
# TAG is time:<expiry> or pid:<pid>. All or nothing; prints Proxmox's error.
_sim_res_reserve() {
	local R=$1 vmid=$2 tag=$3; shift 3
	local f
	f=$(_sim_res_file "$R")
	(
		flock -w 5 9 || { echo "can't lock file '/run/qemu-server/pci-id-reservations.lock' - got timeout"; exit 1; }
		declare -A rv=() rt=()
		local now id v t p
		now=$(date +%s)
		if [ -f "$f" ]; then
			while read -r id v t; do [ -n "$id" ] && rv[$id]=$v && rt[$id]=$t; done <"$f"
		fi
		for id in "$@"; do
			if [ -n "${rv[$id]:-}" ] && [ "${rv[$id]}" != "$vmid" ]; then
				case ${rt[$id]} in
				time:*)
					if [ "${rt[$id]#time:}" -gt "$now" ]; then
						echo "PCI device '$id' is currently reserved for use by VMID '${rv[$id]}'"; exit 1
					fi ;;
				pid:*)
					if p=$(_sim_vm_pid "$R" "${rv[$id]}") && [ "$p" = "${rt[$id]#pid:}" ]; then
						echo "PCI device '$id' already in use by VMID '${rv[$id]}'"; exit 1
					fi
					echo "leftover PCI reservation found for $id, lets take it..." >&2 ;;
				esac
			fi
			rv[$id]=$vmid; rt[$id]=$tag
		done
		for id in $(printf '%s\n' "${!rv[@]}" | sort); do
			printf '%s %s %s\n' "$id" "${rv[$id]}" "${rt[$id]}"
		done | _sim_write_atomic "$f"
	) 9>"$f.lock"
}

_sim_res_remove() { # R VMID: remove_pci_reservation
	local R=$1 vmid=$2 f
	f=$(_sim_res_file "$R")
	[ -f "$f" ] || return 0
	(
		flock -w 2 9 || exit 1
		awk -v v="$vmid" '$2 != v' "$f" | _sim_write_atomic "$f"
	) 9>"$f.lock"
}

# _sim_pci_expand R ID: an id as written in a config -> present functions.
_sim_pci_expand() {
	local R=$1 id=$2 d found=0
	case $id in [0-9a-f][0-9a-f]:*) id=0000:$id ;; esac
	if [[ $id == *.* ]]; then
		[ -e "$R/sys/bus/pci/devices/$id" ] || { echo "no PCI device found for '$2'"; return 1; }
		echo "$id"; return 0
	fi
	for d in "$R/sys/bus/pci/devices/$id".*; do
		[ -e "$d" ] || continue
		echo "${d##*/}"; found=1
	done
	[ "$found" = 1 ] || { echo "no PCI device found for '$2'"; return 1; }
}

# _sim_mapping_alts R NAME: one line per alternative of this node (ids space separated).
_sim_mapping_alts() {
	local R=$1 name=$2 node line path ids p x any=0
	node=$(_sim_node "$R")
	while read -r line; do
		path=$(tr ',' '\n' <<<"$line" | sed -n 's/^path=//p')
		ids=""
		for p in ${path//;/ }; do
			x=$(_sim_pci_expand "$R" "$p") || { echo "PCI device mapping invalid (hardware probably changed): $x"; return 1; }
			ids+="$x "
		done
		echo "${ids//$'\n'/ }"; any=1
	done < <(awk -v n="$name" -v node="$node" '
		/^[^ \t#]/ { insec = ($1 == n); next }
		/^$/ { insec = 0; next }
		insec && $1 == "map" { if (("," $2 ",") ~ ("[,]node=" node ",")) print $2 }' "$R/etc/pve/mapping/pci.cfg")
	[ "$any" = 1 ] || { echo "PCI device mapping not found for '$name'"; return 1; }
}

# _sim_vm_choose_pci R VMID: reserve (time-based) every hostpciN of the main
# section as vm_start_nolock does; prints "<hostpciN> <driver-mode> <id>" lines.
_sim_vm_choose_pci() {
	local R=$1 vmid=$2 conf key val host mapping mdev driver kv alts alt ok ids id tag used=" "
	conf=$(_sim_vm_conf "$R" "$vmid")
	tag=time:$(($(date +%s) + 30 * 4 + 5))
	while read -r key val; do
		[ -n "$key" ] || continue
		host="" mapping="" mdev="" driver=vfio
		local first=1
		IFS=, read -ra kv <<<"$val"
		for x in "${kv[@]}"; do
			case $x in
			host=*) host=${x#host=} ;;
			mapping=*) mapping=${x#mapping=} ;;
			mdev=*) mdev=${x#mdev=} ;;
			driver=*) driver=${x#driver=} ;;
			*=*) ;;
			*) [ "$first" = 1 ] && host=$x ;;
			esac
			first=0
		done
		# classic mediated devices share their parent: no reservation
		[ -n "$mdev" ] && [[ $mdev != nvidia-* ]] && continue
		if [ -n "$host" ] && [ -n "$mapping" ]; then echo "Cannot set both 'host' and 'mapping'."; return 1; fi
		if [ -n "$mapping" ]; then
			alts=$(_sim_mapping_alts "$R" "$mapping") || { echo "$alts"; return 1; }
		elif [ -n "$host" ]; then
			alts=""
			for id in ${host//;/ }; do
				x=$(_sim_pci_expand "$R" "$id") || { echo "$x"; return 1; }
				alts+="${x//$'\n'/ } "
			done
		else
			echo "Either 'host' or 'mapping' must be set."; return 1
		fi
		if [ "$(wc -l <<<"$alts")" -gt 1 ]; then
			ok=""
			while read -r alt; do
				# an alternative an earlier hostpciN of this VM took is skipped (choose_hostpci_devices)
				for id in $alt; do [[ $used == *" $id "* ]] && continue 2; done
				# shellcheck disable=SC2086
				if _sim_res_reserve "$R" "$vmid" "$tag" $alt >/dev/null 2>&1; then ok=$alt; break; fi
			done <<<"$alts"
			[ -n "$ok" ] || { echo "could not find a free device for '$key'"; return 1; }
			ids=$ok
		else
			ids=$alts
			# shellcheck disable=SC2086
			_sim_res_reserve "$R" "$vmid" "$tag" $ids || return 1
		fi
		for id in $ids; do echo "$key $driver $id"; used+="$id "; done
	done < <(_sim_conf_keys "$conf" '^hostpci[0-9]+$')
}

# _sim_vm_start R VMID SKIPLOCK PAUSED BACKUP: qemu-server vm_start(_nolock).
# BACKUP=1 is vzdump's start (skiptemplate, minimized template config).
_sim_vm_start() {
	local R=$1 vmid=$2 skiplock=$3 paused=$4 backup=$5 conf lock name pid devs cmd status
	conf=$(_sim_vm_conf "$R" "$vmid")
	[ -f "$conf" ] || { echo "Configuration file 'nodes/$(_sim_node "$R")/qemu-server/$vmid.conf' does not exist"; return 2; }
	lock=$(_sim_conf_get "$conf" lock) || lock=""
	if _sim_vm_pid "$R" "$vmid" >/dev/null; then
		status=$(_sim_vm_status "$R" "$vmid")
		# vzdump's paused instance of a VM being backed up is resumed, not started
		if [ "$lock" = backup ] && [ "$paused" != 1 ] && [ "$status" = prelaunch ]; then
			echo running >"$R/var/lib/sim/$vmid.qmpstatus"
			_sim_event "$R" "$vmid resume"
			return 0
		fi
		echo "VM $vmid already running"; return 1
	fi
	if [ "$skiplock" != 1 ] && [ -n "$lock" ]; then echo "VM is locked ($lock)"; return 1; fi
	local template
	template=$(_sim_conf_get "$conf" template) || template=0
	if [ "$template" = 1 ] && [ "$backup" != 1 ]; then echo "you can't start a vm if it's a template"; return 1; fi
	_sim_apply_pending "$conf"
	devs=""
	if [ "$template" != 1 ]; then
		devs=$(_sim_vm_choose_pci "$R" "$vmid") || { echo "$devs"; return 1; }
	fi
	local key driver id out
	while read -r key driver id; do
		[ -n "$id" ] || continue
		[ "$driver" = keep ] && continue
		if ! out=$(_sim_bind_group_to_vfio "$R" "$id"); then
			_sim_res_remove "$R" "$vmid"; echo "$out"; return 1
		fi
	done <<<"$devs"
	# QEMU opens /dev/vfio/<group>: busy while another VM uses any device of that group
	if ! out=$(_sim_vfio_group_busy "$R" "$vmid" "$devs"); then
		_sim_res_remove "$R" "$vmid"; echo "$out" >&2; echo "start failed: QEMU exited with code 1"; return 1
	fi
	name=$(_sim_conf_get "$conf" name) || name=VM$vmid
	cmd=(/usr/bin/kvm -id "$vmid" -name "$name,debug-threads=on" -no-shutdown
		-chardev "socket,id=qmp,path=/var/run/qemu-server/$vmid.qmp,server=on,wait=off"
		-mon chardev=qmp,mode=control -pidfile "/var/run/qemu-server/$vmid.pid" -daemonize)
	while read -r key driver id; do
		[ -n "$id" ] && cmd+=(-device "vfio-pci,host=$id,id=$key.${id##*.},bus=ich9-pcie-port-1,addr=0x0.${id##*.}")
	done <<<"$devs"
	[ "$paused" = 1 ] && cmd+=(-S)
	pid=$(_sim_spawn "$R" /usr/bin/kvm) || { _sim_res_remove "$R" "$vmid"; echo "start failed: QEMU exited"; return 1; }
	mkdir -p "$R/proc/$pid"
	printf '%s\0' "${cmd[@]}" >"$R/proc/$pid/cmdline"
	if [ "$paused" = 1 ]; then echo prelaunch; else echo running; fi >"$R/var/lib/sim/$vmid.qmpstatus"
	echo "$pid" | _sim_write_atomic "$R/run/qemu-server/$vmid.pid"
	local ids
	ids=$(awk '{ print $3 }' <<<"$devs" | xargs)
	# shellcheck disable=SC2086
	[ -z "$ids" ] || _sim_res_reserve "$R" "$vmid" "pid:$pid" $ids >/dev/null
	if [ "$paused" = 1 ]; then _sim_event "$R" "$vmid start paused"; else _sim_event "$R" "$vmid start"; fi
	return 0
}

_sim_group_of() { local t; t=$(readlink "$1/sys/bus/pci/devices/$2/iommu_group" 2>/dev/null) && echo "${t##*/}"; }

# _sim_vfio_group_busy R VMID DEVS: prints QEMU's error and fails when a device
# of DEVS ("key driver id" lines) shares an IOMMU group with another running VM's.
_sim_vfio_group_busy() {
	local R=$1 vmid=$2 devs=$3 key driver id g pf other pid used u
	while read -r key driver id; do
		[ -n "$id" ] || continue
		g=$(_sim_group_of "$R" "$id") || continue
		for pf in "$R"/run/qemu-server/*.pid; do
			[ -e "$pf" ] || continue
			other=${pf##*/}; other=${other%.pid}
			[ "$other" = "$vmid" ] && continue
			pid=$(_sim_vm_pid "$R" "$other") || continue
			used=$(tr '\0' '\n' <"$R/proc/$pid/cmdline" | sed -n 's/^vfio-pci,host=\([^,]*\),.*/\1/p')
			for u in $used; do
				if [ "$(_sim_group_of "$R" "$u")" = "$g" ]; then
					echo "kvm: -device vfio-pci,host=$id,id=$key: vfio $id: failed to open /dev/vfio/$g: Device or resource busy"
					return 1
				fi
			done
		done
	done <<<"$devs"
	return 0
}

# _sim_wait_gone KIND R VMID SECONDS: poll until the guest is gone or time is up.
_sim_wait_gone() {
	local kind=$1 R=$2 vmid=$3 secs=$4 end
	end=$(awk -v s="$secs" -v n="$EPOCHREALTIME" 'BEGIN { printf "%.3f", n + s }')
	while awk -v e="$end" -v n="$EPOCHREALTIME" 'BEGIN { exit !(n < e) }'; do
		if [ "$kind" = vm ]; then _sim_vm_pid "$R" "$vmid" >/dev/null || return 0
		else _sim_ct_running "$R" "$vmid" || return 0; fi
		sleep 0.1
	done
	return 1
}

# How long the guest takes to power off after ACPI: "" = never.
_sim_shutdown_delay() {
	local R=$1 vmid=$2
	[ -s "$R/var/lib/sim/$vmid.ignore-acpi" ] && return 0
	cat "$R/var/lib/sim/$vmid.shutdown-delay" 2>/dev/null || echo 0
}

_sim_le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 <= b + 0) }'; }

# _sim_vm_shutdown R VMID TIMEOUT FORCE SKIPLOCK: vm_shutdown -> vm_stop(shutdown=1).
_sim_vm_shutdown() {
	local R=$1 vmid=$2 timeout=$3 force=$4 skiplock=$5 conf lock status delay
	conf=$(_sim_vm_conf "$R" "$vmid")
	[ -f "$conf" ] || { echo "Configuration file 'nodes/$(_sim_node "$R")/qemu-server/$vmid.conf' does not exist"; return 2; }
	lock=$(_sim_conf_get "$conf" lock) || lock=""
	if [ "$skiplock" != 1 ] && [ -n "$lock" ]; then echo "VM is locked ($lock)"; return 1; fi
	_sim_vm_pid "$R" "$vmid" >/dev/null || return 0
	status=$(_sim_vm_status "$R" "$vmid")
	case $status in
	paused|prelaunch|suspended)
		if [ "$force" = 1 ]; then echo "VM is paused - stop instead of shutdown" >&2; _sim_vm_kill "$R" "$vmid"; return 0; fi
		echo "VM is paused - cannot shutdown"; return 1 ;;
	esac
	if [ -z "$timeout" ]; then
		timeout=$(_sim_conf_get "$conf" startup | tr ',' '\n' | sed -n 's/^down=//p')
		timeout=${timeout:-60}
	fi
	_sim_event "$R" "$vmid shutdown-request"
	delay=$(_sim_shutdown_delay "$R" "$vmid")
	if [ -n "$delay" ] && _sim_le "$delay" "$timeout"; then
		_sim_wait_gone vm "$R" "$vmid" "$delay" || _sim_vm_kill "$R" "$vmid"
		return 0
	fi
	_sim_wait_gone vm "$R" "$vmid" "$timeout" && return 0
	if [ "$force" = 1 ]; then
		echo "VM still running - terminating now with SIGTERM" >&2
		_sim_vm_kill "$R" "$vmid"; return 0
	fi
	# the guest got the ACPI request: a slow one still powers off later
	[ -n "$delay" ] && _sim_later "$R" vm "$vmid" "$(awk -v d="$delay" -v t="$timeout" 'BEGIN { print d - t }')"
	echo "VM quit/powerdown failed - got timeout"; return 1
}

# _sim_later R vm|ct VMID SECONDS: the guest powers off SECONDS from now (if
# the same instance still runs then), in a background process.
_sim_later() {
	local R=$1 kind=$2 vmid=$3 secs=$4 pid
	if [ "$kind" = vm ]; then pid=$(_sim_vm_pid "$R" "$vmid"); else pid=$(cat "$R/var/lib/sim/ct-$vmid.pid"); fi
	setsid -f bash -c '
		echo "$$ later" >>"$2/var/lib/sim/pids"
		. "$1/lib.sh"
		_sim_wait_gone "$3" "$2" "$4" "$5" && exit 0
		if [ "$3" = vm ]; then
			[ "$(_sim_vm_pid "$2" "$4")" = "$6" ] && _sim_vm_kill "$2" "$4"
		else
			[ "$(cat "$2/var/lib/sim/ct-$4.pid" 2>/dev/null)" = "$6" ] && _sim_ct_kill "$2" "$4"
		fi' _ "$SIM_DIR" "$R" "$kind" "$vmid" "$secs" "$pid" </dev/null >/dev/null 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-
}

# ---------------------------------------------------------------- containers

_sim_ct_conf() { printf '%s/etc/pve/lxc/%s.conf\n' "$1" "$2"; }

_sim_ct_running() { # R VMID: the abstract socket LXC's monitor listens on
	local pid
	grep -q " @/var/lib/lxc/$2/command\$" "$1/proc/net/unix" 2>/dev/null || return 1
	pid=$(cat "$1/var/lib/sim/ct-$2.pid" 2>/dev/null) && kill -0 "$pid" 2>/dev/null
}

_sim_unix_edit() { # R VMID add|del
	local R=$1 vmid=$2 op=$3 f="$1/proc/net/unix"
	(
		flock -w 5 9 || exit 1
		{
			grep -v " @/var/lib/lxc/$vmid/command\$" "$f"
			[ "$op" = add ] && printf '0000000000000000: 00000002 00000000 00010000 0001 01 %d @/var/lib/lxc/%s/command\n' \
				"$((20000 + vmid % 10000))" "$vmid"
		} | _sim_write_atomic "$f"
	) 9>"$R/var/lib/sim/unix.lock"
}

_sim_ct_kill() {
	local R=$1 vmid=$2 pid
	pid=$(cat "$R/var/lib/sim/ct-$vmid.pid" 2>/dev/null) || true
	[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
	rm -f "$R/var/lib/sim/ct-$vmid.pid" "$R/var/lib/sim/ct-$vmid.devices"
	_sim_unix_edit "$R" "$vmid" del
	_sim_event "$R" "$vmid stop"
}

# _sim_ct_start R VMID SKIPLOCK: PVE::LXC::vm_start with update_lxc_config's device checks.
_sim_ct_start() {
	local R=$1 vmid=$2 skiplock=$3 conf lock key val path pid src opts devs=""
	conf=$(_sim_ct_conf "$R" "$vmid")
	[ -f "$conf" ] || { echo "Configuration file 'nodes/$(_sim_node "$R")/lxc/$vmid.conf' does not exist"; return 2; }
	_sim_ct_running "$R" "$vmid" && { echo "CT $vmid already running"; return 1; }
	lock=$(_sim_conf_get "$conf" lock) || lock=""
	if [ "$skiplock" != 1 ] && [ -n "$lock" ]; then echo "CT is locked ($lock)"; return 1; fi
	while read -r key val; do
		case $key in
		dev[0-9]*)
			path=${val%%,*}; path=${path#path=}
			[ -e "$R$path" ] || { echo "Device $path does not exist"; return 1; }
			devs+="$path " ;;
		lxc.mount.entry)
			read -r src _ _ opts _ <<<"$val"
			[[ $src == /dev/* ]] || continue
			if [ -e "$R$src" ]; then devs+="$src "
			elif [[ ,$opts, != *,optional,* ]]; then
				echo "lxc-start: $vmid: ../src/lxc/conf.c: mount_entry: 2431 No such file or directory - Failed to mount \"$src\" on \"/usr/lib/x86_64-linux-gnu/lxc/rootfs/${val#* }\"" >&2
				echo "startup for container '$vmid' failed"; return 1
			fi ;;
		esac
	done < <(_sim_conf_keys "$conf" '^(dev[0-9]+|lxc\.mount\.entry)$')
	pid=$(_sim_spawn "$R" "[lxc monitor] /var/lib/lxc $vmid") || { echo "startup for container '$vmid' failed"; return 1; }
	echo "$pid" >"$R/var/lib/sim/ct-$vmid.pid"
	printf '%s\n' $devs >"$R/var/lib/sim/ct-$vmid.devices"
	_sim_unix_edit "$R" "$vmid" add
	_sim_event "$R" "$vmid start"
}

# _sim_ct_shutdown R VMID TIMEOUT FORCE [NOLOCKCHECK]: PVE::LXC::vm_stop(shutdown). pct
# shutdown has no --skiplock; vzdump calls vm_stop directly (NOLOCKCHECK=1).
_sim_ct_shutdown() {
	local R=$1 vmid=$2 timeout=${3:-60} force=$4 nolock=${5:-0} conf lock delay
	conf=$(_sim_ct_conf "$R" "$vmid")
	[ -f "$conf" ] || { echo "Configuration file 'nodes/$(_sim_node "$R")/lxc/$vmid.conf' does not exist"; return 2; }
	lock=$(_sim_conf_get "$conf" lock) || lock=""
	[ "$nolock" != 1 ] && [ -n "$lock" ] && { echo "CT is locked ($lock)"; return 1; }
	_sim_ct_running "$R" "$vmid" || { echo "CT $vmid not running"; return 1; }
	_sim_event "$R" "$vmid shutdown-request"
	delay=$(_sim_shutdown_delay "$R" "$vmid")
	if [ -n "$delay" ] && _sim_le "$delay" "$timeout"; then
		_sim_wait_gone ct "$R" "$vmid" "$delay" || _sim_ct_kill "$R" "$vmid"
		return 0
	fi
	_sim_wait_gone ct "$R" "$vmid" "$timeout" && return 0
	if [ "$force" = 1 ]; then _sim_ct_kill "$R" "$vmid"; return 0; fi
	[ -n "$delay" ] && _sim_later "$R" ct "$vmid" "$(awk -v d="$delay" -v t="$timeout" 'BEGIN { print d - t }')"
	echo "container did not stop"; return 1
}

# ---------------------------------------------------------------- HA

# _sim_ha_state R vm|ct VMID: requested state, nothing when not a resource.
_sim_ha_state() {
	awk -v s="$2: $3" '
		$0 == s { insec = 1; st = "started"; found = 1; next }
		/^[^ \t]/ { insec = 0 }
		insec && $1 == "state" { st = $2 }
		END { if (found) print st; exit !found }' "$1/etc/pve/ha/resources.cfg" 2>/dev/null
}

_sim_ha_managed() { # R KIND VMID: a resource whose state is not "ignored"
	local st
	st=$(_sim_ha_state "$@") || return 1
	[ "$st" != ignored ]
}

_sim_ha_set_state() { # R KIND VMID STATE
	local R=$1 f="$1/etc/pve/ha/resources.cfg"
	(
		flock -w 5 9 || exit 1
		awk -v s="$2: $3" -v st="$4" '
			function out() { if (insec && !done) print "\tstate " st; done = 1 }
			$0 == s { insec = 1; print; next }
			insec && /^[^ \t]/ { out(); insec = 0 }
			insec && $1 == "state" { print "\tstate " st; done = 1; next }
			insec && /^$/ { out(); insec = 0 }
			{ print }
			END { out() }' "$f" | _sim_write_atomic "$f"
	) 9>"$R/var/lib/sim/ha.lock"
}

# _sim_ha_request R KIND VMID ACTION [TIMEOUT]: the CRM/LRM acting later, in the background.
_sim_ha_request() {
	local R=$1
	echo "$(date +%s) $2:$3 $4 ${5:-}" >>"$R/var/lib/sim/ha-requests"
	setsid -f "$SIM_DIR/ha-manager" __apply "$2" "$3" "$4" "${5:-}" </dev/null >/dev/null 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-
}

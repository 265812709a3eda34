# shellcheck shell=bash
# Shared start of the qm/pct/ha-manager doubles: find R, parse PVE-style options.
# Like PVE's run_cli_handler, set PATH: vzdump hooks run with an empty environment.
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
SIM_DIR=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
. "$SIM_DIR/lib.sh"
R=${PVE_GPU_BACKUP_ROOT:-}
if [ -z "$R" ] || [ ! -d "$R/var/lib/sim" ]; then
	echo "${0##*/} (simulator): PVE_GPU_BACKUP_ROOT does not name a simulated node" >&2
	exit 255
fi

# _sim_opts ARGS...: sets OPT_<name> for --name VALUE, --name=VALUE, -name VALUE,
# and a bare boolean --name (= 1); positional arguments go to POS.
declare -A OPT=()
POS=()
_sim_opts() {
	local a n
	while [ $# -gt 0 ]; do
		a=$1; shift
		case $a in
		--*=*|-*=*) n=${a#-}; n=${n#-}; OPT[${n%%=*}]=${a#*=} ;;
		--*|-[a-z]*)
			n=${a#-}; n=${n#-}
			if [ $# -gt 0 ] && [[ $1 != -* ]]; then OPT[$n]=$1; shift; else OPT[$n]=1; fi ;;
		*) POS+=("$a") ;;
		esac
	done
}

_sim_vmid_ok() { [[ $1 =~ ^[1-9][0-9]{2,8}$ ]]; }

# Run a step; on failure print its message to stderr and exit 255 (task failed).
_sim_task() {
	local out rc=0
	out=$("$@" 2>&1) || rc=$?
	[ -n "$out" ] && printf '%s\n' "$out" >&2
	[ $rc -eq 0 ] || exit 255
}

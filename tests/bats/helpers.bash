# Shared by the bats suites: `load helpers`.
# PVE_GPU_BACKUP_INSTALLED=1 (autopkgtest, .ci/package) tests the programs
# installed in /usr/sbin instead of the ones built in $top_builddir.

# prog_path NAME: the path of program NAME to test.
prog_path() {
	local rel
	case $1 in
	pve-gpu-backup-hook) rel=src/hook/pve-gpu-backup-hook ;;
	pve-gpu-backup-setup) rel=installer/pve-gpu-backup-setup ;;
	gpu-diag) rel=diag/gpu-diag ;;
	*)
		echo "prog_path: unknown program '$1'" >&2
		return 2
		;;
	esac
	if [ "${PVE_GPU_BACKUP_INSTALLED:-0}" = 1 ]; then
		echo "/usr/sbin/$1"
	else
		echo "$top_builddir/$rel"
	fi
}

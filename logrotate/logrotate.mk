# Shipped by the Debian package (debian/pve-gpu-backup-hook.logrotate links here);
# a source install gets it from pve-gpu-backup-setup, which never overwrites it.
EXTRA_DIST += logrotate/pve-gpu-backup-hook
TESTS += tests/bats/logrotate.bats

# The hook's man pages; the wizard and gpu-diag list their own in their fragments.
dist_man_MANS += man/pve-gpu-backup-hook.8 man/pve-gpu-backup-hook.conf.5
TESTS += tests/bats/manpages.bats

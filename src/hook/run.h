/* One run of the hook for a vzdump phase (or for `recover`): the configuration,
 * the node, and the parked-guest records it works on. */
#pragma once

#include <stdbool.h>

#include "hookconf.h"
#include "node.h"
#include "plan.h"
#include "state.h"

struct hook_run {
	const char *phase;           /* "backup-start", ..., or "recover" */
	unsigned vmid;               /* the guest being backed up; 0 for job phases */
	struct hook_config conf;
	struct node node;
	bool node_loaded;
	int lock_fd;                 /* state lock, -1 when not held */
	struct parked_set parked;
	bool parked_loaded;
	char *upid;                  /* this job's UPID, or NULL */
	char *boot_id;               /* this boot's id, or NULL */
	struct pci_addr_set cards_failed; /* functions whose hand-back failed in this run */
};

void hook_run_init(struct hook_run *r, const char *phase, unsigned vmid);
void hook_run_release(struct hook_run *r);

/* Read /etc/pve-gpu-backup-hook.conf; a bad file is reported line by line. */
int hook_run_load_config(struct hook_run *r);
/* Load the whole node (guests, running state, reservations, IOMMU, HA). */
int hook_run_load_node(struct hook_run *r);
/* Take the state lock and read the records; every failure is reported. */
int hook_run_lock_state(struct hook_run *r);
/* Write the records back (under the lock); a failure is reported. */
int hook_run_save_state(struct hook_run *r);

/* Park every holder of plan p (shut it down, wait until its devices are free).
 * Each guest is recorded before it is touched. Returns 0 when all are parked;
 * otherwise every problem was reported and -1 is returned. */
int park_holders(struct hook_run *r, const struct plan *p);

/* Start a parked guest again (a container after its card is back on the host
 * driver). Returns 0 when it runs (its record is gone), -1 when it could not be
 * restored (reported; the record stays, marked restore-failed). */
int restore_parked(struct hook_run *r, unsigned vmid);

enum restore_scope {
	RESTORE_THIS_BOOT,           /* every record of this boot */
	RESTORE_EARLIER_JOBS,        /* records of this boot left by another job */
	RESTORE_ALL_BOOTS,           /* recover --previous-boot */
};
/* Restore the records in scope, except those whose devices overlap keep
 * (NULL = none) and the guest being backed up. Returns the number that could
 * not be restored. Records of earlier boots outside the scope are reported. */
int restore_parked_set(struct hook_run *r, enum restore_scope scope, const struct pci_addr_set *keep);

/* The parking decision: what backup-start of one guest needs, and which
 * running guests hold it. Pure logic over a loaded struct node; nothing here
 * starts or stops anything. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "node.h"

struct pci_addr_set {
	struct pci_addr *addrs;   /* functions (has_func set), sorted, unique */
	size_t n, cap;
};

int pci_addr_set_add(struct pci_addr_set *s, const struct pci_addr *a);
bool pci_addr_set_contains(const struct pci_addr_set *s, const struct pci_addr *a);
/* Does any function of a (expanded when it is a slot) lie in s? */
bool pci_addr_set_overlaps(const struct pci_addr_set *s, const struct pci_addr *a);
void pci_addr_set_release(struct pci_addr_set *s);

struct plan_holder {
	enum guest_type type;
	unsigned vmid;
	const char *name;          /* points into the node */
	struct pci_addr addr;      /* one needed function it holds (for messages) */
	bool ha_managed;
	char *blocked;             /* why it must not be touched, or NULL */
};

enum plan_kind {
	PLAN_NOTHING,              /* the backup needs no device, or its devices are free */
	PLAN_PARK,                 /* holders must be parked first */
	PLAN_BLOCKED,              /* a holder may not be touched: the backup cannot go on */
};

struct plan {
	unsigned vmid;
	enum plan_kind kind;
	char *reason;              /* PLAN_NOTHING: why nothing is to be done */
	struct pci_addr_set needed; /* functions the paused start claims, IOMMU group members included */
	struct plan_holder *holders;
	size_t n_holders, cap_holders;
	char **notes;              /* things worth a line in the task log (unresolved mapping ...) */
	size_t n_notes, cap_notes;
};

struct plan_policy {
	const unsigned *protect;   /* vmids never to touch */
	size_t n_protect;
};

/* Functions a guest's use claims, with the IOMMU group members of each. */
int plan_use_functions(const struct node *node, const struct pci_set *set, struct pci_addr_set *ret);

/* Decide for backup-start of vmid. The node must be loaded with VMs, CTs,
 * running state, reservations and IOMMU groups. Returns 0 or -errno
 * (-ENOENT: no such guest on this node). */
int plan_backup_start(const struct node *node, unsigned vmid, const struct plan_policy *policy, struct plan *ret);
void plan_release(struct plan *p);

/* Does any of addrs (functions or slots, as recorded for a parked guest)
 * fall in needed? Decides whether a parked guest may be restored while
 * another guest's backup runs. */
bool plan_addrs_overlap(const struct pci_addr_set *needed, const struct pci_addr *addrs, size_t n);

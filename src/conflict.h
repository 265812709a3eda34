/* Which guests cannot use their PCI devices at the same time: pure logic over
 * a loaded struct node (IOMMU groups from NODE_LOAD_IOMMU). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "node.h"

/* Do two device sets touch the same function (a slot id covers all its
 * functions) or the same IOMMU group? VFs in their own groups do not conflict. */
bool device_sets_conflict(const struct node *node, const struct pci_set *a, const struct pci_set *b);

/* Can two device uses not be active together? Classic mdev uses and container
 * device nodes go through the host driver and never conflict with each other;
 * with mapping alternatives, only when no choice of alternatives is free. */
bool device_uses_conflict(const struct node *node, const struct device_use *a, const struct device_use *b);

/* Do two guests' next-start device uses conflict? Templates start without PCI
 * devices; two containers share the host driver. */
bool guests_conflict(const struct node *node, const struct guest *a, const struct guest *b);

/* Guests that cannot all run at once: the connected components (of two or
 * more guests) of the guests_conflict relation, joined with the guests that
 * between them take every alternative of a mapping; vmids ascending. */
struct conflict_group {
	unsigned *vmids;
	size_t n;
};

int node_conflict_groups(const struct node *node, struct conflict_group **ret, size_t *ret_n);
void conflict_groups_free(struct conflict_group *groups, size_t n);

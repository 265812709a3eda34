/* The node's guests as the wizard shows them: who uses which GPU, and which
 * stopped VMs cannot be backed up today because a running guest holds their card. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "node.h"

/* "VM 101 (win11)" / "CT 200" */
void guest_label(const struct guest *g, char *buf, size_t size);

struct blocked_backup {
	unsigned vmid;          /* the stopped VM */
	unsigned *holders;      /* running guests it conflicts with, ascending */
	size_t n_holders;
};

int node_blocked_backups(const struct node *node, struct blocked_backup **ret, size_t *ret_n);
void blocked_backups_free(struct blocked_backup *b, size_t n);

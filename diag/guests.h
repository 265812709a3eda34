/* gpu-diag's Proxmox layer: the guests that use each card, who holds it, and
 * whether a stopped VM's backup will get a card that resets. */
#pragma once

#include <stdbool.h>

#include "checks.h"
#include "node.h"

struct diag_guests {
	bool loaded;              /* this is a Proxmox VE node and its guests were read */
	struct node node;
	struct holder *holders;
	size_t n_holders;
};

/* Read the node under the root prefix. Returns 0 (loaded false when this is no
 * Proxmox VE node) or -errno. */
int diag_guests_load(struct diag_guests *g);
void diag_guests_release(struct diag_guests *g);
/* Guests whose next start or live config uses function fn. Returns the count or -ENOMEM. */
int diag_card_users(const struct diag_guests *g, const struct pci_addr *fn, struct card_user **ret);
/* The PCI ids guest vmid uses; -ENOENT when there is no such guest. Returns the count. */
int diag_guest_devices(const struct diag_guests *g, unsigned vmid, struct pci_addr **ret);
/* Report the Proxmox checks of inv.fns[i] (probed by diag_card before). */
int diag_card_guests(struct diag_context *ctx, const struct diag_guests *g, size_t i);

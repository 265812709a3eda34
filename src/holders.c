/* Who holds which PCI function now, as qemu-server's reserve_pci_usage sees
 * it, plus the running containers that use a GPU through the host driver. */
#include <string.h>
#include <time.h>

#include "macro.h"
#include "node.h"

static int push(struct holder **list, size_t *n, size_t *cap, const struct holder *h)
{
	for (size_t i = 0; i < *n; i++)
		if ((*list)[i].vmid == h->vmid && pci_addr_overlaps(&(*list)[i].addr, &h->addr))
			return 0;
	struct holder *slot = array_push(list, n, cap, sizeof(*slot));
	if (!slot)
		return -ENOMEM;
	*slot = *h;
	return 0;
}

int node_holders(const struct node *node, struct holder **ret, size_t *ret_n)
{
	struct holder *list = NULL;
	size_t n = 0, cap = 0;
	long long now = (long long)time(NULL);
	int r = 0;

	for (size_t i = 0; r >= 0 && i < node->n_reservations; i++) {
		const struct reservation *res = &node->reservations[i];
		if (!reservation_live(node, res, now))
			continue;
		struct holder h = { .addr = res->addr, .type = GUEST_QEMU, .vmid = res->vmid, .pid = res->pid,
				    .expiry = res->expiry, .source = "reservation" };
		r = push(&list, &n, &cap, &h);
	}
	for (size_t i = 0; r >= 0 && i < node->n_guests; i++) {
		const struct guest *g = &node->guests[i];
		if (!g->running)
			continue;
		for (size_t u = 0; r >= 0 && u < g->n_uses; u++) {
			const struct device_use *use = &g->uses[u];
			/* a mapping's alternative in use is only known from the reservation */
			if (!use->live || use->n_alts != 1)
				continue;
			for (size_t k = 0; r >= 0 && k < use->alts[0].n; k++) {
				struct holder h = { .addr = use->alts[0].addrs[k], .type = g->type, .vmid = g->vmid, .pid = g->pid,
						    .source = g->type == GUEST_LXC ? "container" : "config" };
				r = push(&list, &n, &cap, &h);
			}
		}
	}
	if (r < 0) {
		free(list);
		return r;
	}
	*ret = list;
	*ret_n = n;
	return 0;
}

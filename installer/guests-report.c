#include <string.h>

#include "conflict.h"
#include "guests-report.h"

static bool guest_has_devices(const struct guest *g)
{
	for (size_t u = 0; u < g->n_uses; u++)
		if (g->uses[u].next_start && g->uses[u].n_alts > 0)
			return true;
	return false;
}

void guest_label(const struct guest *g, char *buf, size_t size)
{
	snprintf(buf, size, "%s %u%s%s%s", g->type == GUEST_QEMU ? "VM" : "CT", g->vmid,
	         g->name ? " (" : "", g->name ? g->name : "", g->name ? ")" : "");
}

void blocked_backups_free(struct blocked_backup *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(b[i].holders);
	free(b);
}

/* A stopped VM's backup starts it, paused, with every hostpci device
 * (PROXMOX.md 0.2): it fails while a running guest holds a device it needs. */
int node_blocked_backups(const struct node *node, struct blocked_backup **ret, size_t *ret_n)
{
	struct blocked_backup *v = NULL;
	size_t n = 0, cap = 0;
	for (size_t i = 0; i < node->n_guests; i++) {
		const struct guest *g = &node->guests[i];
		if (g->type != GUEST_QEMU || g->running || g->template || !guest_has_devices(g))
			continue;
		struct blocked_backup *b = NULL;
		size_t cap_h = 0;
		for (size_t k = 0; k < node->n_guests; k++) {
			const struct guest *o = &node->guests[k];
			if (k == i || !o->running || !guests_conflict(node, g, o))
				continue;
			if (!b) {
				b = array_push(&v, &n, &cap, sizeof(*b));
				if (!b)
					goto oom;
				b->vmid = g->vmid;
			}
			unsigned *h = array_push(&b->holders, &b->n_holders, &cap_h, sizeof(unsigned));
			if (!h)
				goto oom;
			*h = o->vmid;
		}
	}
	*ret = v;
	*ret_n = n;
	return 0;
oom:
	blocked_backups_free(v, n);
	return -ENOMEM;
}

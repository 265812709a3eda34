/* gpu-diag's Proxmox layer over the foundation's node model. */
#include <stdio.h>
#include <string.h>

#include "guests.h"
#include "rootfs.h"

int diag_guests_load(struct diag_guests *g)
{
	*g = (struct diag_guests) { 0 };
	if (!root_exists("/etc/pve/qemu-server") && !root_exists("/etc/pve/local"))
		return 0;
	int r = node_load(&g->node, NODE_LOAD_VMS | NODE_LOAD_CTS | NODE_LOAD_RUNNING | NODE_LOAD_RESERVATIONS);
	if (r < 0)
		return r;
	r = node_holders(&g->node, &g->holders, &g->n_holders);
	if (r < 0)
		return r;
	g->loaded = true;
	return 0;
}

void diag_guests_release(struct diag_guests *g)
{
	node_release(&g->node);   /* safe on a zeroed node */
	free(g->holders);
	*g = (struct diag_guests) { 0 };
}

int diag_card_users(const struct diag_guests *g, const struct pci_addr *fn, struct card_user **ret)
{
	struct card_user *list = NULL;
	size_t n = 0, cap = 0;
	for (size_t i = 0; g->loaded && i < g->node.n_guests; i++) {
		const struct guest *guest = &g->node.guests[i];
		if (!guest_uses_addr(guest, fn))
			continue;
		struct card_user *u = array_push(&list, &n, &cap, sizeof(*u));
		if (!u) {
			free(list);
			return -ENOMEM;
		}
		*u = (struct card_user) { .vmid = guest->vmid, .is_ct = guest->type == GUEST_LXC,
					  .running = guest->running, .template = guest->template };
	}
	*ret = list;
	return (int) n;
}

int diag_guest_devices(const struct diag_guests *g, unsigned vmid, struct pci_addr **ret)
{
	const struct guest *guest = g->loaded ? node_find_guest(&g->node, vmid) : NULL;
	if (!guest)
		return -ENOENT;
	return guest_devices(guest, true, ret);
}

int diag_card_guests(struct diag_context *ctx, const struct diag_guests *g, size_t i)
{
	const struct gpu_function *f = &ctx->scan.inv.fns[i];
	struct check_result r, reset;
	char addr[PCI_ADDR_STRLEN];
	_cleanup_free_ struct card_user *users = NULL;

	if (!g->loaded)
		return 0;
	int n = diag_card_users(g, &f->addr, &users);
	if (n < 0)
		return n;
	report_section(ctx->report, "guests", pci_addr_format(&f->addr, addr), NULL);
	report_section_kv(ctx->report, "pci_addr", addr);
	check_card_users(users, (size_t) n, &r);
	report_check(ctx->report, "guests", &r);

	size_t n_vms = 0;
	for (int u = 0; u < n; u++)
		n_vms += !users[u].is_ct;
	const struct holder *h = NULL;
	for (size_t k = 0; k < g->n_holders && !h; k++)
		if (pci_addr_overlaps(&g->holders[k].addr, &f->addr) || pci_addr_overlaps(&f->addr, &g->holders[k].addr))
			h = &g->holders[k];
	struct card_user holder = { 0 };
	if (h)
		holder = (struct card_user) { .vmid = h->vmid, .is_ct = h->type == GUEST_LXC, .running = true };
	check_card_holder(h ? &holder : NULL, h ? h->source : NULL, n_vms, &r);
	report_check(ctx->report, "holder", &r);

	for (int u = 0; u < n; u++) {
		const struct guest *guest = node_find_guest(&g->node, users[u].vmid);
		_cleanup_free_ struct pci_addr *missing = NULL;
		size_t n_missing = 0, cap = 0;
		for (size_t j = 0; guest && !users[u].is_ct && j < ctx->scan.inv.n; j++) {
			if (!card_function(f, &ctx->scan.inv.fns[j]) || guest_uses_addr(guest, &ctx->scan.inv.fns[j].addr))
				continue;
			struct pci_addr *m = array_push(&missing, &n_missing, &cap, sizeof(*m));
			if (!m)
				return -ENOMEM;
			*m = ctx->scan.inv.fns[j].addr;
		}
		if (users[u].is_ct)
			continue;
		char id[32];
		snprintf(id, sizeof(id), "whole_card_%u", users[u].vmid);
		check_guest_takes_card(&users[u], missing, n_missing, &r);
		report_check(ctx->report, id, &r);
	}

	gpu_card_reset(&ctx->scan, i, &reset);
	for (int u = 0; u < n; u++) {
		if (users[u].is_ct || users[u].running || users[u].template)
			continue;
		char id[32];
		snprintf(id, sizeof(id), "backup_%u", users[u].vmid);
		check_stopped_vm_backup(&users[u], &reset, &r);
		report_check(ctx->report, id, &r);
	}
	return 0;
}

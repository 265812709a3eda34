#include <stdarg.h>
#include <string.h>
#include <time.h>

#include "plan.h"

int pci_addr_set_add(struct pci_addr_set *s, const struct pci_addr *a)
{
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = pci_addr_compare(&s->addrs[mid], a);
		if (c == 0)
			return 0;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!array_push(&s->addrs, &s->n, &s->cap, sizeof(*a)))
		return -ENOMEM;
	memmove(&s->addrs[lo + 1], &s->addrs[lo], (s->n - 1 - lo) * sizeof(*a));
	s->addrs[lo] = *a;
	return 1;
}

bool pci_addr_set_contains(const struct pci_addr_set *s, const struct pci_addr *a)
{
	for (size_t i = 0; i < s->n; i++)
		if (pci_addr_equal(&s->addrs[i], a))
			return true;
	return false;
}

bool pci_addr_set_overlaps(const struct pci_addr_set *s, const struct pci_addr *a)
{
	for (size_t i = 0; i < s->n; i++)
		if (pci_addr_overlaps(&s->addrs[i], a))
			return true;
	return false;
}

void pci_addr_set_release(struct pci_addr_set *s)
{
	free(s->addrs);
	*s = (struct pci_addr_set){ 0 };
}

bool plan_addrs_overlap(const struct pci_addr_set *needed, const struct pci_addr *addrs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (pci_addr_set_overlaps(needed, &addrs[i]))
			return true;
	return false;
}

int plan_use_functions(const struct node *node, const struct pci_set *set, struct pci_addr_set *ret)
{
	for (size_t i = 0; i < set->n; i++) {
		_cleanup_free_ struct pci_addr *fns = NULL;
		int n = pci_addr_expand(&set->addrs[i], &fns);
		if (n < 0)
			return n;
		for (int k = 0; k < n; k++) {
			int r = pci_addr_set_add(ret, &fns[k]);
			if (r < 0)
				return r;
			/* Proxmox binds the whole IOMMU group to vfio-pci: its members go too. */
			const struct iommu_group *g = node_iommu_group_of(node, &fns[k]);
			for (size_t m = 0; g && m < g->n_members; m++) {
				r = pci_addr_set_add(ret, &g->members[m]);
				if (r < 0)
					return r;
			}
		}
	}
	return 0;
}

static void note(struct plan *p, const char *fmt, ...) _printf_(2, 3);
static void note(struct plan *p, const char *fmt, ...)
{
	char **slot = array_push(&p->notes, &p->n_notes, &p->cap_notes, sizeof(char *));
	if (!slot)
		return;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(slot, fmt, ap) < 0) {
		*slot = NULL;
		p->n_notes--;
	}
	va_end(ap);
}

static bool protected_vmid(const struct plan_policy *policy, unsigned vmid)
{
	for (size_t i = 0; policy && i < policy->n_protect; i++)
		if (policy->protect[i] == vmid)
			return true;
	return false;
}

/* Does guest g hold something in want now? Sets *ret_addr to one such function. */
static bool guest_holds(const struct node *node, const struct guest *g, const struct pci_addr_set *want,
			bool want_shared, struct pci_addr *ret_addr)
{
	for (size_t u = 0; u < g->n_uses; u++) {
		const struct device_use *use = &g->uses[u];
		if (!use->live)
			continue;
		/* Classic mdev instances share their parent: they only clash with whole-device users.
		 * Their parent stays on its host driver, so the containers using it do not clash either. */
		if (want_shared && (use->shared || g->type == GUEST_LXC))
			continue;
		/* Which mapping alternative a running VM took is only known from the
		 * reservation file; the reservations pass below covers that. */
		if (use->n_alts != 1)
			continue;
		const struct pci_set *set = &use->alts[0];
		for (size_t i = 0; i < set->n; i++) {
			_cleanup_free_ struct pci_addr *fns = NULL;
			int n = pci_addr_expand(&set->addrs[i], &fns);
			for (int k = 0; k < n; k++)
				if (pci_addr_set_overlaps(want, &fns[k])) {
					*ret_addr = fns[k];
					return true;
				}
		}
	}
	return false;
}

/* Would qemu-server reserve this alternative now? It looks only at the listed
 * functions' reservations, not at containers or the rest of the IOMMU group. */
static bool alt_reservable(const struct node *node, unsigned self, const struct pci_set *set)
{
	for (size_t i = 0; i < node->n_reservations; i++) {
		const struct reservation *r = &node->reservations[i];
		if (r->vmid == self || !reservation_live(node, r, (long long)time(NULL)))
			continue;
		for (size_t k = 0; k < set->n; k++)
			if (pci_addr_overlaps(&set->addrs[k], &r->addr))
				return false;
	}
	return true;
}

/* Does an alternative list a function already in used? */
static bool alt_taken(const struct pci_addr_set *used, const struct pci_set *set)
{
	for (size_t k = 0; k < set->n; k++)
		if (pci_addr_set_overlaps(used, &set->addrs[k]))
			return true;
	return false;
}

static struct plan_holder *find_holder(struct plan_holder *h, size_t n, unsigned vmid)
{
	for (size_t i = 0; i < n; i++)
		if (h[i].vmid == vmid)
			return &h[i];
	return NULL;
}

static void holders_release(struct plan_holder *h, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(h[i].blocked);
	free(h);
}

/* Every running guest other than self that holds something in want. */
static int collect_holders(const struct node *node, unsigned self, const struct pci_addr_set *want, bool want_shared,
			   const struct plan_policy *policy, struct plan_holder **ret, size_t *ret_n, size_t *ret_cap)
{
	for (size_t i = 0; i < node->n_reservations; i++) {
		const struct reservation *r = &node->reservations[i];
		if (r->vmid == self || !pci_addr_set_overlaps(want, &r->addr) || !reservation_live(node, r, (long long)time(NULL)))
			continue;
		if (find_holder(*ret, *ret_n, r->vmid))
			continue;
		struct plan_holder *h = array_push(ret, ret_n, ret_cap, sizeof(*h));
		if (!h)
			return -ENOMEM;
		const struct guest *g = node_find_guest(node, r->vmid);
		h->type = GUEST_QEMU;
		h->vmid = r->vmid;
		h->addr = r->addr;
		h->name = g ? g->name : NULL;
		h->ha_managed = g && g->ha_managed;
	}
	for (size_t i = 0; i < node->n_guests; i++) {
		const struct guest *g = &node->guests[i];
		struct pci_addr a;
		if (g->vmid == self || !g->running || find_holder(*ret, *ret_n, g->vmid))
			continue;
		if (!guest_holds(node, g, want, want_shared, &a))
			continue;
		struct plan_holder *h = array_push(ret, ret_n, ret_cap, sizeof(*h));
		if (!h)
			return -ENOMEM;
		h->type = g->type;
		h->vmid = g->vmid;
		h->name = g->name;
		h->addr = a;
		h->ha_managed = g->ha_managed;
	}
	for (size_t i = 0; i < *ret_n; i++) {
		struct plan_holder *h = &(*ret)[i];
		const struct guest *g = node_find_guest(node, h->vmid);
		const char *what = h->type == GUEST_QEMU ? "VM" : "CT";
		int r = 0;
		if (h->blocked)
			continue;
		if (protected_vmid(policy, h->vmid))
			r = asprintf(&h->blocked, "%s %u is listed in 'protect'", what, h->vmid);
		else if (g && g->lock)
			r = asprintf(&h->blocked, "%s %u is locked (%s)", what, h->vmid, g->lock);
		if (r < 0)
			return -ENOMEM;
	}
	return 0;
}

static size_t count_blocked(const struct plan_holder *h, size_t n)
{
	size_t b = 0;
	for (size_t i = 0; i < n; i++)
		b += h[i].blocked != NULL;
	return b;
}

static int set_reason(struct plan *p, const char *fmt, ...) _printf_(2, 3);
static int set_reason(struct plan *p, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = vasprintf(&p->reason, fmt, ap);
	va_end(ap);
	if (r < 0) {
		p->reason = NULL;
		return -ENOMEM;
	}
	return 0;
}

int plan_backup_start(const struct node *node, unsigned vmid, const struct plan_policy *policy, struct plan *ret)
{
	struct plan p = { .vmid = vmid, .kind = PLAN_NOTHING };
	struct pci_addr_set used = { 0 };  /* functions an earlier hostpciN of this VM took */
	int r = 0;

	const struct guest *self = node_find_guest(node, vmid);
	if (!self)
		return -ENOENT;
	if (self->type == GUEST_LXC)
		r = set_reason(&p, "CT %u: vzdump never starts a container for its backup", vmid);
	else if (self->template)
		r = set_reason(&p, "VM %u is a template: its backup start uses no PCI device", vmid);
	else if (self->running)
		r = set_reason(&p, "VM %u is running and keeps its own devices", vmid);
	if (r < 0 || p.reason)
		goto done;

	bool any = false;
	for (size_t u = 0; u < self->n_uses; u++) {
		const struct device_use *use = &self->uses[u];
		if (!use->next_start)
			continue;
		any = true;
		if (use->n_alts == 0) {
			note(&p, "%s: mapping '%s' has no device on node %s; Proxmox will refuse the start",
			     use->source, use->mapping ? use->mapping : "?", node->name ? node->name : "?");
			continue;
		}

		/* With several mapping alternatives Proxmox takes the first one it can
		 * reserve: park only when that one is not free, and then for the easiest
		 * alternative up to it. */
		size_t best = 0, best_holders = (size_t)-1, best_blocked = (size_t)-1;
		struct pci_addr_set best_fns = { 0 };
		struct plan_holder *best_h = NULL;
		size_t best_n = 0;
		bool have_best = false;
		for (size_t a = 0; a < use->n_alts; a++) {
			/* choose_hostpci_devices skips an alternative an earlier entry of the VM took. */
			if (use->n_alts > 1 && alt_taken(&used, &use->alts[a]))
				continue;
			struct pci_addr_set fns = { 0 };
			struct plan_holder *h = NULL;
			size_t n = 0, cap = 0;
			r = plan_use_functions(node, &use->alts[a], &fns);
			if (r == 0)
				r = collect_holders(node, vmid, &fns, use->shared, policy, &h, &n, &cap);
			if (r < 0) {
				pci_addr_set_release(&fns);
				holders_release(h, n);
				pci_addr_set_release(&best_fns);
				holders_release(best_h, best_n);
				goto done;
			}
			size_t blocked = count_blocked(h, n);
			if (!have_best || blocked < best_blocked || (blocked == best_blocked && n < best_holders)) {
				have_best = true;
				pci_addr_set_release(&best_fns);
				holders_release(best_h, best_n);
				best = a;
				best_fns = fns;
				best_h = h;
				best_n = n;
				best_holders = n;
				best_blocked = blocked;
			} else {
				pci_addr_set_release(&fns);
				holders_release(h, n);
			}
			/* Proxmox takes the first alternative it can reserve: none after it is ever used. */
			if (n == 0 || alt_reservable(node, vmid, &use->alts[a]))
				break;
		}
		if (!have_best) {
			note(&p, "%s: every alternative of mapping '%s' is taken by another entry of VM %u; Proxmox will refuse the start",
			     use->source, use->mapping ? use->mapping : "?", vmid);
			continue;
		}
		if (use->n_alts > 1)
			note(&p, "%s: mapping '%s' alternative %zu of %zu %s", use->source, use->mapping, best + 1,
			     use->n_alts, best_holders == 0 ? "is free" : "will be freed");
		for (size_t i = 0; i < use->alts[best].n && r >= 0; i++) {
			_cleanup_free_ struct pci_addr *fns = NULL;
			int n = pci_addr_expand(&use->alts[best].addrs[i], &fns);
			for (int k = 0; k < n && r >= 0; k++)
				r = pci_addr_set_add(&used, &fns[k]);
		}

		for (size_t i = 0; i < best_fns.n && r >= 0; i++)
			r = pci_addr_set_add(&p.needed, &best_fns.addrs[i]);
		for (size_t i = 0; i < best_n && r >= 0; i++) {
			if (find_holder(p.holders, p.n_holders, best_h[i].vmid))
				continue;
			struct plan_holder *h = array_push(&p.holders, &p.n_holders, &p.cap_holders, sizeof(*h));
			if (!h) {
				r = -ENOMEM;
				break;
			}
			*h = best_h[i];
			best_h[i].blocked = NULL;
		}
		pci_addr_set_release(&best_fns);
		holders_release(best_h, best_n);
		if (r < 0)
			goto done;
	}

	if (!any)
		r = set_reason(&p, "VM %u uses no PCI device", vmid);
	else if (p.n_holders == 0)
		r = set_reason(&p, "the devices of VM %u are free", vmid);
	else
		p.kind = count_blocked(p.holders, p.n_holders) ? PLAN_BLOCKED : PLAN_PARK;

done:
	pci_addr_set_release(&used);
	if (r < 0) {
		plan_release(&p);
		return r;
	}
	*ret = p;
	return 0;
}

void plan_release(struct plan *p)
{
	free(p->reason);
	pci_addr_set_release(&p->needed);
	holders_release(p->holders, p->n_holders);
	for (size_t i = 0; i < p->n_notes; i++)
		free(p->notes[i]);
	free(p->notes);
	*p = (struct plan){ 0 };
}

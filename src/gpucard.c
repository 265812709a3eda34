/* The card checks of gpu-diag over probed facts, shared with the setup wizard. */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "gpucard.h"
#include "macro.h"

int gpu_scan_load(struct gpu_scan *s, char **ret_pci_error)
{
	*s = (struct gpu_scan) { 0 };
	host_facts_load(&s->host);
	int r = pci_inventory_load(&s->inv);
	if (r < 0)
		return r;
	r = iommu_members_load(&s->inv, &s->members, &s->n_members);
	if (r < 0)
		return r;
	if (gpu_pci_open(NULL, &s->pacc, ret_pci_error) < 0)
		s->pacc = NULL;
	return 0;
}

void gpu_scan_release(struct gpu_scan *s)
{
	gpu_pci_close(s->pacc);
	free(s->members);
	pci_inventory_release(&s->inv);
	*s = (struct gpu_scan) { 0 };
}

/* A VF is a device of its own, not a function of its parent's card. */
bool card_function(const struct gpu_function *f, const struct gpu_function *o)
{
	return !pci_addr_equal(&f->addr, &o->addr) && pci_addr_same_slot(&f->addr, &o->addr) && !f->is_vf && !o->is_vf;
}

static struct reset_topology topology_of(const struct pci_inventory *inv, const struct gpu_function *f)
{
	/* an unbound function gets vfio-pci when Proxmox starts the VM */
	struct reset_topology t = { .n_slot_functions = 1, .all_slot_vfio = streq(f->driver, "vfio-pci") || !f->driver[0] };
	for (size_t j = 0; j < inv->n; j++)
		if (card_function(f, &inv->fns[j])) {
			t.n_slot_functions++;
			if (!streq(inv->fns[j].driver, "vfio-pci") && inv->fns[j].driver[0])
				t.all_slot_vfio = false;
		}
	return t;
}

static struct check_result *add(struct card_checks *c, const char *id)
{
	assert(c->n < ELEMENTSOF(c->items));
	c->items[c->n].id = id;
	return &c->items[c->n++].result;
}

static void group_check(const struct gpu_scan *s, const struct gpu_function *f, struct check_result *r)
{
	_cleanup_free_ struct group_member *others = NULL;
	size_t n = 0, cap = 0;
	for (size_t m = 0; f->iommu_group[0] && m < s->n_members; m++) {
		const struct iommu_member *im = &s->members[m];
		if (!streq(im->group, f->iommu_group) || pci_addr_equal(&im->addr, &f->addr))
			continue;
		struct group_member *g = array_push(&others, &n, &cap, sizeof(*g));
		if (!g)
			break;
		g->addr = im->addr;
		ssize_t k = pci_inventory_find(&s->inv, &im->addr);
		if (k >= 0) {
			g->class_code = s->inv.fns[k].class_code;
			snprintf(g->driver, sizeof(g->driver), "%s", s->inv.fns[k].driver);
		}
	}
	check_iommu_group(f, others, n, r);
}

int gpu_card_probe(struct gpu_scan *s, size_t i)
{
	int r = gpu_function_probe(&s->inv, i, s->pacc);
	if (r < 0)
		return r;
	/* Siblings are probed before any verdict: the reset and sibling checks need their drivers. */
	for (size_t j = 0; j < s->inv.n; j++)
		if (card_function(&s->inv.fns[i], &s->inv.fns[j])) {
			r = gpu_function_probe(&s->inv, j, s->pacc);
			if (r < 0)
				return r;
		}
	return 0;
}

void gpu_card_reset(const struct gpu_scan *s, size_t i, struct check_result *ret)
{
	struct reset_topology t = topology_of(&s->inv, &s->inv.fns[i]);
	check_reset(&s->inv.fns[i], &t, ret);
}

int gpu_card_judge(const struct gpu_scan *s, size_t i, bool passed_whole, struct card_checks *ret)
{
	const struct gpu_function *f = &s->inv.fns[i];
	_cleanup_free_ struct gpu_function *sibs = NULL;
	size_t n_sibs = 0, cap = 0;
	struct check_result r;

	for (size_t j = 0; j < s->inv.n; j++) {
		if (!card_function(f, &s->inv.fns[j]))
			continue;
		struct gpu_function *sib = array_push(&sibs, &n_sibs, &cap, sizeof(*sib));
		if (!sib)
			return -ENOMEM;
		*sib = s->inv.fns[j];
	}
	ret->n = 0;
	check_alive(f, add(ret, "alive"));
	check_driver(f, s->host.vfio_ids, add(ret, "driver"));
	check_power(f, add(ret, "power"));
	gpu_card_reset(s, i, add(ret, "reset"));
	if (check_amd_reset_bug(f, s->host.vendor_reset_loaded, &r))
		*add(ret, "amd_reset_bug") = r;
	check_siblings(f, sibs, n_sibs, add(ret, "siblings"));
	group_check(s, f, add(ret, "iommu_group"));
	if (check_link(f, &r))
		*add(ret, "link") = r;
	if (check_sriov(f, passed_whole, &r))
		*add(ret, "sriov") = r;
	return 0;
}

void gpu_function_judge(const struct gpu_scan *s, size_t j, struct card_checks *ret)
{
	const struct gpu_function *f = &s->inv.fns[j];
	ret->n = 0;
	check_alive(f, add(ret, "alive"));
	check_driver(f, s->host.vfio_ids, add(ret, "driver"));
	check_power(f, add(ret, "power"));
}

static enum verdict worst(const struct card_checks *c, enum verdict v)
{
	for (size_t k = 0; k < c->n; k++)
		if (c->items[k].result.verdict > v)
			v = c->items[k].result.verdict;
	return v;
}

int gpu_card_readiness(struct gpu_scan *s, size_t i, bool passed_whole, enum verdict *ret)
{
	struct card_checks c;
	int r = gpu_card_probe(s, i);
	if (r < 0)
		return r;
	r = gpu_card_judge(s, i, passed_whole, &c);
	if (r < 0)
		return r;
	enum verdict v = worst(&c, VERDICT_PASS);
	for (size_t j = 0; j < s->inv.n; j++)
		if (card_function(&s->inv.fns[i], &s->inv.fns[j]) && !pci_class_is_display(s->inv.fns[j].class_code)) {
			gpu_function_judge(s, j, &c);
			v = worst(&c, v);
		}
	*ret = v;
	return 0;
}

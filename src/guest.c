/* A guest of the node built from its config: the device uses it has now and
 * at its next start, with mappings resolved for this node. */
#include <string.h>

#include "guest.h"
#include "macro.h"
#include "rootfs.h"
#include "strutil.h"

const char *guest_type_name(enum guest_type t)
{
	return t == GUEST_LXC ? "lxc" : "qemu";
}

static void use_release(struct device_use *u)
{
	free(u->source);
	free(u->mapping);
	for (size_t i = 0; i < u->n_alts; i++)
		free(u->alts[i].addrs);
	free(u->alts);
	free(u->device_node);
}

void guest_release(struct guest *g)
{
	free(g->name);
	free(g->lock);
	free(g->ha_state);
	for (size_t i = 0; i < g->n_uses; i++)
		use_release(&g->uses[i]);
	free(g->uses);
	for (size_t i = 0; i < g->n_device_nodes; i++)
		free(g->device_nodes[i]);
	free(g->device_nodes);
	*g = (struct guest){ 0 };
}

static struct device_use *add_use(struct guest *g, const char *source)
{
	struct device_use *u = array_push(&g->uses, &g->n_uses, &g->cap_uses, sizeof(*u));
	if (!u)
		return NULL;
	if (!(u->source = strdup(source))) {
		g->n_uses--;
		return NULL;
	}
	return u;
}

static int add_alt(struct device_use *u, const struct pci_addr *addrs, size_t n)
{
	struct pci_set *alts = reallocarray(u->alts, u->n_alts + 1, sizeof(*alts));
	if (!alts)
		return -ENOMEM;
	u->alts = alts;
	struct pci_set *s = &alts[u->n_alts];
	s->addrs = malloc(n * sizeof(*addrs) + 1);
	if (!s->addrs)
		return -ENOMEM;
	memcpy(s->addrs, addrs, n * sizeof(*addrs));
	s->n = n;
	u->n_alts++;
	return 0;
}

/* Classic mdev parents are shared; an NVIDIA vGPU on the new sysfs interface is
 * reserved per function like a passthrough device (qemu-server PCI.pm). */
static bool mdev_shared(const struct hostpci *h, const struct pci_set *first)
{
	if (!h->mdev)
		return false;
	if (!first || first->n == 0)
		return true;
	struct pci_addr a = first->addrs[0];
	char id[PCI_ADDR_STRLEN], path[128];
	if (!a.has_func) {
		a.has_func = true;
		a.func = 0;
	}
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/nvidia", pci_addr_format(&a, id));
	return !root_exists(path);
}

static int use_from_hostpci(struct node *node, struct guest *g, const struct hostpci *h, const char *file,
			    bool live, bool next_start)
{
	char source[16];
	snprintf(source, sizeof(source), "hostpci%u", h->index);
	struct device_use *u = add_use(g, source);
	if (!u)
		return -ENOMEM;
	u->live = live;
	u->next_start = next_start;
	u->pending_only = !live;
	if (h->mapping) {
		if (!(u->mapping = strdup(h->mapping)))
			return -ENOMEM;
		const struct pci_mapping *m = mapping_find(&node->mappings, h->mapping);
		if (!m)
			problem_add(&node->problems, file, h->line, "%s: PCI device mapping not found for '%s'", source, h->mapping);
		else if (m->n_alts == 0)
			problem_add(&node->problems, file, h->line, "%s: mapping '%s' has no device on node '%s'", source,
				    h->mapping, node->name ? node->name : "?");
		for (size_t i = 0; m && i < m->n_alts; i++)
			if (add_alt(u, m->alts[i].devs, m->alts[i].n_devs) < 0)
				return -ENOMEM;
	} else if (add_alt(u, h->host, h->n_host) < 0)
		return -ENOMEM;
	u->shared = mdev_shared(h, u->n_alts ? &u->alts[0] : NULL);
	return 0;
}

int guest_from_vm(struct node *node, const struct vm_config *c, const char *file, struct guest *ret)
{
	struct guest g = { .type = GUEST_QEMU, .vmid = c->vmid, .template = c->template, .onboot = c->onboot };
	const struct hostpci *next[HOSTPCI_MAX];
	size_t n_next = vm_config_next_start_hostpci(c, next);
	int r = -ENOMEM;

	if ((c->name && !(g.name = strdup(c->name))) || (c->lock && !(g.lock = strdup(c->lock))))
		goto fail;
	for (size_t i = 0; i < c->n_hostpci; i++) {
		bool in_next = false;
		for (size_t j = 0; j < n_next; j++)
			in_next = in_next || next[j] == &c->hostpci[i];
		if ((r = use_from_hostpci(node, &g, &c->hostpci[i], file, true, in_next)) < 0)
			goto fail;
	}
	for (size_t j = 0; j < n_next; j++)
		if (next[j] < c->hostpci || next[j] >= c->hostpci + c->n_hostpci)
			if ((r = use_from_hostpci(node, &g, next[j], file, false, true)) < 0)
				goto fail;
	for (size_t i = 0; i < c->n_args_pci; i++) {
		struct device_use *u = add_use(&g, "args");
		if (!u || add_alt(u, &c->args_pci[i], 1) < 0) {
			r = -ENOMEM;
			goto fail;
		}
		u->live = u->next_start = true;
	}
	*ret = g;
	return 0;
fail:
	guest_release(&g);
	return r;
}

int guest_from_ct(struct node *node, const struct lxc_config *c, const char *file, struct guest *ret)
{
	struct guest g = { .type = GUEST_LXC, .vmid = c->vmid, .template = c->template, .onboot = c->onboot };
	int r = -ENOMEM;

	if ((c->hostname && !(g.name = strdup(c->hostname))) || (c->lock && !(g.lock = strdup(c->lock))))
		goto fail;
	for (size_t i = 0; i < c->n_nodes; i++) {
		const struct lxc_devnode *dn = &c->nodes[i];
		bool seen = false;
		for (size_t k = 0; k < g.n_device_nodes; k++)
			seen = seen || streq(g.device_nodes[k], dn->path);
		if (seen)
			continue;
		if ((r = strv_push(&g.device_nodes, &g.n_device_nodes, dn->path)) < 0)
			goto fail;
		_cleanup_free_ struct pci_addr *pcis = NULL;
		size_t n = 0;
		r = device_path_to_pcis(dn->path, &pcis, &n);
		if (r == -ENOMEM)
			goto fail;
		if (r < 0) {
			problem_add(&node->problems, file, dn->line, "%s: cannot find the PCI device of '%s': %s", dn->source, dn->path,
				    strerror(-r));
			continue;
		}
		for (size_t k = 0; k < n; k++) {
			struct device_use *u = add_use(&g, dn->source);
			if (!u || !(u->device_node = strdup(dn->path)) || add_alt(u, &pcis[k], 1) < 0) {
				r = -ENOMEM;
				goto fail;
			}
			u->live = u->next_start = true;
		}
	}
	*ret = g;
	return 0;
fail:
	guest_release(&g);
	return r;
}

int guest_devices(const struct guest *g, bool next_start_too, struct pci_addr **ret)
{
	struct pci_addr *list = NULL;
	size_t n = 0, cap = 0;
	for (size_t i = 0; i < g->n_uses; i++) {
		if (!g->uses[i].live && !(next_start_too && g->uses[i].next_start))
			continue;
		for (size_t a = 0; a < g->uses[i].n_alts; a++)
			for (size_t k = 0; k < g->uses[i].alts[a].n; k++) {
				const struct pci_addr *addr = &g->uses[i].alts[a].addrs[k];
				bool seen = false;
				for (size_t j = 0; j < n && !seen; j++)
					seen = pci_addr_equal(&list[j], addr);
				if (seen)
					continue;
				struct pci_addr *slot = array_push(&list, &n, &cap, sizeof(*slot));
				if (!slot) {
					free(list);
					return -ENOMEM;
				}
				*slot = *addr;
			}
	}
	*ret = list;
	return (int)n;
}

int guest_live_devices(const struct guest *g, struct pci_addr **ret)
{
	return guest_devices(g, false, ret);
}

bool guest_uses_addr(const struct guest *g, const struct pci_addr *a)
{
	for (size_t u = 0; u < g->n_uses; u++) {
		const struct device_use *use = &g->uses[u];
		if (!use->live && !use->next_start)
			continue;
		for (size_t k = 0; k < use->n_alts; k++)
			for (size_t i = 0; i < use->alts[k].n; i++)
				if (pci_addr_overlaps(&use->alts[k].addrs[i], a) || pci_addr_overlaps(a, &use->alts[k].addrs[i]))
					return true;
	}
	return false;
}

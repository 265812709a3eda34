#include <string.h>

#include "conflict.h"
#include "macro.h"

/* Do a and b (functions or slots) share an IOMMU group? */
static bool same_group(const struct node *node, const struct pci_addr *a, const struct pci_addr *b)
{
	for (size_t g = 0; g < node->n_groups; g++) {
		const struct iommu_group *grp = &node->groups[g];
		bool has_a = false, has_b = false;
		for (size_t m = 0; m < grp->n_members; m++) {
			has_a = has_a || pci_addr_overlaps(a, &grp->members[m]);
			has_b = has_b || pci_addr_overlaps(b, &grp->members[m]);
		}
		if (has_a && has_b)
			return true;
	}
	return false;
}

bool device_sets_conflict(const struct node *node, const struct pci_set *a, const struct pci_set *b)
{
	for (size_t i = 0; i < a->n; i++)
		for (size_t j = 0; j < b->n; j++)
			if (pci_addr_overlaps(&a->addrs[i], &b->addrs[j]) || same_group(node, &a->addrs[i], &b->addrs[j]))
				return true;
	return false;
}

static bool host_driver_use(const struct device_use *u)
{
	return u->shared || u->device_node;
}

bool device_uses_conflict(const struct node *node, const struct device_use *a, const struct device_use *b)
{
	if (host_driver_use(a) && host_driver_use(b))
		return false;
	if (a->n_alts == 0 || b->n_alts == 0)
		return false;  /* an unresolved mapping uses nothing (reported as a problem) */
	for (size_t i = 0; i < a->n_alts; i++)
		for (size_t j = 0; j < b->n_alts; j++)
			if (!device_sets_conflict(node, &a->alts[i], &b->alts[j]))
				return false;
	return true;
}

static bool counts(const struct guest *g, const struct device_use *u)
{
	return g->type == GUEST_LXC ? u->live : u->next_start;
}

static bool starts_with_pci(const struct guest *g)
{
	return g->type == GUEST_LXC || !g->template;
}

/* Does use u of guest a conflict with any next-start use of guest b? */
static bool use_conflicts_guest(const struct node *node, const struct guest *a, const struct device_use *u, const struct guest *b)
{
	if (a == b || !starts_with_pci(a) || !starts_with_pci(b) || (a->type == GUEST_LXC && b->type == GUEST_LXC))
		return false;
	for (size_t j = 0; j < b->n_uses; j++)
		if (counts(b, &b->uses[j]) && device_uses_conflict(node, u, &b->uses[j]))
			return true;
	return false;
}

bool guests_conflict(const struct node *node, const struct guest *a, const struct guest *b)
{
	for (size_t i = 0; i < a->n_uses; i++)
		if (counts(a, &a->uses[i]) && use_conflicts_guest(node, a, &a->uses[i], b))
			return true;
	return false;
}

static size_t find_root(size_t *parent, size_t i)
{
	while (parent[i] != i)
		i = parent[i] = parent[parent[i]];
	return i;
}

int node_conflict_groups(const struct node *node, struct conflict_group **ret, size_t *ret_n)
{
	/* only guests with a device use can conflict; keeps 10,000 guests cheap */
	_cleanup_free_ size_t *idx = malloc((node->n_guests + 1) * sizeof(size_t));
	_cleanup_free_ size_t *parent = malloc((node->n_guests + 1) * sizeof(size_t));
	struct conflict_group *groups = NULL;
	size_t n_idx = 0, n_groups = 0, cap = 0;

	if (!idx || !parent)
		return -ENOMEM;
	for (size_t i = 0; i < node->n_guests; i++)
		if (node->guests[i].n_uses > 0)
			idx[n_idx++] = i;
	for (size_t i = 0; i < n_idx; i++)
		parent[i] = i;
	for (size_t i = 0; i < n_idx; i++)
		for (size_t j = i + 1; j < n_idx; j++)
			if (guests_conflict(node, &node->guests[idx[i]], &node->guests[idx[j]]))
				parent[find_root(parent, i)] = find_root(parent, j);
	/* a mapping whose every alternative is taken by some other guest cannot
	 * start while those all run, though no single pair conflicts */
	for (size_t i = 0; i < n_idx; i++) {
		const struct guest *a = &node->guests[idx[i]];
		for (size_t u = 0; u < a->n_uses; u++) {
			const struct device_use *use = &a->uses[u];
			if (!counts(a, use) || use->n_alts < 2)
				continue;
			bool all_blocked = true;
			for (size_t k = 0; k < use->n_alts && all_blocked; k++) {
				struct device_use one = *use;
				one.alts = &use->alts[k];
				one.n_alts = 1;
				bool blocked = false;
				for (size_t j = 0; j < n_idx && !blocked; j++)
					blocked = use_conflicts_guest(node, a, &one, &node->guests[idx[j]]);
				all_blocked = blocked;
			}
			for (size_t k = 0; k < use->n_alts && all_blocked; k++) {
				struct device_use one = *use;
				one.alts = &use->alts[k];
				one.n_alts = 1;
				for (size_t j = 0; j < n_idx; j++)
					if (use_conflicts_guest(node, a, &one, &node->guests[idx[j]]))
						parent[find_root(parent, i)] = find_root(parent, j);
			}
		}
	}
	/* guests are sorted by vmid, so walking them in order keeps each group sorted */
	for (size_t i = 0; i < n_idx; i++) {
		size_t root = find_root(parent, i), size = 0;
		bool first = true;
		for (size_t j = 0; j < n_idx; j++) {
			if (find_root(parent, j) != root)
				continue;
			size++;
			first = first && j >= i;
		}
		if (size < 2 || !first)
			continue;
		struct conflict_group *g = array_push(&groups, &n_groups, &cap, sizeof(*g));
		if (!g || !(g->vmids = malloc(size * sizeof(*g->vmids)))) {
			conflict_groups_free(groups, n_groups);
			return -ENOMEM;
		}
		for (size_t j = i; j < n_idx; j++)
			if (find_root(parent, j) == root)
				g->vmids[g->n++] = node->guests[idx[j]].vmid;
	}
	*ret = groups;
	*ret_n = n_groups;
	return 0;
}

void conflict_groups_free(struct conflict_group *groups, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(groups[i].vmids);
	free(groups);
}

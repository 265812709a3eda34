/* IOMMU groups from /sys/kernel/iommu_groups/<N>/devices/<BDF>. */
#include <dirent.h>
#include <fcntl.h>
#include <string.h>

#include "macro.h"
#include "node.h"
#include "rootfs.h"
#include "strutil.h"

static int cmp_addr(const void *a, const void *b)
{
	return pci_addr_compare(a, b);
}

static int group_members(const char *name, struct iommu_group *g)
{
	char path[128];
	snprintf(path, sizeof(path), "/sys/kernel/iommu_groups/%s/devices", name);
	DIR *d;
	int r = root_opendir(path, &d);
	if (r < 0)
		return r;
	size_t cap = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		struct pci_addr a;
		if (pci_addr_parse(de->d_name, true, &a) < 0 || !a.has_func)
			continue;
		struct pci_addr *slot = array_push(&g->members, &g->n_members, &cap, sizeof(*slot));
		if (!slot) {
			closedir(d);
			return -ENOMEM;
		}
		*slot = a;
	}
	closedir(d);
	if (g->n_members > 1)
		qsort(g->members, g->n_members, sizeof(*g->members), cmp_addr);
	return 0;
}

static int cmp_group(const void *a, const void *b)
{
	const struct iommu_group *x = a, *y = b;
	unsigned long long nx, ny;
	if (parse_uint(x->name, ~0ULL, &nx) == 0 && parse_uint(y->name, ~0ULL, &ny) == 0)
		return (nx > ny) - (nx < ny);
	return strcmp(x->name, y->name);
}

int iommu_groups_load(struct iommu_group **ret, size_t *ret_n)
{
	struct iommu_group *groups = NULL;
	size_t n = 0, cap = 0;
	int r = 0;
	DIR *d;
	if ((r = root_opendir("/sys/kernel/iommu_groups", &d)) < 0)
		return r;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || strlen(de->d_name) > 32)
			continue;
		struct iommu_group *g = array_push(&groups, &n, &cap, sizeof(*g));
		if (!g || !(g->name = strdup(de->d_name))) {
			r = -ENOMEM;
			break;
		}
		r = group_members(g->name, g);
		if (r == -ENOMEM)
			break;
		r = 0;
	}
	closedir(d);
	if (r < 0) {
		iommu_groups_free(groups, n);
		return r;
	}
	if (n > 1)
		qsort(groups, n, sizeof(*groups), cmp_group);
	*ret = groups;
	*ret_n = n;
	return 0;
}

void iommu_groups_free(struct iommu_group *g, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(g[i].name);
		free(g[i].members);
	}
	free(g);
}

const struct iommu_group *node_iommu_group_of(const struct node *node, const struct pci_addr *a)
{
	for (size_t i = 0; i < node->n_groups; i++)
		for (size_t j = 0; j < node->groups[i].n_members; j++)
			if (pci_addr_overlaps(a, &node->groups[i].members[j]))
				return &node->groups[i];
	return NULL;
}

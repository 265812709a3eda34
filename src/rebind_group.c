/* Reading the IOMMU group around a PCI function, its members' drivers, and
 * describing what the rebind did, for rebind.c and status. */
#include <dirent.h>
#include <fcntl.h>
#include <string.h>

#include "fileio.h"
#include "rebind.h"
#include "rootfs.h"
#include "strutil.h"

static int cmp_member(const void *a, const void *b)
{
	return pci_addr_compare(&((const struct rebind_member *)a)->addr, &((const struct rebind_member *)b)->addr);
}

int rebind_driver_now(const struct pci_addr *a, char ret[static REBIND_DRIVER_MAX])
{
	char bdf[PCI_ADDR_STRLEN], path[REBIND_PATH_MAX];
	_cleanup_free_ char *target = NULL;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", pci_addr_format(a, bdf));
	ret[0] = '\0';
	int r = root_readlink(path, &target);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	const char *base = strrchr(target, '/');
	strcpy_cut(ret, REBIND_DRIVER_MAX, base ? base + 1 : target);
	return 0;
}

bool rebind_is_bridge(const struct pci_addr *a)
{
	char bdf[PCI_ADDR_STRLEN], path[REBIND_PATH_MAX];
	_cleanup_free_ char *class = NULL;

	pci_addr_format(a, bdf);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/pci_bus", bdf);
	if (root_exists(path))
		return true;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/class", bdf);
	return root_read_line(path, &class) == 0 && strncmp(class, "0x0604", 6) == 0;
}

/* "card0", "renderD128": a DRM minor, not a connector ("card0-HDMI-A-1") or anything else. */
static bool drm_minor_name(const char *s)
{
	const char *digits = startswith(s, "renderD") ? s + 7 : startswith(s, "card") ? s + 4 : NULL;
	return digits && *digits && strspn(digits, "0123456789") == strlen(digits) && strlen(digits) <= 6;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int rebind_drm_nodes(const struct pci_addr *a, char ***ret, size_t *ret_n)
{
	char bdf[PCI_ADDR_STRLEN], path[REBIND_PATH_MAX];
	char **v = NULL;
	size_t n = 0;
	int r = 0;

	*ret = NULL;
	*ret_n = 0;
	if (!a->has_func)
		return -EINVAL;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/drm", pci_addr_format(a, bdf));
	DIR *d;
	r = root_opendir(path, &d);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	struct dirent *de;
	while (r >= 0 && (de = readdir(d))) {
		if (!drm_minor_name(de->d_name))
			continue;
		char node[32];
		snprintf(node, sizeof(node), "/dev/dri/%.16s", de->d_name); /* drm_minor_name: at most 13 */
		r = strv_push(&v, &n, node);
	}
	closedir(d);
	if (r < 0) {
		strv_free(v, n);
		return r;
	}
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_str);
	*ret = v;
	*ret_n = n;
	return 0;
}

static int add_member(struct rebind_group *g, const struct pci_addr *a)
{
	for (size_t i = 0; i < g->n_members; i++)
		if (pci_addr_equal(&g->members[i].addr, a))
			return 0;
	struct rebind_member *m = array_push(&g->members, &g->n_members, &g->cap_members, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->addr = *a;
	m->bridge = rebind_is_bridge(a);
	return rebind_driver_now(a, m->driver);
}

int rebind_query_group(const struct pci_addr *a, struct rebind_group *ret)
{
	char bdf[PCI_ADDR_STRLEN], path[REBIND_PATH_MAX];
	_cleanup_free_ char *link = NULL;
	struct rebind_group g = { .name = "" };
	int r;

	if (!a->has_func)
		return -EINVAL;
	pci_addr_format(a, bdf);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", bdf);
	if (!root_exists(path))
		return -ENODEV;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", bdf);
	r = root_readlink(path, &link);
	if (r == -ENOENT) {
		/* No IOMMU group (IOMMU off): the function stands alone. */
		r = add_member(&g, a);
		goto done;
	}
	if (r < 0)
		return r;
	const char *base = strrchr(link, '/');
	strcpy_cut(g.name, sizeof(g.name), base ? base + 1 : link);
	if (strempty(g.name) || strchr(g.name, '.'))
		return -EINVAL;

	snprintf(path, sizeof(path), "/sys/kernel/iommu_groups/%s/devices", g.name);
	DIR *d;
	if ((r = root_opendir(path, &d)) < 0)
		return r;
	struct dirent *de;
	r = 0;
	while (r >= 0 && (de = readdir(d))) {
		struct pci_addr m;
		if (pci_addr_parse(de->d_name, true, &m) < 0 || !m.has_func)
			continue;
		r = add_member(&g, &m);
	}
	closedir(d);
	if (r >= 0)
		r = add_member(&g, a); /* sysfs lists it; be sure even when it does not */
done:
	if (r < 0) {
		rebind_group_release(&g);
		return r;
	}
	if (g.n_members > 1)
		qsort(g.members, g.n_members, sizeof(*g.members), cmp_member);
	*ret = g;
	return 0;
}

void rebind_group_release(struct rebind_group *g)
{
	free(g->members);
	*g = (struct rebind_group){ .name = "" };
}

void rebind_report_release(struct rebind_report *r)
{
	free(r->devices);
	*r = (struct rebind_report){ .group = "" };
}

const char *rebind_state_name(enum rebind_state s)
{
	switch (s) {
	case REBIND_PENDING: return "pending";
	case REBIND_REBOUND: return "rebound";
	case REBIND_ALREADY: return "already";
	case REBIND_KEPT: return "kept";
	case REBIND_HELD: return "held";
	case REBIND_FAILED: return "failed";
	}
	return "unknown";
}

static const char *or_none(const char *driver)
{
	return strempty(driver) ? "no driver" : driver;
}

int rebind_device_describe(const struct rebind_device *d, char **ret)
{
	char bdf[PCI_ADDR_STRLEN], held[PCI_ADDR_STRLEN];
	int r = -1;

	pci_addr_format(&d->addr, bdf);
	switch (d->state) {
	case REBIND_FAILED:
		if (d->failed_step == REBIND_STEP_VERIFY)
			r = asprintf(ret, "%s: not on %s within %d ms (now on %s)", bdf,
			             strempty(d->driver_target) ? "a host driver" : d->driver_target,
			             d->waited_ms, or_none(d->driver_after));
		else
			r = asprintf(ret, "%s: cannot %s '%s': %s", bdf,
			             d->failed_step == REBIND_STEP_READ ? "read" : "write", d->error_path,
			             strerror(-d->error));
		break;
	case REBIND_HELD:
		pci_addr_format(&d->held_addr, held);
		if (d->held_by)
			r = asprintf(ret, "%s: left on %s: VM %u holds %s", bdf, or_none(d->driver_before), d->held_by, held);
		else
			r = asprintf(ret, "%s: left on %s: a running VM holds %s", bdf, or_none(d->driver_before), held);
		break;
	case REBIND_REBOUND:
		r = asprintf(ret, "%s: %s -> %s", bdf, or_none(d->driver_before), or_none(d->driver_after));
		break;
	case REBIND_ALREADY:
		r = asprintf(ret, "%s: already on %s", bdf, or_none(d->driver_after));
		break;
	case REBIND_KEPT:
		r = asprintf(ret, "%s: left on %s%s", bdf, or_none(d->driver_after), d->bridge ? " (bridge)" : "");
		break;
	case REBIND_PENDING:
		r = asprintf(ret, "%s: not handled", bdf);
		break;
	}
	return r < 0 ? -ENOMEM : 0;
}

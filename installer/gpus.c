#include <dirent.h>
#include <pci/pci.h>
#include <string.h>

#include "gpus.h"
#include "rootfs.h"

#define PCI_IDS_PATH "/usr/share/misc/pci.ids"

static int read_hex(const char *path, unsigned long *ret)
{
	_cleanup_free_ char *s = NULL;
	int r = root_read_line(path, &s);
	if (r < 0)
		return r;
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 16);
	if (errno || end == s || (*end && *end != ' '))
		return -EINVAL;
	*ret = v;
	return 0;
}

/* Basename of a sysfs link (driver, iommu_group), or NULL. */
static char *link_name(const char *dev, const char *link)
{
	char p[512];
	snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/%s", dev, link);
	_cleanup_free_ char *t = NULL;
	if (root_readlink(p, &t) < 0)
		return NULL;
	const char *b = strrchr(t, '/');
	return strdup(b ? b + 1 : t);
}

static void quiet(char *msg _unused_, ...)
{
}

/* Names from libpci's database under the root; missing names stay NULL. */
struct names {
	struct pci_access *pacc;
};

static void names_init(struct names *n, bool *ret_ids_found)
{
	n->pacc = pci_alloc();
	*ret_ids_found = false;
	if (!n->pacc)
		return;
	n->pacc->warning = quiet;
	n->pacc->debug = quiet;
	n->pacc->id_lookup_mode = 0;
	char *path = root_path(PCI_IDS_PATH);
	if (path) {
		*ret_ids_found = access(path, R_OK) == 0;
		pci_set_name_list_path(n->pacc, path, 1);
	}
}

static char *names_lookup(struct names *n, int what, unsigned vendor, unsigned device)
{
	char buf[256];
	if (!n->pacc)
		return NULL;
	int flags = what | PCI_LOOKUP_NO_NUMBERS | PCI_LOOKUP_NO_HWDB;
	const char *s = what == PCI_LOOKUP_VENDOR ? pci_lookup_name(n->pacc, buf, sizeof(buf), flags, vendor)
	                                          : pci_lookup_name(n->pacc, buf, sizeof(buf), flags, vendor, device);
	return s ? strdup(s) : NULL;
}

static int gpu_compare(const void *a, const void *b)
{
	return pci_addr_compare(&((const struct gpu *)a)->addr, &((const struct gpu *)b)->addr);
}

int gpus_load(struct gpu_list *l)
{
	*l = (struct gpu_list){ 0 };
	_cleanup_free_ char *dir = root_path("/sys/bus/pci/devices");
	if (!dir)
		return -ENOMEM;
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	struct names names;
	names_init(&names, &l->ids_found);
	size_t cap = 0;
	int r = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		struct pci_addr a;
		if (pci_addr_parse(de->d_name, true, &a) < 0 || !a.has_func)
			continue;
		char p[512];
		unsigned long cls, vendor = 0, device = 0;
		snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/class", de->d_name);
		if (read_hex(p, &cls) < 0 || (cls >> 16) != 0x03)
			continue;
		snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/vendor", de->d_name);
		(void)read_hex(p, &vendor);
		snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/device", de->d_name);
		(void)read_hex(p, &device);
		struct gpu *g = array_push(&l->gpus, &l->n, &cap, sizeof(*g));
		if (!g) {
			r = -ENOMEM;
			break;
		}
		g->addr = a;
		g->vendor = (unsigned)vendor & 0xffff;
		g->device = (unsigned)device & 0xffff;
		g->vendor_name = names_lookup(&names, PCI_LOOKUP_VENDOR, g->vendor, 0);
		g->device_name = names_lookup(&names, PCI_LOOKUP_DEVICE, g->vendor, g->device);
		g->driver = link_name(de->d_name, "driver");
		g->iommu_group = link_name(de->d_name, "iommu_group");
	}
	closedir(d);
	if (names.pacc)
		pci_cleanup(names.pacc);
	if (r < 0) {
		gpus_release(l);
		return r;
	}
	if (l->n)
		qsort(l->gpus, l->n, sizeof(*l->gpus), gpu_compare);
	return 0;
}

void gpus_release(struct gpu_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->gpus[i].vendor_name);
		free(l->gpus[i].device_name);
		free(l->gpus[i].driver);
		free(l->gpus[i].iommu_group);
	}
	free(l->gpus);
	*l = (struct gpu_list){ 0 };
}

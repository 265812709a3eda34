#include <dirent.h>
#include <pci/pci.h>
#include <stdint.h>
#include <string.h>

#include "gpucard.h"
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

/* libpci over the pci.ids under the root; NULL when it cannot be set up (no names). */
static struct pci_access *names_open(bool *ret_ids_found)
{
	struct pci_access *pacc = NULL;
	_cleanup_free_ char *path = root_path(PCI_IDS_PATH);
	*ret_ids_found = path && access(path, R_OK) == 0;
	if (!path || gpu_pci_names_open(path, &pacc) < 0)
		return NULL;
	return pacc;
}

static char *names_lookup(struct pci_access *pacc, int what, unsigned vendor, unsigned device)
{
	char buf[256];
	if (!pacc || gpu_pci_lookup(pacc, what, (uint16_t)vendor, (uint16_t)device, buf, sizeof(buf)) < 0)
		return NULL;
	return strdup(buf);
}

static int gpu_compare(const void *a, const void *b)
{
	return pci_addr_compare(&((const struct gpu *)a)->addr, &((const struct gpu *)b)->addr);
}

int gpus_load(struct gpu_list *l)
{
	*l = (struct gpu_list){ 0 };
	DIR *d;
	int r = root_opendir("/sys/bus/pci/devices", &d);
	if (r < 0)
		return r == -ENOENT ? 0 : r;
	struct pci_access *names = names_open(&l->ids_found);
	size_t cap = 0;
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
		g->vendor_name = names_lookup(names, PCI_LOOKUP_VENDOR, g->vendor, 0);
		g->device_name = names_lookup(names, PCI_LOOKUP_DEVICE, g->vendor, g->device);
		/* an unreadable link shows as none, as a missing one */
		if (pci_link_name(&a, "driver", &g->driver) < 0)
			g->driver = NULL;
		if (pci_link_name(&a, "iommu_group", &g->iommu_group) < 0)
			g->iommu_group = NULL;
	}
	closedir(d);
	gpu_pci_close(names);
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

static const char *readiness_word(enum verdict v, bool is_root)
{
	switch (v) {
	case VERDICT_PASS:
	case VERDICT_INFO:
		return "ready";
	case VERDICT_WARN:
		return "warnings";
	case VERDICT_FAIL:
		return "not ready";
	case VERDICT_UNKNOWN:
		break;
	}
	/* without root, config capabilities are hidden: that is the usual cause */
	return is_root ? "unknown" : "unknown (needs root)";
}

static bool used_by_guest(const struct node *node, const struct pci_addr *a)
{
	for (size_t i = 0; i < node->n_guests; i++)
		if (guest_uses_addr(&node->guests[i], a))
			return true;
	return false;
}

void gpus_judge(struct gpu_list *l, const struct node *node)
{
	struct gpu_scan scan;
	if (l->n == 0)
		return;
	bool loaded = gpu_scan_load(&scan, NULL) >= 0;
	for (size_t i = 0; i < l->n; i++) {
		struct gpu *g = &l->gpus[i];
		ssize_t k = loaded ? pci_inventory_find(&scan.inv, &g->addr) : -1;
		enum verdict v;
		g->readiness = "unknown";
		/* the same function as the sysfs under the root prefix shows, or none */
		if (k < 0 || scan.inv.fns[k].vendor != g->vendor || scan.inv.fns[k].device != g->device)
			continue;
		if (gpu_card_readiness(&scan, (size_t) k, used_by_guest(node, &g->addr), &v) >= 0)
			g->readiness = readiness_word(v, scan.host.is_root);
	}
	gpu_scan_release(&scan);
}

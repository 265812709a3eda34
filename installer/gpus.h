/* The node's GPUs (PCI class 03xx) from sysfs under the root, named through
 * libpci's pci.ids (under the root too; names stay NULL when it is missing). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "node.h"
#include "pci_addr.h"

struct gpu {
	struct pci_addr addr;
	unsigned vendor, device;
	char *vendor_name;     /* NULL when pci.ids has no name */
	char *device_name;
	char *driver;          /* bound driver, or NULL */
	char *iommu_group;     /* group name, or NULL (no IOMMU) */
	const char *readiness; /* gpu-diag's verdict in one word (gpus_judge) */
};

struct gpu_list {
	struct gpu *gpus;
	size_t n;
	bool ids_found;        /* pci.ids could be read */
};

int gpus_load(struct gpu_list *l);
void gpus_release(struct gpu_list *l);

/* Sum up gpu-diag's checks of each GPU and its card's other functions in one
 * word: "ready", "warnings", "not ready", "unknown" or "unknown (needs root)".
 * A GPU libudev does not show as such stays "unknown". */
void gpus_judge(struct gpu_list *l, const struct node *node);

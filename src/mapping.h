/* Cluster PCI resource mappings, /etc/pve/mapping/pci.cfg (PROXMOX.md §4). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "pci_addr.h"
#include "problems.h"

/* One `map` line for the local node: one alternative, a set of devices used together. */
struct pci_mapping_alt {
	struct pci_addr *devs;
	size_t n_devs;
	char *id;          /* vendor:device from id=, or NULL */
	char *iommugroup;  /* iommugroup=, or NULL */
};

struct pci_mapping {
	char *name;
	bool mdev;
	struct pci_mapping_alt *alts;   /* local node's alternatives, file order */
	size_t n_alts;
	size_t n_other_nodes;           /* map lines for other nodes (for messages) */
};

struct mapping_table {
	struct pci_mapping *maps;
	size_t n, cap;
};

int mapping_parse(const char *text, const char *file, const char *node, struct mapping_table *ret, struct problem_list *problems);
/* Read /etc/pve/mapping/pci.cfg under the root; a missing file is an empty table. */
int mapping_load(const char *node, struct mapping_table *ret, struct problem_list *problems);
const struct pci_mapping *mapping_find(const struct mapping_table *t, const char *name);
void mapping_table_release(struct mapping_table *t);

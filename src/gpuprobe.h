/* Gathering GPU passthrough facts: PCI functions through libudev, config space
 * through libpci (own error handler: libpci's default one exits the process),
 * host files (IOMMU, /proc/cmdline, /sys/module) under the root prefix. No printing. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "gpucheck.h"
#include "pci_addr.h"

struct pci_access;

/* Open libpci on sysfs (dump_file NULL) or on an `lspci -x...` dump file.
 * Returns 0 or -errno; the libpci message of a failure goes to ret_error when given. */
int gpu_pci_open(const char *dump_file, struct pci_access **ret, char **ret_error);
void gpu_pci_close(struct pci_access *pacc);
/* Config-space facts of function a. -ENODEV when libpci does not know it,
 * -EIO when libpci reported an error. A short read (no root) leaves caps_readable false. */
int config_facts_read(struct pci_access *pacc, const struct pci_addr *a, struct config_facts *ret);

/* The vendor and device name from pci.ids into buf; -ENOENT when unknown. */
int gpu_pci_name(struct pci_access *pacc, uint16_t vendor, uint16_t device, char *buf, size_t size);
/* libpci for names only (no device access), from the pci.ids file ids_path.
 * Close with gpu_pci_close. Returns 0 or -ENOMEM. */
int gpu_pci_names_open(const char *ids_path, struct pci_access **ret);
/* A name from pci.ids alone (no numbers, no udev hwdb): what is PCI_LOOKUP_VENDOR
 * or PCI_LOOKUP_DEVICE. Returns 0, -ENOENT when unknown, -EIO on a libpci error. */
int gpu_pci_lookup(struct pci_access *pacc, int what, uint16_t vendor, uint16_t device, char *buf, size_t size);

/* Every PCI function of the host as libudev enumerates it. */
struct pci_inventory {
	struct gpu_function *fns;
	size_t n, cap;
};

/* A PCI function's membership of an IOMMU group, from /sys/kernel/iommu_groups. */
struct iommu_member {
	struct pci_addr addr;
	char group[16];
};

/* Enumerate PCI functions (cheap facts only: ids, class, driver, topology).
 * Returns 0 or -errno. */
int pci_inventory_load(struct pci_inventory *ret);
void pci_inventory_release(struct pci_inventory *inv);
/* Index of function a in inv, or -1. */
ssize_t pci_inventory_find(const struct pci_inventory *inv, const struct pci_addr *a);
/* Read the rest of the facts of inv->fns[i] in the safe order: power first,
 * then config space (pacc may be NULL: config unreadable), then the link. */
int gpu_function_probe(struct pci_inventory *inv, size_t i, struct pci_access *pacc);

/* Read <root>/sys/kernel/iommu_groups/<group>/devices. A missing directory is
 * an empty list. Fills iommu_group of the inventory's functions too (inv may be NULL). */
int iommu_members_load(struct pci_inventory *inv, struct iommu_member **ret, size_t *ret_n);

/* Host facts under the root prefix: IOMMU, ACPI tables, /proc/cmdline,
 * /etc/modprobe.d, /sys/module, /proc/sys/kernel/osrelease. */
int host_facts_load(struct host_facts *ret);

/* The backup-start check of the hook: is the card about to be handed over in
 * D3cold, or without any reset method? Reads only sysfs attributes under the
 * root prefix (no config space, nothing woken up). A slot id checks its
 * function 0. Returns 0 (ret filled) or -errno (-ENOENT: no such device). */
struct gpu_quick_result {
	bool problem;          /* text names a problem worth one warning line */
	bool d3cold;
	bool no_reset;         /* neither reset nor a non-empty reset_method */
	char text[320];        /* one line, no newline; "" when no problem */
};
int gpu_quick_check(const struct pci_addr *a, struct gpu_quick_result *ret);

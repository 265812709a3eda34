/* PCI addresses as Proxmox writes them in configs (qemu-server PCI.pm $PCIRE):
 * "01:00", "01:00.0", "0000:01:00.0"; lowercase hex only, domain 4+ digits.
 * An id written without function means every function of that slot. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "dddd...:bb:dd.f" plus NUL, with room for a long domain. */
#define PCI_ADDR_STRLEN 24

struct pci_addr {
	uint32_t domain;
	uint8_t bus;
	uint8_t slot;     /* device number, 0..0x1f */
	uint8_t func;     /* 0..7, meaningless when !has_func */
	bool has_func;    /* false: all functions of the slot */
};

/* Parse one id in Proxmox's grammar; returns 0 or -EINVAL. When
 * require_domain is set the domain must be present (mapping paths). */
int pci_addr_parse(const char *s, bool require_domain, struct pci_addr *ret);
/* Same for the first n bytes of s. */
int pci_addr_parse_n(const char *s, size_t n, bool require_domain, struct pci_addr *ret);

/* Normalised: "DDDD:BB:DD.F", or "DDDD:BB:DD" for a whole slot. Returns buf. */
char *pci_addr_format(const struct pci_addr *a, char buf[static PCI_ADDR_STRLEN]);

bool pci_addr_equal(const struct pci_addr *a, const struct pci_addr *b);
/* Does a (a function or a whole slot) include the function or slot b?
 * A slot id overlaps every function of that slot. */
bool pci_addr_overlaps(const struct pci_addr *a, const struct pci_addr *b);
bool pci_addr_same_slot(const struct pci_addr *a, const struct pci_addr *b);
int pci_addr_compare(const struct pci_addr *a, const struct pci_addr *b);

/* Expand a to the functions present under <root>/sys/bus/pci/devices: a
 * function id yields itself (when present, or when sysfs is absent); a slot
 * id yields every present function in order (itself unexpanded when sysfs
 * has no entry for it). Returns the count (>= 0) and a malloc'ed array, or -errno. */
int pci_addr_expand(const struct pci_addr *a, struct pci_addr **ret);

/* qemu-server guest configs, /etc/pve/qemu-server/<vmid>.conf, read as
 * qemu-server's parse_vm_config reads them (see shared PROXMOX.md §3). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "pci_addr.h"
#include "problems.h"

#define HOSTPCI_MAX 16

struct prop {
	char *key;
	char *value;
};

/* One hostpciN value: "[host=]ID[;ID...][,key=value...]" or "mapping=NAME,...". */
struct hostpci {
	unsigned index;           /* N of hostpciN */
	unsigned line;            /* line in the config file (0 when parsed alone) */
	char *value;              /* the property string as written */
	struct pci_addr *host;    /* host= ids in order: one device set */
	size_t n_host;
	char *mapping;            /* mapping=NAME, or NULL */
	char *mdev;               /* mdev=TYPE, or NULL */
	struct prop *opts;        /* every key=value in order, host and mapping included */
	size_t n_opts;
};

struct vm_config {
	unsigned vmid;
	char *name;
	bool template;
	bool onboot;
	char *lock;                      /* lock: value, or NULL */
	struct hostpci *hostpci;         /* live section, in file order */
	size_t n_hostpci;
	struct hostpci *pending_hostpci; /* [PENDING] section */
	size_t n_pending_hostpci;
	char **pending_delete;           /* keys named by [PENDING] delete:, '!' stripped */
	size_t n_pending_delete;
	struct pci_addr *args_pci;       /* args: -device vfio-pci,host=... / sysfsdev=... */
	size_t n_args_pci;
};

/* Parse one hostpci value. On error returns -EINVAL and a malloc'ed reason
 * in *ret_error (e.g. "invalid PCI id 'zz:00.0'"). */
int hostpci_parse(const char *value, unsigned index, struct hostpci *ret, char **ret_error);
void hostpci_release(struct hostpci *h);

/* Parse a whole config text. A bad line is added to problems with file and
 * line number and skipped; the rest is still read. file names the config in
 * problems (as the admin knows the path). */
int vm_config_parse(const char *text, unsigned vmid, const char *file, struct vm_config *ret, struct problem_list *problems);
/* Same over a mutable buffer, which it cuts into lines (no copy). */
int vm_config_parse_buf(char *buf, unsigned vmid, const char *file, struct vm_config *ret, struct problem_list *problems);
/* Read /etc/pve/qemu-server/<vmid>.conf under the root prefix. -ENOENT when absent. */
int vm_config_load(unsigned vmid, struct vm_config *ret, struct problem_list *problems);
void vm_config_release(struct vm_config *c);

/* The hostpci entries the next start (vzdump's paused start too) applies:
 * the live ones, overridden by [PENDING] entries of the same index, minus the
 * keys deleted by [PENDING] delete:. Fills ret (up to HOSTPCI_MAX pointers
 * into c, live file order first, then pending-only ones) and returns the count. */
size_t vm_config_next_start_hostpci(const struct vm_config *c, const struct hostpci *ret[static HOSTPCI_MAX]);

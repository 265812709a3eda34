/* The node as Proxmox sees it: local node name, this node's guests and the PCI
 * devices they use, who holds which device now, IOMMU groups, HA. Everything is
 * read under the root prefix (rootfs.h). No printing: problems are collected. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "lxcconf.h"
#include "mapping.h"
#include "pci_addr.h"
#include "problems.h"
#include "vmconf.h"

enum guest_type {
	GUEST_QEMU,
	GUEST_LXC,
};

/* PCI functions used together; for a mapping, one alternative. Addresses stay
 * as written (a slot id means all its functions; see pci_addr_expand). */
struct pci_set {
	struct pci_addr *addrs;
	size_t n;
};

/* One way a guest uses a GPU: a hostpciN entry, an args: device, a CT device node. */
struct device_use {
	char *source;            /* "hostpci0", "args", "dev0", "lxc.mount.entry", ... */
	char *mapping;           /* mapping name, or NULL */
	bool shared;             /* classic mdev: users of one parent do not conflict */
	bool pending_only;       /* only in [PENDING]: used by the next start, not now */
	bool next_start;         /* used by the next start (live+pending, minus deletes) */
	bool live;               /* in the live section */
	struct pci_set *alts;    /* host=: one; mapping: one per local map line; none if unresolved */
	size_t n_alts;
	char *device_node;       /* CT: the device node this came from, or NULL */
};

struct guest {
	enum guest_type type;
	unsigned vmid;
	char *name;              /* VM name: / CT hostname:, or NULL */
	bool template;
	bool running;
	pid_t pid;               /* VM: QEMU pid when running */
	char *lock;              /* lock: value, or NULL */
	bool onboot;
	bool ha_managed;         /* in /etc/pve/ha/resources.cfg and not 'ignored' */
	char *ha_state;          /* requested HA state, or NULL */
	struct device_use *uses;
	size_t n_uses, cap_uses;
	char **device_nodes;     /* CT: GPU device nodes (paths as configured) */
	size_t n_device_nodes;
};

/* A line of /run/qemu-server/pci-id-reservations: "<id> <vmid> pid:<pid>" or "time:<expiry>". */
struct reservation {
	struct pci_addr addr;
	unsigned vmid;
	pid_t pid;               /* 0 for a time reservation */
	long long expiry;        /* epoch seconds; 0 for a pid reservation */
};

struct iommu_group {
	char *name;              /* directory name under /sys/kernel/iommu_groups */
	struct pci_addr *members;
	size_t n_members;
};

struct node {
	char *name;
	struct guest *guests;            /* sorted by vmid */
	size_t n_guests, cap_guests;
	struct reservation *reservations;
	size_t n_reservations;
	struct iommu_group *groups;
	size_t n_groups;
	struct mapping_table mappings;
	bool mappings_loaded;
	struct problem_list problems;
};

/* Who holds a PCI function now: a VM's reservation (unexpired time: or pid: of
 * the running VM), a running VM's configured device, a running container. */
struct holder {
	struct pci_addr addr;
	enum guest_type type;
	unsigned vmid;
	pid_t pid;               /* VM pid, 0 when unknown */
	long long expiry;        /* time reservation, epoch seconds; else 0 */
	const char *source;      /* "reservation", "config" or "container" (static) */
};

enum {
	NODE_LOAD_VMS = 1 << 0,
	NODE_LOAD_CTS = 1 << 1,
	NODE_LOAD_RUNNING = 1 << 2,      /* pid files, /proc, running containers */
	NODE_LOAD_RESERVATIONS = 1 << 3,
	NODE_LOAD_IOMMU = 1 << 4,
	NODE_LOAD_HA = 1 << 5,
	NODE_LOAD_ALL = 0x3f,
};

/* "qemu" or "lxc", as vzdump's VMTYPE says. */
const char *guest_type_name(enum guest_type t);

/* The PCI ids a guest's live config uses, in config order, mappings resolved
 * (every alternative), each once; slot ids stay slots. Returns the count or -ENOMEM. */
int guest_live_devices(const struct guest *g, struct pci_addr **ret);
/* The same with the uses of the next start too (a pending change), each id once. */
int guest_devices(const struct guest *g, bool next_start_too, struct pci_addr **ret);
/* Does g use PCI function or slot a (live or at the next start, any mapping alternative)? */
bool guest_uses_addr(const struct guest *g, const struct pci_addr *a);

/* The holders of PCI functions now, from reservations (loaded with
 * NODE_LOAD_RESERVATIONS) and running guests (NODE_LOAD_RUNNING). */
int node_holders(const struct node *node, struct holder **ret, size_t *ret_n);

/* Load the parts of the node named by what. The node starts zeroed. Returns 0 when anything could be
 * read (problems hold what could not), -errno when nothing could. */
int node_load(struct node *node, unsigned what);
void node_release(struct node *node);

/* Local node name: target of /etc/pve/local (nodes/<name>), else the short host name. */
int node_local_name(char **ret);

struct guest *node_find_guest(const struct node *node, unsigned vmid);
/* Load a single guest (VM or CT, whichever exists) without reading the others. */
int node_load_guest(struct node *node, unsigned vmid, unsigned what);

/* The IOMMU group holding function a, or NULL. */
const struct iommu_group *node_iommu_group_of(const struct node *node, const struct pci_addr *a);

/* Running state straight from the node (no qm/pct): VM = pid file + /proc/<pid>/cmdline,
 * CT = abstract socket @/var/lib/lxc/<vmid>/command in /proc/net/unix. */
bool vm_running(unsigned vmid, pid_t *ret_pid);
bool ct_running(unsigned vmid);

int reservations_load(struct reservation **ret, size_t *ret_n, struct problem_list *problems);
/* Is a reservation still a claim, as qemu-server's reserve_pci_usage judges it: a
 * time one until it expires (now, epoch seconds), a pid one while that VM runs
 * with that pid. node (may be NULL) answers for the guests it loaded; the others
 * are looked up in /run/qemu-server and /proc now. */
bool reservation_live(const struct node *node, const struct reservation *r, long long now);
/* Parse the reservation file's text (file names it in problems). */
int reservations_parse(const char *text, const char *file, struct reservation **ret, size_t *ret_n, struct problem_list *problems);
/* Running containers: vmids from /proc/net/unix, sorted. */
int ct_running_list(unsigned **ret, size_t *ret_n);
/* /sys/kernel/iommu_groups, sorted by group number. */
int iommu_groups_load(struct iommu_group **ret, size_t *ret_n);
void iommu_groups_free(struct iommu_group *g, size_t n);
/* The PCI functions behind a configured CT device path: one for a node, every
 * DRM device for a /dev/dri directory, none for /dev/nvidiactl and friends. */
int device_path_to_pcis(const char *path, struct pci_addr **ret, size_t *ret_n);
/* HA: set ha_managed/ha_state of the node's guests from /etc/pve/ha/resources.cfg. */
int node_load_ha(struct node *node);

/* The driver bound to function a now (basename of the sysfs driver link), or NULL. */
int pci_driver_of(const struct pci_addr *a, char **ret);
/* The basename of the sysfs link <function a>/<link> ("driver", "iommu_group"), or NULL when absent. */
int pci_link_name(const struct pci_addr *a, const char *link, char **ret);
/* Map a device node (/dev/dri/renderD128, /dev/dri/card0, /dev/nvidia0) to its PCI function
 * through /sys/class/drm/<node>/device or /proc/driver/nvidia/gpus/<bdf>/information. */
int device_node_to_pci(const char *devnode, struct pci_addr *ret);

/* Validate a VMID as Proxmox does (100..999999999). */
bool vmid_valid(unsigned long long vmid);
int vmid_parse(const char *s, unsigned *ret);

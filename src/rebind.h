/* Hand PCI functions, with their IOMMU group, back from vfio-pci to their host
 * drivers: the reverse of Proxmox's pci_dev_group_bind_to_vfio, which nothing
 * in Proxmox ever does. Every sysfs write is checked and a failure names the
 * device and the file; a function a running VM holds is never unbound. All
 * paths are under the root prefix (rootfs.h); nothing is printed. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "pci_addr.h"

#define REBIND_DRIVER_MAX 64
#define REBIND_PATH_MAX 256
#define REBIND_TIMEOUT_MS_DEFAULT 5000
/* qemu-server's lock around reserve_pci_usage (flock, it waits 5 s for it). */
#define REBIND_PCI_LOCK "/run/qemu-server/pci-id-reservations.lock"

/* Does a running VM hold function a now? Node policy stays with the caller
 * (reservations, pid files); set *ret_vmid when known. */
typedef bool (*rebind_held_fn)(const struct pci_addr *a, void *userdata, unsigned *ret_vmid);

/* A function (or a whole slot) a running VM holds. */
struct rebind_holder {
	struct pci_addr addr;
	unsigned vmid;
};

/* Where a function goes: the driver it had before a VM took it (hook state).
 * NULL or "" means: it had no host driver, leave it where it is. */
struct rebind_target {
	struct pci_addr addr;
	const char *driver;
};

struct rebind_options {
	rebind_held_fn held;                   /* may be NULL */
	void *userdata;
	const struct rebind_holder *holders;   /* may be NULL */
	size_t n_holders;
	/* NULL: every group member on vfio-pci (or on no driver) goes back, to the
	 * driver named by the caller for the functions it named, else to the
	 * kernel's choice. Non-NULL: exactly the plan; members not listed stay. */
	const struct rebind_target *targets;
	size_t n_targets;
	int timeout_ms;                        /* per function, for the driver link; 0 = default */
	/* Hold REBIND_PCI_LOCK from the holder check to the last move, so a VM start
	 * cannot reserve and take the group half way (skipped when /run/qemu-server
	 * is absent). The held callback runs under it and must not take it. */
	bool lock;
	int lock_timeout_ms;                   /* 0 = 3000; qemu-server gives up after 5 s */
};

enum rebind_state {
	REBIND_PENDING,
	REBIND_REBOUND,    /* moved off vfio-pci (or no driver) onto driver_after */
	REBIND_ALREADY,    /* already on its target or a host driver: nothing written */
	REBIND_KEPT,       /* left alone: a bridge, bound to another driver, or the plan keeps it */
	REBIND_HELD,       /* a running VM holds it or a sibling in its group: nothing written */
	REBIND_FAILED,     /* error, failed_step, error_path say why */
};

enum rebind_step {
	REBIND_STEP_NONE,
	REBIND_STEP_READ,     /* reading error_path failed */
	REBIND_STEP_WRITE,    /* writing error_path failed */
	REBIND_STEP_VERIFY,   /* the driver link did not show the target in time */
};

struct rebind_device {
	struct pci_addr addr;
	bool bridge;                                 /* has pci_bus/ or class 0604: never moved */
	char driver_before[REBIND_DRIVER_MAX];       /* "" = none */
	char driver_target[REBIND_DRIVER_MAX];       /* "" = the kernel's choice (drivers_probe) */
	char driver_after[REBIND_DRIVER_MAX];        /* "" = none */
	enum rebind_state state;
	unsigned held_by;                            /* REBIND_HELD: the VM, 0 when unknown */
	struct pci_addr held_addr;                   /* REBIND_HELD: the function that VM holds */
	int error;                                   /* REBIND_FAILED: -errno */
	enum rebind_step failed_step;
	int waited_ms;                               /* REBIND_STEP_VERIFY: how long */
	char error_path[REBIND_PATH_MAX];            /* as on a real host (without the root prefix) */
};

struct rebind_report {
	char group[32];                              /* IOMMU group, "" when there is none */
	struct rebind_device *devices;               /* sorted by address */
	size_t n_devices, cap_devices;
};

void rebind_report_release(struct rebind_report *r);

/* The whole job of `pve-gpu-backup-hook rebind <pci-id>` and of the hook's restore:
 * expand a (a slot id means all its functions), take the IOMMU group of each
 * function, refuse the whole group when a running VM holds any member (-EBUSY,
 * nothing written), then move each member as rebind_function does. Members
 * the caller did not name go to the kernel's choice, or follow opts->targets.
 * Continues past a failed member. Returns 0 when every member ended as
 * planned, -EBUSY when held, else the first member's -errno; ret lists every
 * member either way (release it even on error). With opts->lock, a lock that
 * cannot be had returns its -errno (-EWOULDBLOCK when busy) with ret listing
 * the members, all REBIND_PENDING, nothing written. */
int rebind_pci_group(const struct pci_addr *a, const char *driver_or_null,
                     const struct rebind_options *opts, struct rebind_report *ret);

/* One function, no group: refuse (-EBUSY) when held; nothing to do when already
 * on driver (or, with driver NULL, on any host driver); else, from vfio-pci or
 * no driver: driver_override = driver (or cleared), remove_id the vendor:device
 * from vfio-pci's dynamic ids (ENODEV = was not dynamic, fine), unbind from
 * vfio-pci, bind to driver (or drivers_probe), poll the driver link, and clear
 * driver_override again (left set, Proxmox's next vfio-pci bind would fail). */
int rebind_function(const struct pci_addr *a, const char *driver,
                    const struct rebind_options *opts, struct rebind_device *ret);

/* Wait (polling, bounded) until every device node (paths like /dev/dri/renderD128)
 * exists. Returns 0, or -ETIMEDOUT with *ret_missing = index of one still missing. */
int rebind_wait_nodes(const char *const *nodes, size_t n, int timeout_ms, size_t *ret_missing);

/* The DRM device nodes function a's driver has made, from sysfs <dev>/drm/:
 * "/dev/dri/card0", "/dev/dri/renderD128", sorted (none when it has no DRM
 * driver). What a container binding the /dev/dri directory waits for after a
 * rebind: udev makes the nodes a moment after the probe. Free with strv_free. */
int rebind_drm_nodes(const struct pci_addr *a, char ***ret, size_t *ret_n);

/* The members of a's IOMMU group (a alone when there is none) with their drivers now. */
struct rebind_member {
	struct pci_addr addr;
	bool bridge;
	char driver[REBIND_DRIVER_MAX];              /* "" = none */
};
struct rebind_group {
	char name[32];                               /* "" = no IOMMU group */
	struct rebind_member *members;               /* sorted by address */
	size_t n_members, cap_members;
};
int rebind_query_group(const struct pci_addr *a, struct rebind_group *ret);
void rebind_group_release(struct rebind_group *g);

/* The driver bound to function a now ("" = none); 0 or -errno. */
int rebind_driver_now(const struct pci_addr *a, char ret[static REBIND_DRIVER_MAX]);
/* A bridge (pci_bus/ or class 0x0604): Proxmox leaves it out of the group move, so do we. */
bool rebind_is_bridge(const struct pci_addr *a);

/* The functions running VMs hold now, from a node loaded with NODE_LOAD_VMS,
 * NODE_LOAD_RUNNING and NODE_LOAD_RESERVATIONS (node_holders without the
 * containers: they use the host driver, which is where the rebind goes). */
struct node;
int rebind_holders_from_node(const struct node *node, struct rebind_holder **ret, size_t *ret_n);

/* One line for the user, e.g.
 *   "0000:05:00.0: cannot write '/sys/bus/pci/drivers/nvidia/bind': Operation not permitted"
 *   "0000:05:00.1: left on vfio-pci: VM 104 holds 0000:05:00.0"
 *   "0000:00:02.0: vfio-pci -> i915"
 * Returns 0 and a malloc'ed string, or -ENOMEM. */
int rebind_device_describe(const struct rebind_device *d, char **ret);
const char *rebind_state_name(enum rebind_state s);

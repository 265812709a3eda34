/* Verdicts on GPU passthrough facts: will this card survive a stop-mode backup?
 * Pure functions over plain data (no I/O); gpuprobe.h gathers the facts. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pci_addr.h"

enum verdict {
	VERDICT_PASS,
	VERDICT_INFO,
	VERDICT_UNKNOWN,     /* could not be judged (e.g. config space needs root) */
	VERDICT_WARN,
	VERDICT_FAIL,
};

/* One judged check: the values it was judged on, and how to fix it. */
struct check_result {
	enum verdict verdict;
	char what[96];        /* "Checking <what>" */
	char status[96];      /* short state shown after the verdict, e.g. "FLR" */
	char evidence[256];   /* the values read, "key=value ..." */
	char hint[384];       /* concrete fix; empty for PASS */
};

const char *verdict_name(enum verdict v);

/* Config-space facts read through libpci. */
struct config_facts {
	bool readable;        /* the 64-byte header could be read */
	bool caps_readable;   /* capabilities visible (needs root: 256+ bytes) */
	bool all_ff;          /* vendor 0xffff / every byte 0xff: fell off the bus */
	uint16_t vendor, device;
	uint8_t header_type;
	bool is_pcie;
	uint8_t pcie_type;    /* PCI_EXP_FLAGS_TYPE >> 4 */
	bool flr;             /* PCIe DevCap bit 28 (PCI_EXP_DEVCAP_FLRESET) */
	bool has_pm;
	bool pm_no_soft_reset; /* PCI_PM_CTRL_NO_SOFT_RST */
	bool has_af;          /* PCI_CAP_ID_AF */
	bool af_tp, af_flr;
	unsigned link_speed_cap, link_width_cap;   /* LnkCap; 0 unknown */
	unsigned link_speed_sta, link_width_sta;   /* LnkSta; 0 unknown */
	bool has_sriov;
	uint16_t sriov_total_vfs, sriov_num_vfs;
};

/* One PCI function as sysfs and config space show it. Strings are "" when absent. */
struct gpu_function {
	struct pci_addr addr;
	uint16_t vendor, device;
	uint32_t class_code;        /* 24-bit class, e.g. 0x030000 */
	char driver[64];
	char driver_override[64];
	int boot_vga;               /* -1 absent */
	char power_state[16];       /* D0, D3hot, D3cold, unknown, error; "" absent */
	char runtime_status[16];
	int d3cold_allowed;         /* -1 absent */
	bool has_reset;             /* sysfs "reset" exists (Proxmox's reset flag) */
	bool has_reset_method;      /* sysfs "reset_method" exists (kernel >= 5.15) */
	char reset_method[96];
	char cur_link_speed[32], max_link_speed[32];
	int cur_link_width, max_link_width;  /* -1 absent */
	int sriov_numvfs, sriov_totalvfs;    /* -1 absent */
	bool is_vf;
	struct pci_addr physfn;     /* valid when is_vf */
	bool physfn_ok;             /* physfn link resolves to a present PF with sriov_numvfs > 0 */
	bool mdev_parent;           /* mdev_supported_types/ exists */
	bool on_root_bus;           /* no bridge above: bus reset impossible */
	bool bus_has_other_devices; /* other slots share the bus: bus reset refused */
	char iommu_group[16];       /* "" when none */
	char sysfs_path[256];       /* where the facts were read (libudev syspath) */
	struct config_facts cfg;
};

struct host_facts {
	bool is_root;
	int iommu_class_entries;    /* entries in /sys/class/iommu; -1 unreadable */
	int iommu_groups;           /* entries in /sys/kernel/iommu_groups; -1 unreadable */
	bool dmar_table, ivrs_table;
	bool acpi_tables_readable;  /* /sys/firmware/acpi/tables could be listed */
	char cpu_vendor[16];        /* "GenuineIntel", "AuthenticAMD", "" */
	bool cmdline_iommu_off;     /* iommu=off, intel_iommu=off or amd_iommu=off */
	bool cmdline_amd_iommu_on;  /* amd_iommu=on: not a valid option */
	char acs_override[64];      /* pcie_acs_override= value, "" none */
	bool unsafe_interrupts;     /* cmdline, modprobe.d or module parameter */
	bool vendor_reset_loaded;   /* /sys/module/vendor_reset */
	char vfio_ids[256];         /* vfio-pci ids= from /proc/cmdline and /etc/modprobe.d, comma-separated */
	char kernel_release[65];   /* as struct utsname holds it */
	unsigned kernel_major, kernel_minor;
};

/* What stands around a card when its reset is judged. */
struct reset_topology {
	size_t n_slot_functions;    /* functions of the card (same slot), itself included */
	bool all_slot_vfio;         /* every function of the card is on vfio-pci, or unbound (Proxmox binds it at start) */
};

/* A function of another slot or bus that shares the card's IOMMU group. */
struct group_member {
	struct pci_addr addr;
	uint32_t class_code;
	char driver[64];
};

/* Helpers on plain facts. */
bool pci_class_is_display(uint32_t class_code);
bool pci_class_is_bridge(uint32_t class_code);
/* The AMD families with the reset bug that need vendor-reset; NULL otherwise. */
const char *amd_reset_bug_family(uint16_t vendor, uint16_t device);
/* Bus reset quirked off by the kernel (NVIDIA 0x234x, T4 0x1eb8 ...). */
bool pci_bus_reset_quirked(uint16_t vendor, uint16_t device);
/* reset_method as a word list: does it contain / start with word? */
bool reset_method_has(const char *reset_method, const char *word);
bool reset_method_starts_with(const char *reset_method, const char *word);

/* Host checks. */
void check_host_root(const struct host_facts *h, struct check_result *r);
void check_host_iommu(const struct host_facts *h, struct check_result *r);
void check_host_acs_override(const struct host_facts *h, struct check_result *r);
void check_host_unsafe_interrupts(const struct host_facts *h, struct check_result *r);
void check_host_kernel(const struct host_facts *h, struct check_result *r);

/* Per-function checks. */
void check_alive(const struct gpu_function *f, struct check_result *r);
/* vfio_ids: the configured vfio-pci ids= list ("" none), to tell a missing id from a lost race. */
void check_driver(const struct gpu_function *f, const char *vfio_ids, struct check_result *r);
/* Is "vvvv:dddd" in a comma-separated ids list? */
bool vfio_ids_contain(const char *ids, uint16_t vendor, uint16_t device);
void check_power(const struct gpu_function *f, struct check_result *r);
void check_reset(const struct gpu_function *f, const struct reset_topology *t, struct check_result *r);
/* Returns false when the card is no reset-bug AMD (no check to show). */
bool check_amd_reset_bug(const struct gpu_function *f, bool vendor_reset_loaded, struct check_result *r);
void check_siblings(const struct gpu_function *f, const struct gpu_function *siblings, size_t n, struct check_result *r);
void check_iommu_group(const struct gpu_function *f, const struct group_member *others, size_t n, struct check_result *r);
/* Returns false when the link speed/width is unknown (no check to show). */
bool check_link(const struct gpu_function *f, struct check_result *r);
/* passed_whole: the whole card (PF) is given to a guest. False when no SR-IOV. */
bool check_sriov(const struct gpu_function *f, bool passed_whole, struct check_result *r);

/* Proxmox layer: the guests that use a card, as plain data. */
struct card_user {
	unsigned vmid;
	bool is_ct;
	bool running;
	bool template;
};

/* Which guests use the card: none INFO, one PASS, several WARN (the hook's case). */
void check_card_users(const struct card_user *users, size_t n, struct check_result *r);
/* Who holds the card now (holder NULL: nobody). A container holding it through
 * the host driver while VMs use it: WARN. */
void check_card_holder(const struct card_user *holder, const char *source, size_t n_vm_users, struct check_result *r);
/* A guest must take every function of the card: missing lists those it leaves out. */
void check_guest_takes_card(const struct card_user *u, const struct pci_addr *missing, size_t n, struct check_result *r);
/* The backup of a stopped VM starts it with the card: FAIL unless reset is PASS. */
void check_stopped_vm_backup(const struct card_user *vm, const struct check_result *reset, struct check_result *r);

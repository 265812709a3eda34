/* Verdicts on the host: root, IOMMU, ACS override, unsafe interrupts, kernel. */
#include <stdio.h>

#include "checkresult.h"

void check_host_root(const struct host_facts *h, struct check_result *r)
{
	check_result_init(r, h->is_root ? VERDICT_PASS : VERDICT_WARN, "for root privileges");
	SET(r->evidence, "euid_is_root=%s", h->is_root ? "yes" : "no");
	if (!h->is_root)
		SET(r->hint, "run gpu-diag as root: without it config space (FLR, power management, link) cannot be read and those checks say UNKNOWN");
}

void check_host_iommu(const struct host_facts *h, struct check_result *r)
{
	check_result_init(r, VERDICT_PASS, "if IOMMU is enabled");
	SET(r->evidence, "iommu_devices=%d iommu_groups=%d dmar=%s ivrs=%s iommu_off_cmdline=%s",
	    h->iommu_class_entries, h->iommu_groups, h->dmar_table ? "yes" : "no",
	    h->ivrs_table ? "yes" : "no", h->cmdline_iommu_off ? "yes" : "no");
	if (h->cmdline_iommu_off) {
		r->verdict = VERDICT_FAIL;
		SET(r->status, "disabled on the kernel command line");
		SET(r->hint, "remove iommu=off / intel_iommu=off / amd_iommu=off from GRUB_CMDLINE_LINUX_DEFAULT in /etc/default/grub "
		    "(or /etc/kernel/cmdline with systemd-boot), run proxmox-boot-tool refresh and reboot");
	} else if (h->iommu_class_entries > 0 && h->iommu_groups > 0) {
		return;
	} else if (h->acpi_tables_readable && !h->dmar_table && !h->ivrs_table) {
		r->verdict = VERDICT_FAIL;
		SET(r->status, "off in firmware (no ACPI DMAR/IVRS table)");
		SET(r->hint, "enable VT-d (Intel) or AMD-Vi/IOMMU (AMD) in the BIOS/UEFI setup, then reboot");
	} else {
		r->verdict = VERDICT_FAIL;
		SET(r->status, "%s", h->iommu_groups > 0 ? "no IOMMU unit in /sys/class/iommu" : "no IOMMU groups");
		SET(r->hint, "add intel_iommu=on (Intel, kernels before 6.8) to the kernel command line and reboot; "
		    "on AMD the IOMMU is on by default when enabled in the BIOS");
	}
	if (h->cmdline_amd_iommu_on)
		APPEND(r->hint, "; note: amd_iommu=on is not a valid option (the kernel logs \"Unknown option\"), remove it");
}

void check_host_acs_override(const struct host_facts *h, struct check_result *r)
{
	bool set = h->acs_override[0] != '\0';
	check_result_init(r, set ? VERDICT_WARN : VERDICT_PASS, "for the ACS override");
	SET(r->evidence, "pcie_acs_override=%s", set ? h->acs_override : "(unset)");
	if (set) {
		SET(r->status, "pcie_acs_override=%s", h->acs_override);
		SET(r->hint, "IOMMU groups no longer mean isolation: a guest can reach host devices by peer-to-peer DMA; "
		    "prefer a slot with its own root port and remove pcie_acs_override from the kernel command line");
	}
}

void check_host_unsafe_interrupts(const struct host_facts *h, struct check_result *r)
{
	check_result_init(r, h->unsafe_interrupts ? VERDICT_WARN : VERDICT_PASS, "for unsafe interrupt remapping");
	SET(r->evidence, "allow_unsafe_interrupts=%s", h->unsafe_interrupts ? "1" : "0");
	if (h->unsafe_interrupts)
		SET(r->hint, "vfio_iommu_type1.allow_unsafe_interrupts=1 lets a guest inject interrupts into the host; "
		    "enable interrupt remapping (x2APIC) in the BIOS and remove the option from /etc/modprobe.d/ and the kernel command line");
}

void check_host_kernel(const struct host_facts *h, struct check_result *r)
{
	check_result_init(r, VERDICT_PASS, "the kernel version");
	SET(r->evidence, "release=%s", h->kernel_release[0] ? h->kernel_release : "(unknown)");
	SET(r->status, "%s", h->kernel_release);
	if (h->kernel_major == 0) {
		r->verdict = VERDICT_UNKNOWN;
		SET(r->status, "unknown");
	} else if (h->kernel_major < 5 || (h->kernel_major == 5 && h->kernel_minor < 15)) {
		r->verdict = VERDICT_WARN;
		SET(r->hint, "kernels before 5.15 have no reset_method attribute: the reset method cannot be seen or chosen; "
		    "upgrade to a current Proxmox VE kernel");
	}
}

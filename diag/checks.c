/* gpu-diag's checks: facts from gpuprobe, verdicts from gpucheck, lines to the report. */
#include <stdio.h>
#include <string.h>

#include "checks.h"

void diag_host(struct diag_context *ctx)
{
	struct check_result r;
	report_section(ctx->report, "host", "host", NULL);
	check_host_root(&ctx->host, &r);
	report_check(ctx->report, "root", &r);
	check_host_iommu(&ctx->host, &r);
	report_check(ctx->report, "iommu", &r);
	check_host_acs_override(&ctx->host, &r);
	report_check(ctx->report, "acs_override", &r);
	check_host_unsafe_interrupts(&ctx->host, &r);
	report_check(ctx->report, "unsafe_interrupts", &r);
	check_host_kernel(&ctx->host, &r);
	report_check(ctx->report, "kernel", &r);
}

/* Another function of f's card (exported for the Proxmox layer): same slot, and no SR-IOV VF (a VF is a device of its own). */
bool card_function(const struct gpu_function *f, const struct gpu_function *o)
{
	return !pci_addr_equal(&f->addr, &o->addr) && pci_addr_same_slot(&f->addr, &o->addr) && !f->is_vf && !o->is_vf;
}

static struct reset_topology topology_of(const struct pci_inventory *inv, const struct gpu_function *f)
{
	/* an unbound function gets vfio-pci when Proxmox starts the VM */
	struct reset_topology t = { .n_slot_functions = 1, .all_slot_vfio = streq(f->driver, "vfio-pci") || !f->driver[0] };
	for (size_t j = 0; j < inv->n; j++)
		if (card_function(f, &inv->fns[j])) {
			t.n_slot_functions++;
			if (!streq(inv->fns[j].driver, "vfio-pci") && inv->fns[j].driver[0])
				t.all_slot_vfio = false;
		}
	return t;
}

/* The device's name from pci.ids, or its ids. */
static void device_title(struct diag_context *ctx, const struct gpu_function *f, const char *role, char *buf, size_t size)
{
	char addr[PCI_ADDR_STRLEN], name[192] = "";
	if (ctx->pacc)
		(void) gpu_pci_name(ctx->pacc, f->vendor, f->device, name, sizeof(name));
	snprintf(buf, size, "%s %s [%04x:%04x] class %06x%s%s", pci_addr_format(&f->addr, addr),
		 role, f->vendor, f->device, f->class_code, name[0] ? ": " : "", name);
}

static void function_section(struct diag_context *ctx, const struct gpu_function *f, const char *role)
{
	char addr[PCI_ADDR_STRLEN], title[320], num[16];
	device_title(ctx, f, role, title, sizeof(title));
	report_section(ctx->report, "function", pci_addr_format(&f->addr, addr), title);
	report_section_kv(ctx->report, "pci_addr", addr);
	snprintf(num, sizeof(num), "0x%04x", f->vendor);
	report_section_kv(ctx->report, "vendor", num);
	snprintf(num, sizeof(num), "0x%04x", f->device);
	report_section_kv(ctx->report, "device", num);
	snprintf(num, sizeof(num), "0x%06x", f->class_code);
	report_section_kv(ctx->report, "class", num);
	report_section_kv(ctx->report, "role", role);
}

static void group_checks(struct diag_context *ctx, const struct gpu_function *f)
{
	struct check_result r;
	_cleanup_free_ struct group_member *others = NULL;
	size_t n = 0, cap = 0;
	for (size_t m = 0; f->iommu_group[0] && m < ctx->n_members; m++) {
		const struct iommu_member *im = &ctx->members[m];
		if (!streq(im->group, f->iommu_group) || pci_addr_equal(&im->addr, &f->addr))
			continue;
		struct group_member *g = array_push(&others, &n, &cap, sizeof(*g));
		if (!g)
			break;
		g->addr = im->addr;
		ssize_t k = pci_inventory_find(&ctx->inv, &im->addr);
		if (k >= 0) {
			g->class_code = ctx->inv.fns[k].class_code;
			snprintf(g->driver, sizeof(g->driver), "%s", ctx->inv.fns[k].driver);
		}
	}
	check_iommu_group(f, others, n, &r);
	report_check(ctx->report, "iommu_group", &r);
}

/* Only the checks that do not need the card's config capabilities: siblings are judged lightly. */
static void sibling_checks(struct diag_context *ctx, size_t j)
{
	struct check_result r;
	const struct gpu_function *s = &ctx->inv.fns[j];
	function_section(ctx, s, "function of the card");
	check_alive(s, &r);
	report_check(ctx->report, "alive", &r);
	check_driver(s, ctx->host.vfio_ids, &r);
	report_check(ctx->report, "driver", &r);
	check_power(s, &r);
	report_check(ctx->report, "power", &r);
}

void diag_reset_result(struct diag_context *ctx, size_t i, struct check_result *ret)
{
	struct reset_topology t = topology_of(&ctx->inv, &ctx->inv.fns[i]);
	check_reset(&ctx->inv.fns[i], &t, ret);
}

int diag_card(struct diag_context *ctx, size_t i, bool passed_whole)
{
	struct check_result r;
	int err = gpu_function_probe(&ctx->inv, i, ctx->pacc);
	if (err < 0)
		return err;
	/* Siblings are probed before any verdict: the reset and sibling checks need their drivers. */
	_cleanup_free_ struct gpu_function *sibs = NULL;
	size_t n_sibs = 0, cap = 0;
	for (size_t j = 0; j < ctx->inv.n; j++) {
		if (!card_function(&ctx->inv.fns[i], &ctx->inv.fns[j]))
			continue;
		err = gpu_function_probe(&ctx->inv, j, ctx->pacc);
		if (err < 0)
			return err;
		struct gpu_function *s = array_push(&sibs, &n_sibs, &cap, sizeof(*s));
		if (!s)
			return -ENOMEM;
		*s = ctx->inv.fns[j];
	}
	const struct gpu_function *f = &ctx->inv.fns[i];

	function_section(ctx, f, !pci_class_is_display(f->class_code) ? "device" : f->is_vf ? "GPU (SR-IOV VF)" : "GPU");
	check_alive(f, &r);
	report_check(ctx->report, "alive", &r);
	check_driver(f, ctx->host.vfio_ids, &r);
	report_check(ctx->report, "driver", &r);
	check_power(f, &r);
	report_check(ctx->report, "power", &r);
	struct reset_topology t = topology_of(&ctx->inv, f);
	check_reset(f, &t, &r);
	report_check(ctx->report, "reset", &r);
	if (check_amd_reset_bug(f, ctx->host.vendor_reset_loaded, &r))
		report_check(ctx->report, "amd_reset_bug", &r);
	check_siblings(f, sibs, n_sibs, &r);
	report_check(ctx->report, "siblings", &r);
	group_checks(ctx, f);
	if (check_link(f, &r))
		report_check(ctx->report, "link", &r);
	if (check_sriov(f, passed_whole, &r))
		report_check(ctx->report, "sriov", &r);

	return 0;
}

void diag_card_functions(struct diag_context *ctx, size_t i)
{
	const struct gpu_function *f = &ctx->inv.fns[i];
	for (size_t j = 0; j < ctx->inv.n; j++)
		if (card_function(f, &ctx->inv.fns[j]) && !pci_class_is_display(ctx->inv.fns[j].class_code))
			sibling_checks(ctx, j);
}

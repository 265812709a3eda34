/* gpu-diag's checks: verdicts from gpucard (the library), lines to the report. */
#include <stdio.h>
#include <string.h>

#include "checks.h"

void diag_host(struct diag_context *ctx)
{
	const struct host_facts *h = &ctx->scan.host;
	struct check_result r;
	report_section(ctx->report, "host", "host", NULL);
	check_host_root(h, &r);
	report_check(ctx->report, "root", &r);
	check_host_iommu(h, &r);
	report_check(ctx->report, "iommu", &r);
	check_host_acs_override(h, &r);
	report_check(ctx->report, "acs_override", &r);
	check_host_unsafe_interrupts(h, &r);
	report_check(ctx->report, "unsafe_interrupts", &r);
	check_host_kernel(h, &r);
	report_check(ctx->report, "kernel", &r);
}

/* The device's name from pci.ids, or its ids. */
static void device_title(struct diag_context *ctx, const struct gpu_function *f, const char *role, char *buf, size_t size)
{
	char addr[PCI_ADDR_STRLEN], name[192] = "";
	if (ctx->scan.pacc)
		(void) gpu_pci_name(ctx->scan.pacc, f->vendor, f->device, name, sizeof(name));
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

static void report_checks(struct diag_context *ctx, const struct card_checks *c)
{
	for (size_t k = 0; k < c->n; k++)
		report_check(ctx->report, c->items[k].id, &c->items[k].result);
}

int diag_card(struct diag_context *ctx, size_t i, bool passed_whole)
{
	struct card_checks c;
	int err = gpu_card_probe(&ctx->scan, i);
	if (err < 0)
		return err;
	err = gpu_card_judge(&ctx->scan, i, passed_whole, &c);
	if (err < 0)
		return err;
	const struct gpu_function *f = &ctx->scan.inv.fns[i];
	function_section(ctx, f, !pci_class_is_display(f->class_code) ? "device" : f->is_vf ? "GPU (SR-IOV VF)" : "GPU");
	report_checks(ctx, &c);
	return 0;
}

void diag_card_functions(struct diag_context *ctx, size_t i)
{
	const struct pci_inventory *inv = &ctx->scan.inv;
	struct card_checks c;
	for (size_t j = 0; j < inv->n; j++)
		if (card_function(&inv->fns[i], &inv->fns[j]) && !pci_class_is_display(inv->fns[j].class_code)) {
			function_section(ctx, &inv->fns[j], "function of the card");
			gpu_function_judge(&ctx->scan, j, &c);
			report_checks(ctx, &c);
		}
}

/* Verdicts on GPU passthrough facts (see shared GPU-DIAG.md for the rules). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "checkresult.h"
#include "gpucheck.h"
#include "macro.h"

void field_printf(char *dst, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(dst, size, fmt, ap);
	va_end(ap);
}

void check_result_init(struct check_result *r, enum verdict v, const char *what)
{
	memset(r, 0, sizeof(*r));
	r->verdict = v;
	SET(r->what, "%s", what);
}

void field_append(char *dst, size_t size, const char *fmt, ...)
{
	size_t len = strnlen(dst, size);
	if (len + 1 >= size)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(dst + len, size - len, fmt, ap);
	va_end(ap);
}

const char *verdict_name(enum verdict v)
{
	static const char *const names[] = {
		[VERDICT_PASS] = "PASS", [VERDICT_INFO] = "INFO", [VERDICT_UNKNOWN] = "UNKNOWN",
		[VERDICT_WARN] = "WARN", [VERDICT_FAIL] = "FAIL",
	};
	return (unsigned) v < ELEMENTSOF(names) ? names[v] : "?";
}

bool pci_class_is_display(uint32_t class_code)
{
	return (class_code >> 16) == 0x03;
}

bool pci_class_is_bridge(uint32_t class_code)
{
	return (class_code >> 16) == 0x06;
}

static const struct amd_family {
	const char *name;
	uint16_t ids[16];
} amd_families[] = {
	{ "Polaris 10", { 0x67c0, 0x67c1, 0x67c2, 0x67c4, 0x67c7, 0x67c8, 0x67c9, 0x67ca, 0x67cc, 0x67cf, 0x67d0, 0x67df, 0x6fdf } },
	{ "Polaris 11", { 0x67e0, 0x67e1, 0x67e3, 0x67e7, 0x67e8, 0x67e9, 0x67eb, 0x67ef, 0x67ff } },
	{ "Polaris 12", { 0x6980, 0x6981, 0x6985, 0x6986, 0x6987, 0x6995, 0x6997, 0x699f } },
	{ "Vega 10", { 0x6860, 0x6861, 0x6862, 0x6863, 0x6864, 0x6867, 0x6868, 0x6869, 0x686a, 0x686b, 0x686c, 0x686d, 0x686e, 0x686f, 0x687f } },
	{ "Vega 20", { 0x66a0, 0x66a1, 0x66a2, 0x66a3, 0x66a4, 0x66a7, 0x66af } },
	{ "Navi 10", { 0x7310, 0x7312, 0x7318, 0x7319, 0x731a, 0x731b, 0x731e, 0x731f } },
	{ "Navi 12", { 0x7360, 0x7362 } },
	{ "Navi 14", { 0x7340, 0x7341, 0x7347, 0x734f } },
};

const char *amd_reset_bug_family(uint16_t vendor, uint16_t device)
{
	if (vendor != 0x1002)
		return NULL;
	for (size_t i = 0; i < ELEMENTSOF(amd_families); i++)
		for (size_t j = 0; j < ELEMENTSOF(amd_families[i].ids) && amd_families[i].ids[j]; j++)
			if (amd_families[i].ids[j] == device)
				return amd_families[i].name;
	return NULL;
}

bool pci_bus_reset_quirked(uint16_t vendor, uint16_t device)
{
	/* drivers/pci/quirks.c quirk_no_bus_reset: NVIDIA 0x2340-0x234f, T4; also Atheros and Cavium, not GPUs. */
	if (vendor == 0x10de)
		return (device & 0xfff0) == 0x2340 || device == 0x1eb8;
	return false;
}

static bool word_at(const char *p, const char *word, size_t n)
{
	return strncmp(p, word, n) == 0 && (p[n] == '\0' || p[n] == ' ' || p[n] == '\n');
}

bool reset_method_has(const char *reset_method, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = reset_method; p && *p; ) {
		while (*p == ' ')
			p++;
		if (word_at(p, word, n))
			return true;
		p = strchr(p, ' ');
	}
	return false;
}

bool reset_method_starts_with(const char *reset_method, const char *word)
{
	if (!reset_method)
		return false;
	while (*reset_method == ' ')
		reset_method++;
	return word_at(reset_method, word, strlen(word));
}

static bool is_vfio(const char *driver)
{
	return streq(driver, "vfio-pci");
}

void check_alive(const struct gpu_function *f, struct check_result *r)
{
	check_result_init(r, VERDICT_PASS, "if it answers on the bus");
	if (!f->cfg.readable) {
		r->verdict = VERDICT_UNKNOWN;
		SET(r->status, "config space not readable");
		SET(r->evidence, "config=unreadable");
		return;
	}
	SET(r->evidence, "vendor=0x%04x device=0x%04x", f->cfg.vendor, f->cfg.device);
	/* A VF's own vendor ID reads 0xffff by design (SR-IOV); only all-ff means gone. */
	if (f->cfg.all_ff || (f->cfg.vendor == 0xffff && !f->is_vf)) {
		r->verdict = VERDICT_FAIL;
		SET(r->status, "fell off the bus (config space reads all ff)");
		SET(r->hint, "the card no longer answers, usually after a failed reset: reboot the host (a cold boot for "
		    "some cards); if it happens again after a VM stops, the card has no working reset (see the reset check)");
	}
}

bool vfio_ids_contain(const char *ids, uint16_t vendor, uint16_t device)
{
	char want[10];
	snprintf(want, sizeof(want), "%04x:%04x", vendor, device);
	for (const char *p = ids; p && *p; ) {
		size_t n = strcspn(p, ",");
		if (n >= 9 && strncasecmp(p, want, 9) == 0 && (n == 9 || p[9] == ':'))
			return true;
		p += n + (p[n] == ',');
	}
	return false;
}

void check_driver(const struct gpu_function *f, const char *vfio_ids, struct check_result *r)
{
	check_result_init(r, VERDICT_PASS, "the driver");
	SET(r->evidence, "driver=%s driver_override=%s boot_vga=%d mdev_parent=%s vfio_pci_ids=%s",
	    f->driver[0] ? f->driver : "(none)", f->driver_override[0] ? f->driver_override : "(none)",
	    f->boot_vga, f->mdev_parent ? "yes" : "no", vfio_ids && vfio_ids[0] ? vfio_ids : "(none)");
	SET(r->status, "%s", f->driver[0] ? f->driver : "no driver");
	if (f->mdev_parent) {
		r->verdict = VERDICT_PASS;
		SET(r->status, "%s (vGPU parent: guests get mediated devices)", f->driver);
		return;
	}
	if (f->sriov_numvfs > 0 && !f->is_vf) {
		SET(r->status, "%s (SR-IOV parent: guests get its %d VFs)", f->driver[0] ? f->driver : "no driver", f->sriov_numvfs);
		return;
	}
	if (is_vfio(f->driver)) {
		r->verdict = VERDICT_PASS;
	} else if (!f->driver[0]) {
		r->verdict = VERDICT_INFO;
		SET(r->status, "no driver (Proxmox binds vfio-pci at VM start)");
	} else if (f->boot_vga == 1) {
		r->verdict = VERDICT_FAIL;
		SET(r->status, "%s, shows the host console (boot_vga=1)", f->driver);
		SET(r->hint, "the host boots on this card: pick another primary display (iGPU or another slot) in the BIOS, "
		    "or keep the host off it with video=efifb:off and a blacklist of %s in /etc/modprobe.d/", f->driver);
	} else {
		r->verdict = VERDICT_WARN;
		if (vfio_ids_contain(vfio_ids, f->vendor, f->device))
			SET(r->hint, "vfio-pci ids= lists %04x:%04x but %s bound first: add 'softdep %s pre: vfio-pci' to "
			    "/etc/modprobe.d/vfio.conf, then update-initramfs -u -k all and reboot", f->vendor, f->device, f->driver, f->driver);
		else
		SET(r->hint, "bound to host driver %s: bind it to vfio-pci at boot, e.g. "
		    "'options vfio-pci ids=%04x:%04x' and 'softdep %s pre: vfio-pci' in /etc/modprobe.d/vfio.conf, then update-initramfs -u -k all",
		    f->driver, f->vendor, f->device, f->driver);
	}
	if (f->driver_override[0] && !streq(f->driver_override, "vfio-pci") && !streq(f->driver_override, "(null)")) {
		if (r->verdict < VERDICT_WARN)
			r->verdict = VERDICT_WARN;
		APPEND(r->hint, "%sdriver_override is '%s': write vfio-pci (or nothing) to its driver_override",
		       r->hint[0] ? "; " : "", f->driver_override);
	}
}

static bool per_function_reset_from_config(const struct gpu_function *f, char *names, size_t size)
{
	const struct config_facts *c = &f->cfg;
	bool amd_vga = c->vendor == 0x1002 && pci_class_is_display(f->class_code);
	names[0] = '\0';
	if (c->flr)
		field_append(names, size, "%sflr", names[0] ? " " : "");
	if (c->has_af && c->af_tp && c->af_flr)
		field_append(names, size, "%saf_flr", names[0] ? " " : "");
	if (c->has_pm && !c->pm_no_soft_reset && !amd_vga)
		field_append(names, size, "%spm", names[0] ? " " : "");
	return names[0] != '\0';
}

static bool per_function_reset_listed(const char *reset_method)
{
	static const char *const words[] = { "device_specific", "acpi", "flr", "af_flr", "pm" };
	for (size_t i = 0; i < ELEMENTSOF(words); i++)
		if (reset_method_has(reset_method, words[i]))
			return true;
	return false;
}

void check_reset(const struct gpu_function *f, const struct reset_topology *t, struct check_result *r)
{
	char from_config[64] = "";
	bool quirked = pci_bus_reset_quirked(f->vendor, f->device);
	bool bus_possible = !f->on_root_bus && !f->bus_has_other_devices && !quirked;
	bool bus_single = bus_possible && t->n_slot_functions <= 1;
	bool hot_reset = bus_possible && t->all_slot_vfio;

	check_result_init(r, VERDICT_PASS, "the reset method");
	SET(r->evidence, "reset=%s reset_method=%s slot_functions=%zu all_vfio=%s root_bus=%s shared_bus=%s bus_reset_quirk=%s",
	    f->has_reset ? "yes" : "no", f->has_reset_method ? f->reset_method : "(absent)",
	    t->n_slot_functions, t->all_slot_vfio ? "yes" : "no", f->on_root_bus ? "yes" : "no",
	    f->bus_has_other_devices ? "yes" : "no", quirked ? "yes" : "no");

	if (f->cfg.readable && f->cfg.all_ff) {
		r->verdict = VERDICT_FAIL;
		SET(r->status, "card does not answer");
		SET(r->hint, "reboot the host; the card fell off the bus");
		return;
	}
	if (f->cfg.caps_readable)
		APPEND(r->evidence, " flr=%s af_flr=%s pm_no_soft_reset=%s", f->cfg.flr ? "yes" : "no",
		       f->cfg.has_af && f->cfg.af_tp && f->cfg.af_flr ? "yes" : "no",
		       !f->cfg.has_pm ? "(no pm)" : f->cfg.pm_no_soft_reset ? "yes" : "no");
	if (f->has_reset_method && per_function_reset_listed(f->reset_method)) {
		SET(r->status, "%s", f->reset_method);
		return;
	}
	if (!f->cfg.caps_readable) {
		if (hot_reset) {
			SET(r->status, "bus reset of the whole card (every function on vfio-pci)");
			return;
		}
		r->verdict = VERDICT_UNKNOWN;
		SET(r->status, "config capabilities unreadable (needs root)");
		SET(r->hint, "run as root to read FLR and power management from config space");
		return;
	}
	bool has_cfg = per_function_reset_from_config(f, from_config, sizeof(from_config));
	APPEND(r->evidence, " config_methods=%s", has_cfg ? from_config : "(none)");
	if (has_cfg && f->has_reset_method && f->reset_method[0] == '\0') {
		r->verdict = VERDICT_WARN;
		SET(r->status, "reset_method emptied");
		SET(r->hint, "the card supports %s but reset_method is empty (written by an admin or a udev rule): "
		    "write 'default' to its reset_method and remove the rule", from_config);
		return;
	}
	if (has_cfg && !f->has_reset_method) {
		SET(r->status, "%s (from config space)", from_config);
		return;
	}
	if (hot_reset) {
		SET(r->status, "bus reset of the whole card (every function on vfio-pci)");
		return;
	}
	if (bus_single && (f->has_reset || reset_method_has(f->reset_method, "bus"))) {
		SET(r->status, "bus");
		return;
	}
	if (!f->has_reset_method && f->has_reset) {
		r->verdict = VERDICT_WARN;
		SET(r->status, "a reset exists, but the kernel does not say which");
		SET(r->hint, "kernels before 5.15 have no reset_method: if it is a bus reset it needs every function of the card "
		    "on vfio-pci; upgrade the kernel to see the method");
		return;
	}
	if (reset_method_has(f->reset_method, "bus")) {
		r->verdict = VERDICT_WARN;
		SET(r->status, "stale 'bus' in reset_method");
		SET(r->hint, "reset_method lists bus, but a bus reset of one function is refused while the card has %zu functions%s: "
		    "bind every function of the card to vfio-pci (e.g. 'options vfio-pci ids=...' with the audio function's id too) so vfio can reset the whole card",
		    t->n_slot_functions, f->bus_has_other_devices ? " and other devices share its bus" : "");
		return;
	}
	r->verdict = VERDICT_FAIL;
	SET(r->status, "no working reset");
	SET(r->hint, "the kernel has no reset for this card (writing 1 to reset fails with 'Inappropriate ioctl for device'); "
	    "%s%sbind every function to vfio-pci; a stopped VM's backup leaves the card unreset or dead",
	    f->on_root_bus ? "move the card to a slot behind a PCIe root port or bridge; " : "",
	    quirked ? "this model has bus reset disabled by a kernel quirk; " : "");
}

bool check_amd_reset_bug(const struct gpu_function *f, bool vendor_reset_loaded, struct check_result *r)
{
	const char *family = amd_reset_bug_family(f->vendor, f->device);
	if (!family)
		return false;
	check_result_init(r, VERDICT_PASS, "for the AMD reset bug");
	SET(r->evidence, "family=%s vendor_reset=%s reset_method=%s", family,
	    vendor_reset_loaded ? "loaded" : "not loaded", f->has_reset_method ? f->reset_method : "(absent)");
	SET(r->status, "%s, vendor-reset active", family);
	if (!vendor_reset_loaded) {
		r->verdict = VERDICT_FAIL;
		SET(r->status, "%s without vendor-reset", family);
		SET(r->hint, "%s cards do not come back from a VM stop without vendor-reset: install it (DKMS, github.com/gnif/vendor-reset), "
		    "add vendor-reset to /etc/modules, update-initramfs -u -k all, and reboot", family);
	} else if (f->has_reset_method && !reset_method_starts_with(f->reset_method, "device_specific")) {
		r->verdict = VERDICT_FAIL;
		SET(r->status, "%s, vendor-reset loaded but not used", family);
		SET(r->hint, "reset_method does not start with device_specific: add the udev rule "
		    "ACTION==\"add\", SUBSYSTEM==\"pci\", ATTR{vendor}==\"0x1002\", ATTR{device}==\"0x%04x\", "
		    "RUN+=\"/bin/sh -c 'echo device_specific > /sys$env{DEVPATH}/reset_method'\" "
		    "to /etc/udev/rules.d/99-vendor-reset.rules and reboot", f->device);
	}
	return true;
}

void check_power(const struct gpu_function *f, struct check_result *r)
{
	const char *ps = f->power_state;
	bool flr_known = f->cfg.caps_readable;
	bool no_flr = flr_known && !f->cfg.flr;

	check_result_init(r, VERDICT_PASS, "the power state");
	SET(r->evidence, "power_state=%s runtime_status=%s d3cold_allowed=%d",
	    ps[0] ? ps : "(absent)", f->runtime_status[0] ? f->runtime_status : "(absent)", f->d3cold_allowed);
	SET(r->status, "%s", ps);
	if (streq(ps, "unknown") || streq(ps, "error") || streq(f->runtime_status, "error")) {
		r->verdict = VERDICT_FAIL;
		SET(r->status, "power state %s%s", ps[0] ? ps : "?", streq(f->runtime_status, "error") ? ", runtime PM error" : "");
		SET(r->hint, "the kernel lost track of the card's power state: reboot the host; if it recurs, disable runtime PM "
		    "for it (echo on > power/control) with a udev rule");
		return;
	}
	if (streq(ps, "D3cold")) {
		r->verdict = no_flr ? VERDICT_FAIL : VERDICT_WARN;
		SET(r->hint, "the card is powered off (D3cold) and may not wake for the VM%s: keep it out of D3cold with the udev rule "
		    "ACTION==\"add\", SUBSYSTEM==\"pci\", ATTR{vendor}==\"0x%04x\", ATTR{device}==\"0x%04x\", ATTR{d3cold_allowed}=\"0\"",
		    no_flr ? " and has no FLR to recover it" : "", f->vendor, f->device);
		return;
	}
	if (!ps[0]) {
		r->verdict = VERDICT_UNKNOWN;
		SET(r->status, "no power_state attribute");
	} else if (streq(ps, "D3hot") && !is_vfio(f->driver)) {
		r->verdict = VERDICT_INFO;
		SET(r->status, "D3hot (runtime suspended by %s)", f->driver[0] ? f->driver : "no driver");
	} else if (streq(ps, "D3hot")) {
		SET(r->status, "D3hot (idle on vfio-pci)");
	}
	if (f->d3cold_allowed == 1 && no_flr && pci_class_is_display(f->class_code)) {
		r->verdict = VERDICT_WARN;
		SET(r->hint, "d3cold_allowed=1 on a GPU without FLR: it can drop to D3cold and not come back; add the udev rule "
		    "ACTION==\"add\", SUBSYSTEM==\"pci\", ATTR{vendor}==\"0x%04x\", ATTR{device}==\"0x%04x\", ATTR{d3cold_allowed}=\"0\"",
		    f->vendor, f->device);
	}
}

void check_siblings(const struct gpu_function *f, const struct gpu_function *siblings, size_t n, struct check_result *r)
{
	char addr[PCI_ADDR_STRLEN];
	check_result_init(r, VERDICT_PASS, "the other functions of the card");
	SET(r->status, "%s", n ? "all on vfio-pci or unbound" : "none");
	APPEND(r->evidence, "functions=%zu", n);
	for (size_t i = 0; i < n; i++) {
		const struct gpu_function *s = &siblings[i];
		APPEND(r->evidence, " %s=%s", pci_addr_format(&s->addr, addr), s->driver[0] ? s->driver : "(none)");
		if (s->driver[0] && !is_vfio(s->driver)) {
			if (r->verdict != VERDICT_FAIL) {
				SET(r->status, "on host drivers:");
				SET(r->hint, "a function left on a host driver keeps the card from being reset between VM runs: "
				    "add their ids to 'options vfio-pci ids=...' in /etc/modprobe.d/vfio.conf (with 'softdep <driver> pre: vfio-pci'), "
				    "update-initramfs -u -k all, reboot; and pass them to the same VM (hostpci with all functions)");
			}
			r->verdict = VERDICT_FAIL;
			APPEND(r->status, " %s (%s)", pci_addr_format(&s->addr, addr), s->driver);
		}
	}
	(void) f;
}

void check_iommu_group(const struct gpu_function *f, const struct group_member *others, size_t n, struct check_result *r)
{
	char addr[PCI_ADDR_STRLEN];
	check_result_init(r, VERDICT_PASS, "the IOMMU group");
	if (!f->iommu_group[0]) {
		r->verdict = VERDICT_FAIL;
		SET(r->status, "no IOMMU group");
		SET(r->evidence, "iommu_group=(none)");
		SET(r->hint, "the IOMMU is off for this device: see the IOMMU host check");
		return;
	}
	SET(r->evidence, "iommu_group=%s", f->iommu_group);
	SET(r->status, "group %s, only the card", f->iommu_group);
	size_t bad = 0;
	for (size_t i = 0; i < n; i++) {
		const struct group_member *m = &others[i];
		APPEND(r->evidence, " %s=0x%06x/%s", pci_addr_format(&m->addr, addr), m->class_code, m->driver[0] ? m->driver : "(none)");
		if (pci_class_is_bridge(m->class_code) || pci_addr_same_slot(&m->addr, &f->addr))
			continue;
		if (!bad++)
			SET(r->status, "group %s shared with", f->iommu_group);
		APPEND(r->status, " %s", addr);
	}
	if (bad) {
		r->verdict = VERDICT_FAIL;
		SET(r->hint, "every device of the group is taken from the host when the VM starts: move the card to a slot "
		    "with its own group (see /sys/kernel/iommu_groups), or check for a BIOS ACS setting");
	}
}

/* "8.0 GT/s PCIe" -> 8.0; 0 when unknown. */
static double link_speed(const char *s)
{
	char *end;
	if (!s || !*s)
		return 0;
	double v = strtod(s, &end);
	return end == s ? 0 : v;
}

bool check_link(const struct gpu_function *f, struct check_result *r)
{
	double cur = link_speed(f->cur_link_speed), max = link_speed(f->max_link_speed);
	if ((cur <= 0 || max <= 0) && (f->cur_link_width <= 0 || f->max_link_width <= 0))
		return false;
	check_result_init(r, VERDICT_PASS, "the PCIe link");
	SET(r->evidence, "current_link_speed=%s max_link_speed=%s current_link_width=%d max_link_width=%d",
	    f->cur_link_speed, f->max_link_speed, f->cur_link_width, f->max_link_width);
	SET(r->status, "%s x%d", f->cur_link_speed, f->cur_link_width);
	bool slow = cur > 0 && max > 0 && cur < max;
	bool narrow = f->cur_link_width > 0 && f->max_link_width > 0 && f->cur_link_width < f->max_link_width;
	if (slow || narrow) {
		r->verdict = VERDICT_WARN;
		SET(r->status, "degraded: %s x%d of %s x%d", f->cur_link_speed, f->cur_link_width, f->max_link_speed, f->max_link_width);
		SET(r->hint, "%s%s; GPUs lower the link speed when idle, so check again under load",
		    narrow ? "the link trained narrower than the card supports: reseat the card, check riser cables and the slot's lane sharing in the manual" :
		    "the link runs below its top speed",
		    narrow && slow ? ", and below its top speed" : "");
	}
	return true;
}

bool check_sriov(const struct gpu_function *f, bool passed_whole, struct check_result *r)
{
	char addr[PCI_ADDR_STRLEN];
	if (f->is_vf) {
		check_result_init(r, f->physfn_ok ? VERDICT_PASS : VERDICT_FAIL, "the SR-IOV virtual function");
		SET(r->evidence, "physfn=%s", pci_addr_format(&f->physfn, addr));
		SET(r->status, "VF of %s", addr);
		if (!f->physfn_ok)
			SET(r->hint, "the VF's physical function %s is missing or has no VFs enabled: re-create the VFs (sriov_numvfs) at boot", addr);
		return true;
	}
	if (f->sriov_totalvfs <= 0)
		return false;
	check_result_init(r, VERDICT_PASS, "SR-IOV");
	SET(r->evidence, "sriov_numvfs=%d sriov_totalvfs=%d passed_whole=%s", f->sriov_numvfs, f->sriov_totalvfs, passed_whole ? "yes" : "no");
	SET(r->status, "%d of %d VFs enabled", f->sriov_numvfs > 0 ? f->sriov_numvfs : 0, f->sriov_totalvfs);
	if (f->sriov_numvfs > 0 && passed_whole) {
		r->verdict = VERDICT_FAIL;
		SET(r->hint, "the physical function is passed through whole while %d VFs are enabled: pass a VF instead, "
		    "or write 0 to sriov_numvfs before the VM starts", f->sriov_numvfs);
	}
	return true;
}

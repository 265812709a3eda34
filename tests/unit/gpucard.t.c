/* gpucard: which checks gpu-diag runs for a card and its other functions, over plain facts. */
#include <string.h>

#include "gpucard.h"
#include "macro.h"
#include "tap.h"

static struct gpu_function function(const char *bdf, uint32_t class_code, const char *driver)
{
	struct gpu_function f = { 0 };
	pci_addr_parse(bdf, true, &f.addr);
	f.vendor = 0x10de;
	f.device = class_code >> 16 == 0x03 ? 0x2206 : 0x1aef;
	f.class_code = class_code;
	snprintf(f.driver, sizeof(f.driver), "%s", driver);
	f.d3cold_allowed = f.boot_vga = -1;
	f.cur_link_width = f.max_link_width = f.sriov_numvfs = f.sriov_totalvfs = -1;
	snprintf(f.power_state, sizeof(f.power_state), "D0");
	snprintf(f.runtime_status, sizeof(f.runtime_status), "active");
	f.has_reset = f.has_reset_method = true;
	snprintf(f.reset_method, sizeof(f.reset_method), "flr bus");
	f.cfg.readable = f.cfg.caps_readable = f.cfg.is_pcie = f.cfg.flr = true;
	f.cfg.vendor = f.vendor;
	f.cfg.device = f.device;
	snprintf(f.iommu_group, sizeof(f.iommu_group), "14");
	return f;
}

static struct iommu_member members[3];

static void node_of(struct gpu_scan *s, struct gpu_function *fns, size_t n)
{
	*s = (struct gpu_scan) { .inv = { .fns = fns, .n = n, .cap = n }, .members = members };
	for (size_t i = 0; i < n && i < 3; i++) {
		members[i].addr = fns[i].addr;
		snprintf(members[i].group, sizeof(members[i].group), "%s", fns[i].iommu_group);
	}
	s->n_members = n;
}

static const char *ids(const struct card_checks *c)
{
	static char buf[256];
	buf[0] = '\0';
	for (size_t k = 0; k < c->n; k++)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s", k ? " " : "", c->items[k].id);
	return buf;
}

static int verdict_of(const struct card_checks *c, const char *id)
{
	for (size_t k = 0; k < c->n; k++)
		if (streq(c->items[k].id, id))
			return (int) c->items[k].result.verdict;
	return -1;
}

int main(void)
{
	struct gpu_scan s;
	struct card_checks c;
	struct gpu_function fns[3] = {
		function("0000:01:00.0", 0x030000, "vfio-pci"),
		function("0000:01:00.1", 0x040300, "vfio-pci"),
		function("0000:02:00.0", 0x010802, "nvme"),
	};
	snprintf(fns[2].iommu_group, sizeof(fns[2].iommu_group), "15");

	ok(card_function(&fns[0], &fns[1]), "the audio function belongs to the card");
	ok(!card_function(&fns[0], &fns[0]) && !card_function(&fns[0], &fns[2]), "itself and another slot do not");
	fns[1].is_vf = true;
	ok(!card_function(&fns[0], &fns[1]), "an SR-IOV VF is a device of its own");
	fns[1].is_vf = false;

	node_of(&s, fns, 3);
	is_int(gpu_card_judge(&s, 0, true, &c), 0, "judged");
	is_str(ids(&c), "alive driver power reset siblings iommu_group", "the card checks in gpu-diag's order");
	for (size_t k = 0; k < c.n; k++)
		is_int(c.items[k].result.verdict, VERDICT_PASS, "%s passes on a whole card on vfio-pci with FLR", c.items[k].id);

	gpu_function_judge(&s, 1, &c);
	is_str(ids(&c), "alive driver power", "another function of the card gets the light checks");

	snprintf(fns[1].driver, sizeof(fns[1].driver), "snd_hda_intel");
	gpu_card_judge(&s, 0, true, &c);
	is_int(verdict_of(&c, "siblings"), VERDICT_FAIL, "the audio function on a host driver: siblings FAIL");
	gpu_function_judge(&s, 1, &c);
	is_int(verdict_of(&c, "driver"), VERDICT_WARN, "and its own driver check warns");

	snprintf(fns[1].driver, sizeof(fns[1].driver), "vfio-pci");
	snprintf(fns[2].iommu_group, sizeof(fns[2].iommu_group), "14");
	node_of(&s, fns, 3);
	gpu_card_judge(&s, 0, true, &c);
	is_int(verdict_of(&c, "iommu_group"), VERDICT_FAIL, "an NVMe disk in the card's IOMMU group: FAIL");

	struct check_result reset;
	fns[0].cfg.flr = false;
	snprintf(fns[0].reset_method, sizeof(fns[0].reset_method), "bus");
	gpu_card_reset(&s, 0, &reset);
	is_int(reset.verdict, VERDICT_PASS, "no FLR, but every function on vfio-pci: the hot reset of the card");
	return tap_done();
}

#include <string.h>

#include "conflict.h"
#include "tap.h"

static struct pci_addr A(const char *s)
{
	struct pci_addr a;
	if (pci_addr_parse(s, false, &a) < 0)
		abort();
	return a;
}

static struct pci_addr g14[] = { { 0, 1, 0, 0, true }, { 0, 1, 0, 1, true } };   /* 01:00.0, 01:00.1 */
static struct pci_addr g30[] = { { 0, 4, 0, 1, true } };                          /* VF 04:00.1 */
static struct pci_addr g31[] = { { 0, 4, 0, 2, true } };                          /* VF 04:00.2 */
static struct iommu_group groups[] = {
	{ (char *)"14", g14, 2 },
	{ (char *)"30", g30, 1 },
	{ (char *)"31", g31, 1 },
};
static const struct node node = { .groups = groups, .n_groups = ELEMENTSOF(groups) };

static bool sets(const char *a, const char *b)
{
	struct pci_addr x = A(a), y = A(b);
	struct pci_set sa = { &x, 1 }, sb = { &y, 1 };
	return device_sets_conflict(&node, &sa, &sb);
}

int main(void)
{
	ok(sets("01:00.0", "0000:01:00.0"), "same function");
	ok(sets("01:00", "01:00.1"), "a slot id covers every function");
	ok(sets("01:00.0", "01:00.1"), "two functions of one IOMMU group");
	ok(!sets("04:00.1", "04:00.2"), "two VFs with their own groups");
	ok(!sets("02:00.0", "03:00.0"), "unrelated devices without groups");
	ok(sets("04:00", "04:00.2"), "a slot id covers a VF of that slot");

	struct pci_addr a1 = A("01:00.0"), a2 = A("02:00.0"), a3 = A("03:00.0");
	struct pci_set s1 = { &a1, 1 }, s2 = { &a2, 1 }, s3 = { &a3, 1 };
	struct pci_set alts12[] = { s1, s2 };
	struct device_use map12 = { .alts = alts12, .n_alts = 2, .next_start = true, .live = true };
	struct device_use use1 = { .alts = &s1, .n_alts = 1, .next_start = true, .live = true };
	struct device_use use2 = { .alts = &s2, .n_alts = 1, .next_start = true, .live = true };
	struct device_use use3 = { .alts = &s3, .n_alts = 1, .next_start = true, .live = true };
	struct pci_set alts_both[] = { s1, s1 };
	struct device_use map11 = { .alts = alts_both, .n_alts = 2, .next_start = true, .live = true };
	ok(!device_uses_conflict(&node, &map12, &use1), "a mapping with a free alternative");
	ok(!device_uses_conflict(&node, &use2, &map12), "symmetric");
	ok(device_uses_conflict(&node, &map11, &use1), "every alternative taken");
	ok(!device_uses_conflict(&node, &use1, &use3), "different devices");
	struct device_use none = { .n_alts = 0 };
	ok(!device_uses_conflict(&node, &none, &use1), "an unresolved mapping uses nothing");

	struct device_use mdev1 = use1, mdev2 = use1, ct = use1;
	mdev1.shared = mdev2.shared = true;
	ct.device_node = (char *)"/dev/dri/renderD128";
	ok(!device_uses_conflict(&node, &mdev1, &mdev2), "classic mdev uses share the parent");
	ok(device_uses_conflict(&node, &mdev1, &use1), "mdev against passthrough");
	ok(!device_uses_conflict(&node, &ct, &mdev1), "container and mdev both use the host driver");
	ok(device_uses_conflict(&node, &ct, &use1), "container against passthrough");

	/* guests: 101 and 102 pass through 01:00.0, 200 and 201 are CTs on it, 103 a template */
	struct guest guests[] = {
		{ .type = GUEST_QEMU, .vmid = 101, .uses = &use1, .n_uses = 1 },
		{ .type = GUEST_QEMU, .vmid = 102, .uses = &map11, .n_uses = 1 },
		{ .type = GUEST_QEMU, .vmid = 103, .template = true, .uses = &use1, .n_uses = 1 },
		{ .type = GUEST_QEMU, .vmid = 104, .uses = &use3, .n_uses = 1 },
		{ .type = GUEST_QEMU, .vmid = 105, .uses = &map12, .n_uses = 1 },
		{ .type = GUEST_LXC, .vmid = 200, .uses = &ct, .n_uses = 1 },
		{ .type = GUEST_LXC, .vmid = 201, .uses = &ct, .n_uses = 1 },
	};
	struct node n = node;
	n.guests = guests;
	n.n_guests = ELEMENTSOF(guests);
	ok(!guests_conflict(&n, &guests[5], &guests[6]), "containers on one card");
	ok(guests_conflict(&n, &guests[0], &guests[5]), "VM and container on one card");
	ok(!guests_conflict(&n, &guests[0], &guests[2]), "a template starts without PCI devices");

	struct conflict_group *cg;
	size_t n_cg;
	is_int(node_conflict_groups(&n, &cg, &n_cg), 0, "conflict groups");
	is_int(n_cg, 1, "one group");
	if (n_cg == 1) {
		is_int(cg[0].n, 4, "101, 102, 200, 201");
		ok(cg[0].n == 4 && cg[0].vmids[0] == 101 && cg[0].vmids[1] == 102 && cg[0].vmids[2] == 200 && cg[0].vmids[3] == 201,
		   "in vmid order; 104 and 105 are free");
	}
	conflict_groups_free(cg, n_cg);

	/* 105's alternatives 01:00.0 and 02:00.0: taken by 101 and by a new 106 */
	struct device_use use2b = use2;
	struct guest more[] = {
		{ .type = GUEST_QEMU, .vmid = 101, .uses = &use1, .n_uses = 1 },
		{ .type = GUEST_QEMU, .vmid = 105, .uses = &map12, .n_uses = 1 },
		{ .type = GUEST_QEMU, .vmid = 106, .uses = &use2b, .n_uses = 1 },
	};
	n.guests = more;
	n.n_guests = ELEMENTSOF(more);
	is_int(node_conflict_groups(&n, &cg, &n_cg), 0, "conflict groups with a mapping");
	ok(n_cg == 1 && cg[0].n == 3, "all three cannot run together, though no pair conflicts");
	conflict_groups_free(cg, n_cg);
	return tap_done();
}

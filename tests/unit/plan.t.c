/* The parking decision over hand-built nodes (no sysfs: ids stay as written). */
#include <string.h>

#include "plan.h"
#include "rootfs.h"
#include "tap.h"

static struct pci_addr A(const char *s)
{
	struct pci_addr a;
	if (pci_addr_parse(s, false, &a) < 0)
		abort();
	return a;
}

static struct node node;

static struct guest *vm(unsigned vmid, bool running)
{
	struct guest *g = array_push(&node.guests, &node.n_guests, &node.cap_guests, sizeof(*g));
	g->type = GUEST_QEMU;
	g->vmid = vmid;
	g->running = running;
	g->pid = running ? (pid_t)(1000 + vmid) : 0;
	return g;
}

/* Add a use with one alternative per ';'-free argument list entry (NULL-terminated). */
static struct device_use *use(struct guest *g, const char *source, const char *alt1, const char *alt2)
{
	struct device_use *u = array_push(&g->uses, &g->n_uses, &g->cap_uses, sizeof(*u));
	u->source = strdup(source);
	u->live = u->next_start = true;
	const char *alts[] = { alt1, alt2 };
	u->alts = calloc(2, sizeof(struct pci_set));
	for (size_t i = 0; i < 2 && alts[i]; i++) {
		struct pci_set *set = &u->alts[u->n_alts++];
		char *copy = strdup(alts[i]), *save = NULL;
		for (char *tok = strtok_r(copy, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
			set->addrs = reallocarray(set->addrs, set->n + 1, sizeof(struct pci_addr));
			set->addrs[set->n++] = A(tok);
		}
		free(copy);
	}
	return u;
}

static void group(const char *name, const char *m1, const char *m2)
{
	node.groups = reallocarray(node.groups, node.n_groups + 1, sizeof(struct iommu_group));
	struct iommu_group *g = &node.groups[node.n_groups++];
	g->name = strdup(name);
	g->members = calloc(2, sizeof(struct pci_addr));
	g->n_members = 0;
	g->members[g->n_members++] = A(m1);
	if (m2)
		g->members[g->n_members++] = A(m2);
}

static void reserve(const char *id, unsigned vmid)
{
	node.reservations = reallocarray(node.reservations, node.n_reservations + 1, sizeof(struct reservation));
	node.reservations[node.n_reservations++] = (struct reservation){ .addr = A(id), .vmid = vmid, .pid = (pid_t)(1000 + vmid) };
}

static void reset(void)
{
	node_release(&node);
	node = (struct node){ 0 };
	node.name = strdup("pve1");
}

static struct plan plan_for(unsigned vmid, const unsigned *protect, size_t n_protect)
{
	struct plan p;
	struct plan_policy pol = { .protect = protect, .n_protect = n_protect };
	if (plan_backup_start(&node, vmid, &pol, &p) < 0)
		abort();
	return p;
}

int main(void)
{
	struct plan p;
	/* No sysfs under this root: slot ids are not expanded. */
	root_set_prefix("/nonexistent-root-for-plan-tests");

	reset();
	use(vm(102, false), "hostpci0", "0000:05:00.0", NULL);
	use(vm(104, true), "hostpci0", "0000:05:00.0", NULL);
	reserve("0000:05:00.0", 104);
	p = plan_for(102, NULL, 0);
	is_int(p.kind, PLAN_PARK, "a stopped VM whose GPU a running VM holds: park the holder");
	is_int(p.n_holders, 1, "one holder");
	is_int(p.n_holders ? p.holders[0].vmid : 0, 104, "the holder is VM 104");
	plan_release(&p);

	p = plan_for(104, NULL, 0);
	is_int(p.kind, PLAN_NOTHING, "a running VM needs nothing");
	ok(p.reason && strstr(p.reason, "running"), "and says why: %s", p.reason);
	plan_release(&p);

	unsigned protect[] = { 104 };
	p = plan_for(102, protect, 1);
	is_int(p.kind, PLAN_BLOCKED, "a protected holder blocks the backup");
	ok(p.n_holders == 1 && p.holders[0].blocked && strstr(p.holders[0].blocked, "protect"), "with the reason");
	plan_release(&p);

	node_find_guest(&node, 104)->lock = strdup("snapshot");
	p = plan_for(102, NULL, 0);
	is_int(p.kind, PLAN_BLOCKED, "a locked holder blocks the backup");
	ok(p.n_holders == 1 && p.holders[0].blocked && strstr(p.holders[0].blocked, "locked (snapshot)"), "with the lock named");
	plan_release(&p);

	/* A slot id covers every function; the holder is found through its config when no reservation exists. */
	reset();
	use(vm(102, false), "hostpci0", "0000:05:00", NULL);
	use(vm(105, true), "hostpci1", "0000:05:00.1", NULL);
	p = plan_for(102, NULL, 0);
	is_int(p.kind, PLAN_PARK, "slot id 05:00 conflicts with a running VM on 05:00.1");
	plan_release(&p);

	/* Different functions of one IOMMU group conflict. */
	reset();
	group("14", "0000:05:00.0", "0000:05:00.1");
	use(vm(102, false), "hostpci0", "0000:05:00.0", NULL);
	use(vm(103, true), "hostpci0", "0000:05:00.1", NULL);
	reserve("0000:05:00.1", 103);
	p = plan_for(102, NULL, 0);
	is_int(p.kind, PLAN_PARK, "another function of the same IOMMU group conflicts");
	ok(pci_addr_set_contains(&p.needed, &(struct pci_addr){ .bus = 5, .func = 1, .has_func = true }), "the group member is needed too");
	plan_release(&p);

	/* Two SR-IOV VFs in their own groups do not. */
	reset();
	group("30", "0000:00:02.1", NULL);
	group("31", "0000:00:02.2", NULL);
	use(vm(110, false), "hostpci0", "0000:00:02.1", NULL);
	use(vm(111, true), "hostpci0", "0000:00:02.2", NULL);
	reserve("0000:00:02.2", 111);
	p = plan_for(110, NULL, 0);
	is_int(p.kind, PLAN_NOTHING, "two VFs with their own groups do not conflict");
	plan_release(&p);

	/* A mapping with a free alternative parks nobody; with none free, it parks. */
	reset();
	struct device_use *u = use(vm(120, false), "hostpci0", "0000:05:00.0", "0000:06:00.0");
	u->mapping = strdup("gpus");
	use(vm(121, true), "hostpci0", "0000:05:00.0", NULL);
	reserve("0000:05:00.0", 121);
	p = plan_for(120, NULL, 0);
	is_int(p.kind, PLAN_NOTHING, "a mapping with a free alternative parks nobody");
	plan_release(&p);
	use(vm(122, true), "hostpci0", "0000:06:00.0", NULL);
	reserve("0000:06:00.0", 122);
	p = plan_for(120, NULL, 0);
	is_int(p.kind, PLAN_PARK, "no alternative free: park");
	is_int(p.n_holders, 1, "only the holders of one alternative");
	plan_release(&p);

	/* Classic mdev instances share their parent. */
	reset();
	use(vm(130, false), "hostpci0", "0000:07:00.0", NULL)->shared = true;
	use(vm(131, true), "hostpci0", "0000:07:00.0", NULL)->shared = true;
	p = plan_for(130, NULL, 0);
	is_int(p.kind, PLAN_NOTHING, "two mdev users of one parent do not conflict");
	plan_release(&p);
	use(vm(132, true), "hostpci0", "0000:07:00.0", NULL);
	reserve("0000:07:00.0", 132);
	p = plan_for(130, NULL, 0);
	is_int(p.kind, PLAN_PARK, "an mdev user conflicts with a whole-device user");
	plan_release(&p);

	/* Templates and VMs without devices. */
	reset();
	struct guest *t = vm(140, false);
	t->template = true;
	use(t, "hostpci0", "0000:05:00.0", NULL);
	use(vm(141, true), "hostpci0", "0000:05:00.0", NULL);
	vm(142, false);
	p = plan_for(140, NULL, 0);
	is_int(p.kind, PLAN_NOTHING, "a template's backup needs no device");
	plan_release(&p);
	p = plan_for(142, NULL, 0);
	is_int(p.kind, PLAN_NOTHING, "a VM without PCI devices needs nothing");
	ok(p.reason && strstr(p.reason, "no PCI device"), "and says so");
	plan_release(&p);

	/* A stale pid reservation (VM no longer running) holds nothing. */
	reset();
	use(vm(150, false), "hostpci0", "0000:05:00.0", NULL);
	vm(151, false);
	reserve("0000:05:00.0", 151);
	p = plan_for(150, NULL, 0);
	is_int(p.kind, PLAN_NOTHING, "a leftover reservation of a stopped VM is no holder");
	plan_release(&p);

	struct pci_addr rec[] = { A("0000:05:00") };
	struct pci_addr_set need = { 0 };
	pci_addr_set_add(&need, &(struct pci_addr){ .bus = 5, .func = 1, .has_func = true });
	ok(plan_addrs_overlap(&need, rec, 1), "a recorded slot overlaps a needed function");
	pci_addr_set_release(&need);

	reset();
	node_release(&node);
	return tap_done();
}

/* `status [--json]`: this node's guests and their PCI devices, who holds each
 * device now, IOMMU groups, conflict groups, and the problems found reading. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "conflict.h"
#include "hook.h"
#include "json.h"
#include "macro.h"
#include "node.h"
#include "plan.h"
#include "rebind.h"
#include "rootfs.h"
#include "state.h"

struct status {
	struct node node;
	struct holder *holders;
	size_t n_holders;
	struct conflict_group *conflicts;
	size_t n_conflicts;
	struct parked_set parked;      /* guests the hook parked and has not restored */
	int parked_error;              /* -errno when the records could not be read */
	char *boot_id;
};

static void status_release(struct status *s)
{
	free(s->holders);
	conflict_groups_free(s->conflicts, s->n_conflicts);
	parked_set_release(&s->parked);
	free(s->boot_id);
	node_release(&s->node);
}

static const char *addr_str(const struct pci_addr *a)
{
	static char buf[PCI_ADDR_STRLEN];
	return pci_addr_format(a, buf);
}

/* "0000:01:00.0;0000:01:00.1" */
static void set_str(const struct pci_set *set, char *buf, size_t size)
{
	size_t len = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < set->n && len < size; i++) {
		char id[PCI_ADDR_STRLEN];
		int k = snprintf(buf + len, size - len, "%s%s", i ? ";" : "", pci_addr_format(&set->addrs[i], id));
		if (k < 0)
			break;
		len += (size_t)k;
	}
}

/* Every function of a use's alternatives (slots expanded), sorted, each once. */
static int use_functions(const struct device_use *u, struct pci_addr_set *ret)
{
	for (size_t a = 0; a < u->n_alts; a++)
		for (size_t k = 0; k < u->alts[a].n; k++) {
			_cleanup_free_ struct pci_addr *fns = NULL;
			int n = pci_addr_expand(&u->alts[a].addrs[k], &fns);
			for (int i = 0; i < n; i++)
				if (pci_addr_set_add(ret, &fns[i]) < 0)
					return -ENOMEM;
		}
	return 0;
}

/* The driver bound to a now, or NULL when none (or unreadable). */
static const char *driver_now(const struct pci_addr *a, char buf[static REBIND_DRIVER_MAX])
{
	return rebind_driver_now(a, buf) == 0 && !strempty(buf) ? buf : NULL;
}

/* "drivers": { "<pci_addr>": "<driver now>" | null, ... } for the functions of a use. */
static void json_use_drivers(struct json *j, const struct device_use *u)
{
	struct pci_addr_set fns = { 0 };
	(void)use_functions(u, &fns);
	json_key(j, "drivers");
	json_object_begin(j);
	for (size_t i = 0; i < fns.n; i++) {
		char drv[REBIND_DRIVER_MAX];
		json_key(j, addr_str(&fns.addrs[i]));
		json_string(j, driver_now(&fns.addrs[i], drv));
	}
	json_object_end(j);
	pci_addr_set_release(&fns);
}

static void json_guest(struct json *j, const struct guest *g)
{
	json_object_begin(j);
	json_kv_int(j, "vmid", g->vmid);
	json_kv_string(j, "type", guest_type_name(g->type));
	json_kv_string(j, "name", g->name);
	json_kv_bool(j, "template", g->template);
	json_kv_bool(j, "running", g->running);
	if (g->pid)
		json_kv_int(j, "pid", g->pid);
	json_kv_string(j, "lock", g->lock);
	json_kv_bool(j, "onboot", g->onboot);
	json_kv_bool(j, "ha_managed", g->ha_managed);
	json_key(j, "devices");
	json_array_begin(j);
	_cleanup_free_ struct pci_addr *devs = NULL;
	int n = guest_live_devices(g, &devs);
	for (int i = 0; i < n; i++)
		json_string(j, addr_str(&devs[i]));
	json_array_end(j);
	json_key(j, "device_nodes");
	json_array_begin(j);
	for (size_t i = 0; i < g->n_device_nodes; i++)
		json_string(j, g->device_nodes[i]);
	json_array_end(j);
	json_key(j, "uses");
	json_array_begin(j);
	for (size_t i = 0; i < g->n_uses; i++) {
		const struct device_use *u = &g->uses[i];
		json_object_begin(j);
		json_kv_string(j, "source", u->source);
		json_kv_string(j, "mapping", u->mapping);
		json_kv_string(j, "device_node", u->device_node);
		json_kv_bool(j, "shared", u->shared);
		json_kv_bool(j, "live", u->live);
		json_kv_bool(j, "next_start", u->next_start);
		json_key(j, "alternatives");
		json_array_begin(j);
		for (size_t a = 0; a < u->n_alts; a++) {
			json_array_begin(j);
			for (size_t k = 0; k < u->alts[a].n; k++)
				json_string(j, addr_str(&u->alts[a].addrs[k]));
			json_array_end(j);
		}
		json_array_end(j);
		json_use_drivers(j, u);
		json_object_end(j);
	}
	json_array_end(j);
	json_object_end(j);
}

static int print_json(const struct status *s)
{
	struct json j;
	json_init(&j, true);
	json_object_begin(&j);
	json_kv_string(&j, "node", s->node.name);
	json_key(&j, "guests");
	json_array_begin(&j);
	for (size_t i = 0; i < s->node.n_guests; i++)
		json_guest(&j, &s->node.guests[i]);
	json_array_end(&j);
	json_key(&j, "holders");
	json_array_begin(&j);
	for (size_t i = 0; i < s->n_holders; i++) {
		const struct holder *h = &s->holders[i];
		json_object_begin(&j);
		json_kv_string(&j, "pci_addr", addr_str(&h->addr));
		json_kv_int(&j, "vmid", h->vmid);
		json_kv_string(&j, "type", guest_type_name(h->type));
		json_kv_string(&j, "source", h->source);
		if (h->pid)
			json_kv_int(&j, "pid", h->pid);
		if (h->expiry)
			json_kv_int(&j, "expiry", h->expiry);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_key(&j, "iommu_groups");
	json_array_begin(&j);
	for (size_t i = 0; i < s->node.n_groups; i++) {
		json_object_begin(&j);
		json_kv_string(&j, "group", s->node.groups[i].name);
		json_key(&j, "devices");
		json_array_begin(&j);
		for (size_t k = 0; k < s->node.groups[i].n_members; k++)
			json_string(&j, addr_str(&s->node.groups[i].members[k]));
		json_array_end(&j);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_key(&j, "conflict_groups");
	json_array_begin(&j);
	for (size_t i = 0; i < s->n_conflicts; i++) {
		json_array_begin(&j);
		for (size_t k = 0; k < s->conflicts[i].n; k++)
			json_int(&j, s->conflicts[i].vmids[k]);
		json_array_end(&j);
	}
	json_array_end(&j);
	json_key(&j, "parked");
	json_array_begin(&j);
	for (size_t i = 0; i < s->parked.n; i++) {
		const struct parked_guest *g = &s->parked.guests[i];
		json_object_begin(&j);
		json_kv_int(&j, "vmid", g->vmid);
		json_kv_string(&j, "type", guest_type_name(g->type));
		json_kv_string(&j, "state", park_state_to_string(g->state));
		json_kv_int(&j, "for", g->for_vmid);
		json_key(&j, "devices");
		json_array_begin(&j);
		for (size_t k = 0; k < g->n_devices; k++)
			json_string(&j, addr_str(&g->devices[k]));
		json_array_end(&j);
		json_kv_int(&j, "parked_at", g->parked_at);
		json_kv_string(&j, "job", g->job);
		json_key(&j, "drivers");
		json_object_begin(&j);
		for (size_t k = 0; k < g->n_drivers; k++) {
			json_key(&j, addr_str(&g->drivers[k].addr));
			json_string(&j, g->drivers[k].driver);
		}
		json_object_end(&j);
		json_kv_bool(&j, "this_boot", g->boot_id && s->boot_id && streq(g->boot_id, s->boot_id));
		json_object_end(&j);
	}
	json_array_end(&j);
	json_kv_string(&j, "parked_error", s->parked_error ? strerror(-s->parked_error) : NULL);
	json_key(&j, "problems");
	json_array_begin(&j);
	for (size_t i = 0; i < s->node.problems.n; i++) {
		const struct problem *p = &s->node.problems.items[i];
		json_object_begin(&j);
		json_kv_string(&j, "file", p->file);
		if (p->line)
			json_kv_int(&j, "line", p->line);
		else
			json_kv_string(&j, "line", NULL);
		json_kv_string(&j, "message", p->message);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_object_end(&j);
	const char *text = json_text(&j);
	if (!text) {
		json_release(&j);
		hook_error(-ENOMEM, "cannot build the JSON document");
		return HOOK_EXIT_FAILURE;
	}
	fputs(text, stdout);
	fputc('\n', stdout);
	json_release(&j);
	return HOOK_EXIT_OK;
}

static void print_guest_ref(const struct guest *g, bool pending)
{
	printf("%s %u (%s%s%s%s)", g->type == GUEST_LXC ? "CT" : "VM", g->vmid, g->name ? g->name : "no name",
	       g->running ? ", running" : ", stopped", g->template ? ", template" : "", pending ? ", pending" : "");
}

/* One block per device set a guest uses: its users, holders, IOMMU groups. */
static void print_device(const struct status *s, const struct pci_set *set, const char *key)
{
	printf("%s", key);
	const char *sep = "  iommu group ";
	for (size_t k = 0; k < set->n; k++) {
		const struct iommu_group *g = node_iommu_group_of(&s->node, &set->addrs[k]);
		bool dup = false;
		for (size_t m = 0; g && m < k; m++)
			dup = dup || node_iommu_group_of(&s->node, &set->addrs[m]) == g;
		if (g && !dup) {
			printf("%s%s", sep, g->name);
			sep = ", ";
		}
	}
	printf("\n  driver now: ");
	struct pci_addr_set fns = { 0 };
	for (size_t k = 0; k < set->n; k++) {
		_cleanup_free_ struct pci_addr *expanded = NULL;
		int n = pci_addr_expand(&set->addrs[k], &expanded);
		for (int i = 0; i < n; i++)
			(void)pci_addr_set_add(&fns, &expanded[i]);
	}
	for (size_t i = 0; i < fns.n; i++) {
		char drv[REBIND_DRIVER_MAX];
		const char *d = driver_now(&fns.addrs[i], drv);
		if (fns.n == 1)
			printf("%s", d ? d : "no driver");
		else
			printf("%s%s %s", i ? ", " : "", addr_str(&fns.addrs[i]), d ? d : "no driver");
	}
	pci_addr_set_release(&fns);
	printf("\n  used by: ");
	bool first = true;
	for (size_t i = 0; i < s->node.n_guests; i++) {
		const struct guest *g = &s->node.guests[i];
		bool uses = false, live = false;
		for (size_t u = 0; u < g->n_uses; u++)
			for (size_t a = 0; a < g->uses[u].n_alts; a++) {
				char other[512];
				set_str(&g->uses[u].alts[a], other, sizeof(other));
				if (streq(other, key)) {
					uses = true;
					live = live || g->uses[u].live;
				}
			}
		if (!uses)
			continue;
		if (!first)
			printf(", ");
		print_guest_ref(g, !live);
		first = false;
	}
	printf("\n  held by: ");
	first = true;
	for (size_t h = 0; h < s->n_holders; h++) {
		bool hit = false, shown = false;
		for (size_t k = 0; k < set->n; k++)
			hit = hit || pci_addr_overlaps(&set->addrs[k], &s->holders[h].addr);
		/* a guest holding several functions of the set is named once */
		for (size_t p = 0; p < h && hit && !shown; p++)
			for (size_t k = 0; k < set->n && !shown; k++)
				shown = s->holders[p].vmid == s->holders[h].vmid && pci_addr_overlaps(&set->addrs[k], &s->holders[p].addr);
		if (!hit || shown)
			continue;
		printf("%s%s %u (%s", first ? "" : ", ", s->holders[h].type == GUEST_LXC ? "CT" : "VM", s->holders[h].vmid,
		       s->holders[h].source);
		if (s->holders[h].pid)
			printf(", pid %d", (int)s->holders[h].pid);
		printf(")");
		first = false;
	}
	printf("%s\n", first ? "nobody" : "");
}

/* A container's device node: the card behind it and that card's driver now;
 * for a missing node of a parked container, the card it was parked with. */
static void print_ct_node(const struct status *s, const struct guest *g, const char *path)
{
	char drv[REBIND_DRIVER_MAX];
	size_t found = 0;
	printf("    %s", path);
	for (size_t u = 0; u < g->n_uses; u++) {
		const struct device_use *use = &g->uses[u];
		if (!use->device_node || !streq(use->device_node, path) || use->n_alts != 1 || use->alts[0].n != 1)
			continue;
		const char *d = driver_now(&use->alts[0].addrs[0], drv);
		printf("%s %s (%s)", found ? "," : " ->", addr_str(&use->alts[0].addrs[0]), d ? d : "no driver");
		found++;
	}
	if (found == 0 && root_exists(path))
		printf(" (shared by every GPU)");
	else if (found == 0) {
		printf(": missing");
		const struct parked_guest *p = state_find(&s->parked, g->vmid);
		for (size_t i = 0; p && i < p->n_drivers; i++) {
			const char *d = driver_now(&p->drivers[i].addr, drv);
			printf("%s card %s on %s now, was on %s when parked", i ? "," : ";", addr_str(&p->drivers[i].addr),
			       d ? d : "no driver", p->drivers[i].driver);
		}
	}
	printf("\n");
}

static void print_containers(const struct status *s)
{
	bool any = false;
	for (size_t i = 0; i < s->node.n_guests; i++) {
		const struct guest *g = &s->node.guests[i];
		if (g->type != GUEST_LXC || g->n_device_nodes == 0)
			continue;
		if (!any)
			printf("containers and their GPU device nodes:\n");
		any = true;
		printf("  ");
		print_guest_ref(g, false);
		printf("\n");
		for (size_t k = 0; k < g->n_device_nodes; k++)
			print_ct_node(s, g, g->device_nodes[k]);
	}
}

static int print_text(const struct status *s)
{
	printf("node: %s\n", s->node.name);
	size_t n_keys = 0;
	for (size_t i = 0; i < s->node.n_guests; i++) {
		const struct guest *g = &s->node.guests[i];
		for (size_t u = 0; u < g->n_uses; u++)
			for (size_t a = 0; a < g->uses[u].n_alts; a++) {
				char key[512];
				set_str(&g->uses[u].alts[a], key, sizeof(key));
				/* print each set once, where it first appears */
				bool seen = false;
				for (size_t i2 = 0; i2 <= i && !seen; i2++) {
					const struct guest *g2 = &s->node.guests[i2];
					for (size_t u2 = 0; u2 < g2->n_uses && !seen; u2++)
						for (size_t a2 = 0; a2 < g2->uses[u2].n_alts && !seen; a2++) {
							if (i2 == i && (u2 > u || (u2 == u && a2 >= a)))
								break;
							char other[512];
							set_str(&g2->uses[u2].alts[a2], other, sizeof(other));
							seen = streq(other, key);
						}
				}
				if (seen)
					continue;
				print_device(s, &g->uses[u].alts[a], key);
				n_keys++;
			}
	}
	if (n_keys == 0)
		printf("no guest uses a PCI device\n");
	print_containers(s);
	if (s->n_conflicts > 0) {
		printf("conflict groups (cannot run at the same time):\n");
		for (size_t i = 0; i < s->n_conflicts; i++) {
			printf(" ");
			for (size_t k = 0; k < s->conflicts[i].n; k++)
				printf(" %u", s->conflicts[i].vmids[k]);
			printf("\n");
		}
	}
	if (s->parked_error)
		printf("parked guests: cannot read '%s': %s\n", STATE_FILE, strerror(-s->parked_error));
	else if (s->parked.n > 0) {
		printf("parked guests (shut down by the hook, to be started again):\n");
		for (size_t i = 0; i < s->parked.n; i++) {
			const struct parked_guest *g = &s->parked.guests[i];
			bool this_boot = g->boot_id && s->boot_id && streq(g->boot_id, s->boot_id);
			printf("  %s %u for the backup of VM %u, %s%s\n", g->type == GUEST_QEMU ? "VM" : "CT", g->vmid,
			       g->for_vmid, park_state_to_string(g->state), this_boot ? "" : ", before this boot");
		}
	}
	if (s->node.problems.n > 0) {
		printf("problems:\n");
		for (size_t i = 0; i < s->node.problems.n; i++) {
			const struct problem *p = &s->node.problems.items[i];
			printf("  ");
			if (p->file)
				printf(p->line ? "%s:%u: " : "%s: ", p->file, p->line);
			printf("%s\n", p->message);
		}
	}
	return HOOK_EXIT_OK;
}

static int status_usage(void)
{
	printf("Usage: %s status [--json]\n\n"
	       "Show, for this node, each PCI device that a guest uses, the guests using it,\n"
	       "who holds it now, its IOMMU group, the conflict groups and reading problems.\n\n"
	       "Options:\n"
	       "  -j, --json     print one JSON document\n"
	       "  -h, --help     show this help and exit\n", HOOK_PROG);
	return hook_finish_stdout(HOOK_EXIT_OK);
}

int cmd_status(int argc, char **argv)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	bool json = false;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "jh", options, NULL)) >= 0)
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			return status_usage();
		default:
			return hook_usage_error();
		}
	if (optind < argc) {
		hook_error(0, "status: unexpected argument '%s'", argv[optind]);
		return hook_usage_error();
	}

	_cleanup_(status_release) struct status s = { 0 };
	int r = node_load(&s.node, NODE_LOAD_ALL);
	if (r == -ENOMEM) {
		hook_error(r, "cannot read the node");
		return HOOK_EXIT_FAILURE;
	}
	if (r < 0) {
		hook_error(r, "cannot read '/etc/pve/nodes/%s/qemu-server'", s.node.name ? s.node.name : "?");
		return HOOK_EXIT_USAGE;
	}
	if ((r = node_holders(&s.node, &s.holders, &s.n_holders)) < 0 ||
	    (r = node_conflict_groups(&s.node, &s.conflicts, &s.n_conflicts)) < 0) {
		hook_error(r, "cannot work out holders and conflicts");
		return HOOK_EXIT_FAILURE;
	}
	struct problem_list sp = { 0 };
	s.parked_error = state_load(&s.parked, &sp);
	problem_list_release(&sp);
	(void)state_read_boot_id(&s.boot_id);
	return hook_finish_stdout(json ? print_json(&s) : print_text(&s));
}

/* `plan <vmid>`: what backup-start would do for that guest, changing nothing. */
#include <getopt.h>
#include <string.h>

#include "hook.h"
#include "hookconf.h"
#include "json.h"
#include "plan.h"
#include "state.h"

static int usage(void)
{
	printf("Usage: %s plan [--json] VMID\n\n"
	       "Show what the hook would do at backup-start of guest VMID: which guests it\n"
	       "would park and why, which parked guests it would restore. Changes nothing.\n\n"
	       "Options:\n"
	       "  -j, --json  print the plan as JSON\n"
	       "  -h, --help  show this help and exit\n", HOOK_PROG);
	return hook_finish_stdout(HOOK_EXIT_OK);
}

static const char *kind_word(enum plan_kind k)
{
	return k == PLAN_PARK ? "park" : k == PLAN_BLOCKED ? "blocked" : "nothing";
}

int cmd_plan(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool json = false;
	int c;
	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) >= 0) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			return usage();
		default:
			return hook_usage_error();
		}
	}
	unsigned vmid;
	if (optind + 1 != argc || vmid_parse(argv[optind], &vmid) < 0) {
		hook_error(0, optind + 1 != argc ? "plan takes one VMID" : "invalid VMID '%s'", argv[optind]);
		return hook_usage_error();
	}

	struct hook_config conf;
	struct problem_list problems = { 0 };
	hook_config_init(&conf);
	if (hook_config_load("/proc/self/exe", &conf, &problems) < 0) {
		for (size_t i = 0; i < problems.n; i++)
			hook_error(0, "%s:%u: %s", problems.items[i].file ? problems.items[i].file : HOOKCONF_PATH,
				   problems.items[i].line, problems.items[i].message);
		problem_list_release(&problems);
		hook_config_release(&conf);
		return HOOK_EXIT_FAILURE;
	}
	problem_list_release(&problems);

	struct node node = { 0 };
	int e = node_load(&node, NODE_LOAD_ALL);
	if (e < 0) {
		hook_error(e, "cannot read the node");
		hook_config_release(&conf);
		return HOOK_EXIT_USAGE;
	}
	struct plan p;
	struct plan_policy policy = { .protect = conf.protect, .n_protect = conf.n_protect };
	e = plan_backup_start(&node, vmid, &policy, &p);
	if (e < 0) {
		hook_error(e == -ENOENT ? 0 : e, e == -ENOENT ? "no guest %u on node %s" : "cannot plan for guest %u%s", vmid,
			   e == -ENOENT ? (node.name ? node.name : "?") : "");
		node_release(&node);
		hook_config_release(&conf);
		return HOOK_EXIT_FAILURE;
	}

	/* What is parked now, and which of it this backup would restore. */
	struct parked_set parked = { 0 };
	struct problem_list sp = { 0 };
	int se = state_load(&parked, &sp);
	problem_list_release(&sp);

	char a[PCI_ADDR_STRLEN];
	if (json) {
		struct json j;
		json_init(&j, true);
		json_object_begin(&j);
		json_kv_int(&j, "vmid", vmid);
		json_kv_string(&j, "action", kind_word(p.kind));
		json_kv_string(&j, "reason", p.reason);
		json_key(&j, "needed");
		json_array_begin(&j);
		for (size_t i = 0; i < p.needed.n; i++)
			json_string(&j, pci_addr_format(&p.needed.addrs[i], a));
		json_array_end(&j);
		json_key(&j, "holders");
		json_array_begin(&j);
		for (size_t i = 0; i < p.n_holders; i++) {
			json_object_begin(&j);
			json_kv_int(&j, "vmid", p.holders[i].vmid);
			json_kv_string(&j, "type", p.holders[i].type == GUEST_QEMU ? "qemu" : "lxc");
			json_kv_string(&j, "name", p.holders[i].name);
			json_kv_string(&j, "device", pci_addr_format(&p.holders[i].addr, a));
			json_kv_bool(&j, "ha", p.holders[i].ha_managed);
			json_kv_string(&j, "blocked", p.holders[i].blocked);
			json_object_end(&j);
		}
		json_array_end(&j);
		json_key(&j, "restore");
		json_array_begin(&j);
		for (size_t i = 0; se == 0 && i < parked.n; i++)
			if (parked.guests[i].vmid != vmid && conf.restore == HOOK_RESTORE_EARLY &&
			    !plan_addrs_overlap(&p.needed, parked.guests[i].devices, parked.guests[i].n_devices))
				json_int(&j, parked.guests[i].vmid);
		json_array_end(&j);
		json_key(&j, "notes");
		json_array_begin(&j);
		for (size_t i = 0; i < p.n_notes; i++)
			json_string(&j, p.notes[i]);
		json_array_end(&j);
		json_object_end(&j);
		const char *t = json_text(&j);
		if (t)
			printf("%s\n", t);
		json_release(&j);
	} else {
		if (p.kind == PLAN_NOTHING)
			printf("backup-start of %u: nothing to do: %s\n", vmid, p.reason ? p.reason : "");
		else {
			printf("backup-start of VM %u needs", vmid);
			for (size_t i = 0; i < p.needed.n; i++)
				printf(" %s", pci_addr_format(&p.needed.addrs[i], a));
			printf("\n");
		}
		for (size_t i = 0; i < p.n_holders; i++) {
			const struct plan_holder *h = &p.holders[i];
			if (h->blocked)
				printf("  cannot park %s %u (holds %s): %s\n", h->type == GUEST_QEMU ? "VM" : "CT", h->vmid,
				       pci_addr_format(&h->addr, a), h->blocked);
			else
				printf("  would park %s %u%s%s%s (holds %s)%s: shutdown, timeout %u s%s\n",
				       h->type == GUEST_QEMU ? "VM" : "CT", h->vmid, h->name ? " (" : "", h->name ? h->name : "",
				       h->name ? ")" : "", pci_addr_format(&h->addr, a), h->ha_managed ? " through HA" : "",
				       conf.shutdown_timeout,
				       conf.force_stop ? ", then power off"
				       : h->ha_managed && h->type == GUEST_QEMU ? ", then power off (HA does)" : "");
		}
		for (size_t i = 0; se == 0 && i < parked.n; i++) {
			const struct parked_guest *g = &parked.guests[i];
			bool keep = g->vmid == vmid || conf.restore == HOOK_RESTORE_JOB_END ||
				    plan_addrs_overlap(&p.needed, g->devices, g->n_devices);
			printf("  %s %s %u (parked for VM %u)\n", keep ? "would keep parked" : "would restore",
			       g->type == GUEST_QEMU ? "VM" : "CT", g->vmid, g->for_vmid);
		}
		if (se < 0)
			printf("  cannot read the parked guests: %s\n", strerror(-se));
		for (size_t i = 0; i < p.n_notes; i++)
			printf("  note: %s\n", p.notes[i]);
		if (p.kind == PLAN_BLOCKED)
			printf("the backup of VM %u would fail\n", vmid);
	}
	int ret = p.kind == PLAN_BLOCKED ? HOOK_EXIT_FAILURE : HOOK_EXIT_OK;
	parked_set_release(&parked);
	plan_release(&p);
	node_release(&node);
	hook_config_release(&conf);
	return hook_finish_stdout(ret);
}

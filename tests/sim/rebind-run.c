/* Drives src/rebind.c for tests/bats/rebind-module.bats (run under fakesys.so).
 *   rebind-run [-H PCI=VMID]... [-N] [-l MS] [-t PCI=DRIVER]... [-T MS] group PCI [DRIVER]
 *     -N: holders from the node (rebind_holders_from_node); -l: take qemu-server's PCI lock
 *   rebind-run [-H PCI=VMID]... [-T MS] function PCI [DRIVER]
 *   rebind-run wait MS NODE...
 *   rebind-run query PCI
 * Prints one line per device ("<bdf> <state> <before> -> <after>"), then each
 * describe line on stderr for failed/held devices; exits 1 on an error. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "node.h"
#include "rebind.h"

#define MAX_ARGS 16

static int parse_pair(char *s, struct pci_addr *a, char **ret_rest)
{
	char *eq = strchr(s, '=');
	if (!eq)
		return -EINVAL;
	*eq = '\0';
	*ret_rest = eq + 1;
	return pci_addr_parse(s, false, a);
}

static void show(const struct rebind_device *d)
{
	char bdf[PCI_ADDR_STRLEN], *line = NULL;
	printf("%s %s %s -> %s\n", pci_addr_format(&d->addr, bdf), rebind_state_name(d->state),
	       strempty(d->driver_before) ? "-" : d->driver_before, strempty(d->driver_after) ? "-" : d->driver_after);
	if ((d->state == REBIND_FAILED || d->state == REBIND_HELD) && rebind_device_describe(d, &line) == 0)
		fprintf(stderr, "%s\n", line);
	free(line);
}

int main(int argc, char **argv)
{
	struct rebind_holder holders[MAX_ARGS];
	struct rebind_target targets[MAX_ARGS];
	struct rebind_options opts = { .holders = holders };
	struct pci_addr a;
	char *rest;
	int c, r;

	struct rebind_holder *node_holders_list = NULL;
	while ((c = getopt(argc, argv, "+H:t:T:Nl:")) >= 0) {
		switch (c) {
		case 'N': {
			struct node node = { 0 };
			if (node_load(&node, NODE_LOAD_VMS | NODE_LOAD_RUNNING | NODE_LOAD_RESERVATIONS) < 0 ||
			    rebind_holders_from_node(&node, &node_holders_list, &opts.n_holders) < 0)
				return 3;
			node_release(&node);
			opts.holders = node_holders_list;
			break;
		}
		case 'l':
			opts.lock = true;
			opts.lock_timeout_ms = (int)strtol(optarg, NULL, 10);
			break;
		case 'H':
			if (opts.n_holders == MAX_ARGS || parse_pair(optarg, &holders[opts.n_holders].addr, &rest) < 0)
				return 2;
			holders[opts.n_holders++].vmid = (unsigned)strtoul(rest, NULL, 10);
			break;
		case 't':
			if (opts.n_targets == MAX_ARGS || parse_pair(optarg, &targets[opts.n_targets].addr, &rest) < 0)
				return 2;
			targets[opts.n_targets++].driver = rest;
			opts.targets = targets;
			break;
		case 'T':
			opts.timeout_ms = (int)strtol(optarg, NULL, 10);
			break;
		default:
			return 2;
		}
	}
	if (optind + 1 >= argc)
		return 2;
	const char *cmd = argv[optind];

	if (streq(cmd, "wait")) {
		size_t missing = 0;
		r = rebind_wait_nodes((const char *const *)argv + optind + 2, (size_t)(argc - optind - 2),
		                      (int)strtol(argv[optind + 1], NULL, 10), &missing);
		if (r < 0)
			printf("missing %s\n", argv[optind + 2 + missing]);
		return r < 0;
	}
	if (pci_addr_parse(argv[optind + 1], false, &a) < 0)
		return 2;
	const char *driver = optind + 2 < argc ? argv[optind + 2] : NULL;

	if (streq(cmd, "query")) {
		struct rebind_group g;
		r = rebind_query_group(&a, &g);
		if (r < 0) {
			printf("error %s\n", strerror(-r));
			return 1;
		}
		printf("group %s\n", strempty(g.name) ? "-" : g.name);
		for (size_t i = 0; i < g.n_members; i++) {
			char bdf[PCI_ADDR_STRLEN];
			printf("%s %s%s\n", pci_addr_format(&g.members[i].addr, bdf),
			       strempty(g.members[i].driver) ? "-" : g.members[i].driver, g.members[i].bridge ? " bridge" : "");
		}
		rebind_group_release(&g);
		return 0;
	}
	if (streq(cmd, "function")) {
		struct rebind_device d;
		r = rebind_function(&a, driver, &opts, &d);
		show(&d);
		return r < 0;
	}
	if (streq(cmd, "group")) {
		struct rebind_report rep;
		r = rebind_pci_group(&a, driver, &opts, &rep);
		for (size_t i = 0; i < rep.n_devices; i++)
			show(&rep.devices[i]);
		if (r < 0)
			printf("result %s\n", strerror(-r));
		rebind_report_release(&rep);
		free(node_holders_list);
		return r < 0;
	}
	return 2;
}

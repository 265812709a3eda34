/* `rebind <pci-id> [--driver DRIVER]`: hand a card (its IOMMU group) back from
 * vfio-pci to the host driver by hand, e.g. after a VM used it. */
#include <getopt.h>
#include <string.h>

#include "hook.h"
#include "node.h"
#include "rebind.h"

static int usage(void)
{
	printf("Usage: %s rebind [--driver DRIVER] PCI-ID\n\n"
	       "Hand the device PCI-ID (a function, or a slot for all its functions) and the\n"
	       "other members of its IOMMU group back from vfio-pci to their host drivers,\n"
	       "as needed after a VM used a card that containers share. Refuses while a\n"
	       "running VM holds any member of the group.\n\n"
	       "Options:\n"
	       "  -d, --driver DRIVER  bind PCI-ID to DRIVER (default: the kernel's choice)\n"
	       "  -h, --help           show this help and exit\n", HOOK_PROG);
	return hook_finish_stdout(HOOK_EXIT_OK);
}

static bool driver_name_valid(const char *s)
{
	if (strempty(s) || strlen(s) >= REBIND_DRIVER_MAX)
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' ||
		      *p == '-'))
			return false;
	return true;
}

int cmd_rebind(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "driver", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *driver = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "d:h", opts, NULL)) >= 0) {
		switch (c) {
		case 'd':
			driver = optarg;
			break;
		case 'h':
			return usage();
		default:
			return hook_usage_error();
		}
	}
	struct pci_addr addr;
	if (optind + 1 != argc) {
		hook_error(0, "rebind takes one PCI id");
		return hook_usage_error();
	}
	if (pci_addr_parse(argv[optind], false, &addr) < 0) {
		hook_error(0, "invalid PCI id '%s' (expected e.g. 0000:05:00.0 or 05:00)", argv[optind]);
		return hook_usage_error();
	}
	if (driver && (!driver_name_valid(driver) || streq(driver, "vfio-pci"))) {
		hook_error(0, "invalid driver '%s'", driver);
		return hook_usage_error();
	}

	struct node node = { 0 };
	struct rebind_holder *holders = NULL;
	size_t n_holders = 0;
	int e = node_load(&node, NODE_LOAD_VMS | NODE_LOAD_RUNNING | NODE_LOAD_RESERVATIONS | NODE_LOAD_IOMMU);
	if (e >= 0)
		e = rebind_holders_from_node(&node, &holders, &n_holders);
	if (e < 0) {
		hook_error(e, "cannot work out which VMs hold devices");
		node_release(&node);
		return HOOK_EXIT_FAILURE;
	}
	struct rebind_options o = { .holders = holders, .n_holders = n_holders, .lock = true };
	struct rebind_report rep = { 0 };
	e = rebind_pci_group(&addr, driver, &o, &rep);
	for (size_t i = 0; i < rep.n_devices; i++) {
		_cleanup_free_ char *line = NULL;
		if (rebind_device_describe(&rep.devices[i], &line) < 0)
			continue;
		bool bad = rep.devices[i].state == REBIND_FAILED || rep.devices[i].state == REBIND_HELD;
		if (bad) {
			fflush(stdout);
			fprintf(stderr, "%s: %s\n", HOOK_PROG, line);
		} else
			printf("%s\n", line);
	}
	int ret = HOOK_EXIT_OK;
	if (e == -EWOULDBLOCK) {
		hook_error(0, "a VM is being started (the PCI reservation lock is held); try again");
		ret = HOOK_EXIT_FAILURE;
	} else if (e == -ENODEV && rep.n_devices == 0) {
		char a[PCI_ADDR_STRLEN];
		hook_error(0, "no PCI device %s", pci_addr_format(&addr, a));
		ret = HOOK_EXIT_FAILURE;
	} else if (e < 0)
		ret = HOOK_EXIT_FAILURE;
	rebind_report_release(&rep);
	free(holders);
	node_release(&node);
	return hook_finish_stdout(ret);
}

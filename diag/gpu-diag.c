/* gpu-diag: will this GPU survive tonight's backups? Checks the host, every GPU
 * and its functions, and (with the node model) the guests that use them. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "checks.h"
#include "gpuprobe.h"
#include "guests.h"
#include "pci_addr.h"
#include "report.h"

#define PROG "gpu-diag"

struct options {
	struct pci_addr *devices;
	size_t n_devices, cap_devices;
	unsigned guest;               /* 0: none */
	bool json, quiet, strict, no_color;
};

static void usage(void)
{
	printf("Usage: %s [OPTION]... [DEVICE]...\n"
	       "Check whether the GPUs of this Proxmox VE host survive stop-mode backups of\n"
	       "the VMs they are passed through to: IOMMU, driver, reset method, power state,\n"
	       "IOMMU group, sibling functions, PCIe link, SR-IOV, and the guests using them.\n"
	       "DEVICE is a PCI id as in hostpciN (01:00.0, 0000:01:00.0, or 01:00 for every\n"
	       "function of the slot); without one, every display-class PCI device is checked.\n"
	       "\n"
	       "Options:\n"
	       "  -g, --guest VMID   check the GPUs used by guest VMID\n"
	       "  -j, --json         print every check with its verdict, evidence and hint as JSON\n"
	       "  -q, --quiet        print only problems (WARN, FAIL, UNKNOWN)\n"
	       "  -s, --strict       exit 1 when a check warns\n"
	       "      --no-color     never colour the verdicts\n"
	       "  -h, --help         show this help and exit\n"
	       "  -V, --version      show the version and exit\n"
	       "\n"
	       "Exit status: 0 all checks passed, 1 warnings (with --strict), 2 a check failed,\n"
	       "3 the checks could not run (no GPU found, PCI devices not readable).\n"
	       "Files are read under $PVE_GPU_BACKUP_ROOT when it is set.\n", PROG);
}

static int parse_argv(int argc, char **argv, struct options *o)
{
	enum { OPT_NO_COLOR = 0x100 };
	static const struct option longopts[] = {
		{ "guest", required_argument, NULL, 'g' },
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "strict", no_argument, NULL, 's' },
		{ "no-color", no_argument, NULL, OPT_NO_COLOR },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 }
	};
	int c;
	while ((c = getopt_long(argc, argv, "g:jqshV", longopts, NULL)) != -1) {
		switch (c) {
		case 'g': {
			char *end;
			errno = 0;
			unsigned long v = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || optarg[0] == '-' || v < 100 || v > 999999999) {
				fprintf(stderr, "%s: invalid VMID '%s'\n", PROG, optarg);
				return -EINVAL;
			}
			o->guest = (unsigned) v;
			break;
		}
		case 'j': o->json = true; break;
		case 'q': o->quiet = true; break;
		case 's': o->strict = true; break;
		case OPT_NO_COLOR: o->no_color = true; break;
		case 'h': usage(); return 0;
		case 'V': printf("%s %s\n", PROG, PACKAGE_VERSION); return 0;
		default: return -EINVAL;
		}
	}
	for (int i = optind; i < argc; i++) {
		struct pci_addr *a = array_push(&o->devices, &o->n_devices, &o->cap_devices, sizeof(*a));
		if (!a)
			return -ENOMEM;
		if (pci_addr_parse(argv[i], false, a) < 0) {
			fprintf(stderr, "%s: invalid PCI device '%s'\n", PROG, argv[i]);
			return -EINVAL;
		}
	}
	return 1;
}

static bool want_color(const struct options *o)
{
	const char *term = getenv("TERM");
	return !o->no_color && !o->json && isatty(STDOUT_FILENO) && !getenv("NO_COLOR") && !streq(term, "dumb");
}

/* The devices named on the command line, then those of --guest. On failure
 * returns -errno with the message in error. */
static int collect_wanted(const struct options *o, const struct diag_guests *guests, struct pci_addr **wanted,
			  size_t *n_wanted, char *error, size_t error_size)
{
	_cleanup_free_ struct pci_addr *devs = NULL;
	int n = 0;

	if (o->guest) {
		n = diag_guest_devices(guests, o->guest, &devs);
		if (n == -ENOENT) {
			snprintf(error, error_size, "no guest %u on this node", o->guest);
			return n;
		} else if (n == 0) {
			snprintf(error, error_size, "guest %u uses no PCI device", o->guest);
			return -ENOENT;
		}
	}
	if (n < 0) {
		snprintf(error, error_size, "cannot read guest %u: %s", o->guest, strerror(-n));
		return n;
	}
	size_t total = o->n_devices + (size_t) n;
	if (total == 0)
		return 0;
	*wanted = calloc(total, sizeof(**wanted));
	if (!*wanted) {
		snprintf(error, error_size, "%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	if (o->n_devices)
		memcpy(*wanted, o->devices, o->n_devices * sizeof(**wanted));
	if (n)
		memcpy(*wanted + o->n_devices, devs, (size_t) n * sizeof(**wanted));
	*n_wanted = total;
	return 0;
}

/* The functions to check: the given devices (a slot gives its GPU functions,
 * or all of them when none is display-class), else every display-class function. */
static int pick_targets(const struct pci_addr *wanted, size_t n_wanted, size_t n_required, const struct pci_inventory *inv,
			bool *picked, const char **ret_missing, char *missing_buf)
{
	size_t n = 0;
	for (size_t d = 0; d < n_wanted; d++) {
		size_t found = 0, display = 0;
		for (size_t i = 0; i < inv->n; i++)
			if (pci_addr_overlaps(&wanted[d], &inv->fns[i].addr)) {
				found++;
				display += pci_class_is_display(inv->fns[i].class_code);
			}
		if (!found && d >= n_required)
			continue;   /* a guest's mapping alternative that is not on this host */
		if (!found) {
			*ret_missing = pci_addr_format(&wanted[d], missing_buf);
			return -ENODEV;
		}
		for (size_t i = 0; i < inv->n; i++)
			if (pci_addr_overlaps(&wanted[d], &inv->fns[i].addr) &&
			    (wanted[d].has_func || !display || pci_class_is_display(inv->fns[i].class_code))) {
				if (!picked[i])
					n++;
				picked[i] = true;
			}
	}
	if (n_wanted == 0)
		for (size_t i = 0; i < inv->n; i++)
			if (pci_class_is_display(inv->fns[i].class_code)) {
				picked[i] = true;
				n++;
			}
	return (int) n;
}

static int run(const struct options *o)
{
	struct report rp;
	struct diag_context ctx = { .report = &rp };
	struct diag_guests guests = { 0 };
	_cleanup_free_ bool *picked = NULL;
	_cleanup_free_ struct pci_addr *wanted = NULL;
	size_t n_wanted = 0;
	_cleanup_free_ char *pci_error = NULL;
	char error[256] = "", missing[PCI_ADDR_STRLEN];
	const char *missing_id = NULL;
	int status;

	report_init(&rp, o->json, o->quiet, want_color(o));
	host_facts_load(&ctx.scan.host);
	diag_host(&ctx);

	int r = pci_inventory_load(&ctx.scan.inv);
	if (r < 0) {
		snprintf(error, sizeof(error), "cannot enumerate PCI devices: %s", strerror(-r));
		goto finish;
	}
	r = iommu_members_load(&ctx.scan.inv, &ctx.scan.members, &ctx.scan.n_members);
	if (r < 0) {
		snprintf(error, sizeof(error), "cannot read IOMMU groups: %s", strerror(-r));
		goto finish;
	}
	if (gpu_pci_open(NULL, &ctx.scan.pacc, &pci_error) < 0) {
		char note[320];
		ctx.scan.pacc = NULL;
		snprintf(note, sizeof(note), "config space is not readable (libpci: %s): checks that need it say UNKNOWN",
			 pci_error ? pci_error : "cannot open");
		report_note(&rp, note);
	}
	r = diag_guests_load(&guests);
	if (r < 0 && o->guest) {
		snprintf(error, sizeof(error), "cannot read the guests of this node: %s", strerror(-r));
		goto finish;
	} else if (r < 0) {
		report_note(&rp, "the guests of this node could not be read: guest checks skipped");
	} else if (!guests.loaded && o->guest) {
		snprintf(error, sizeof(error), "no Proxmox VE node here (no /etc/pve): cannot look up guest %u", o->guest);
		goto finish;
	} else if (!guests.loaded) {
		report_note(&rp, "no Proxmox VE node here (no /etc/pve): guest checks skipped");
	}
	for (size_t p = 0; p < guests.node.problems.n; p++) {
		const struct problem *pr = &guests.node.problems.items[p];
		char line[512];
		if (pr->file && pr->line)
			snprintf(line, sizeof(line), "%s:%u: %s", pr->file, pr->line, pr->message);
		else
			snprintf(line, sizeof(line), "%s%s%s", pr->file ? pr->file : "", pr->file ? ": " : "", pr->message);
		report_note(&rp, line);
	}
	r = collect_wanted(o, &guests, &wanted, &n_wanted, error, sizeof(error));
	if (r < 0)
		goto finish;
	picked = calloc(ctx.scan.inv.n ? ctx.scan.inv.n : 1, sizeof(*picked));
	if (!picked)
		goto oom;
	r = pick_targets(wanted, n_wanted, o->n_devices, &ctx.scan.inv, picked, &missing_id, missing);
	if (r == -ENODEV) {
		snprintf(error, sizeof(error), "no PCI device %s on this host", missing_id);
		goto finish;
	}
	if (r == 0 && o->guest) {
		snprintf(error, sizeof(error), "none of the PCI devices of guest %u is on this host", o->guest);
		goto finish;
	}
	if (r == 0) {
		snprintf(error, sizeof(error), "no GPU found: this host has no display-class PCI device");
		goto finish;
	}
	for (size_t i = 0; i < ctx.scan.inv.n; i++) {
		if (!picked[i])
			continue;
		_cleanup_free_ struct card_user *users = NULL;
		int n_users = diag_card_users(&guests, &ctx.scan.inv.fns[i].addr, &users);
		if (n_users < 0)
			goto oom;
		r = diag_card(&ctx, i, n_users > 0);
		if (r >= 0)
			r = diag_card_guests(&ctx, &guests, i);
		if (r >= 0)
			diag_card_functions(&ctx, i);
		if (r < 0) {
			char addr[PCI_ADDR_STRLEN];
			snprintf(error, sizeof(error), "cannot read %s: %s", pci_addr_format(&ctx.scan.inv.fns[i].addr, addr), strerror(-r));
			goto finish;
		}
	}
	goto finish;
oom:
	snprintf(error, sizeof(error), "%s", strerror(ENOMEM));
finish:
	status = report_finish(&rp, o->strict, error[0] ? error : NULL);
	fflush(stdout);
	if (error[0] && !o->json)
		fprintf(stderr, "%s: %s\n", PROG, error);
	report_release(&rp);
	diag_guests_release(&guests);
	gpu_scan_release(&ctx.scan);
	return status;
}

/* A failed write of stdout is an error (util-linux close_stdout). */
static int close_stdout(int status)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "%s: cannot write to standard output: %s\n", PROG, strerror(errno ? errno : EIO));
		return 3;
	}
	return status;
}

int main(int argc, char **argv)
{
	struct options o = { 0 };
	int r = parse_argv(argc, argv, &o);
	if (r <= 0) {
		free(o.devices);
		if (r < 0 && r != -ENOMEM)
			fprintf(stderr, "Try '%s --help' for more information.\n", PROG);
		return r < 0 ? 2 : close_stdout(0);
	}
	int status = run(&o);
	free(o.devices);
	return close_stdout(status);
}

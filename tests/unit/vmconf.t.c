#include <string.h>

#include "vmconf.h"
#include "tap.h"
#include "fixture.h"

static char buf[PCI_ADDR_STRLEN];
static const char *fmt(const struct pci_addr *a) { return pci_addr_format(a, buf); }

static int load(const char *name, struct vm_config *c, struct problem_list *pl)
{
	char path[256];
	snprintf(path, sizeof(path), "qemu/%s", name);
	char *text = fixture(path);
	int r = vm_config_parse(text, 100, name, c, pl);
	free(text);
	return r;
}

static const char *opt(const struct hostpci *h, const char *key)
{
	for (size_t i = 0; i < h->n_opts; i++)
		if (strcmp(h->opts[i].key, key) == 0)
			return h->opts[i].value;
	return NULL;
}

static void test_hostpci_grammar(void)
{
	struct hostpci h;
	char *err = NULL;

	is_int(hostpci_parse("0000:00:02,,legacy-igd=1", 0, &h, &err), 0, "double comma is skipped");
	is_int(h.n_host, 1, "one id");
	is_str(fmt(&h.host[0]), "0000:00:02", "slot stays a slot");
	is_str(opt(&h, "legacy-igd"), "1", "legacy-igd kept");
	is_str(opt(&h, "host"), "0000:00:02", "bare value is host=");
	hostpci_release(&h);

	is_int(hostpci_parse("host=01:00.0;01:00.1,pcie=1,x-vga=1", 3, &h, &err), 0, "host= with a ';' set");
	is_int(h.n_host, 2, "two functions in one set");
	is_str(fmt(&h.host[1]), "0000:01:00.1", "second of the set normalised");
	is_int(h.index, 3, "index kept");
	is_int(h.n_opts, 3, "all options kept");
	hostpci_release(&h);

	is_int(hostpci_parse("mapping=gpu0,pcie=1", 0, &h, &err), 0, "mapping=");
	is_str(h.mapping, "gpu0", "mapping name");
	is_int(h.n_host, 0, "no host with a mapping");
	hostpci_release(&h);

	is_int(hostpci_parse("0000:00:02.0,mdev=i915-GVTg_V5_4", 0, &h, &err), 0, "mdev=");
	is_str(h.mdev, "i915-GVTg_V5_4", "mdev type");
	hostpci_release(&h);

	static const char *bad[][2] = {
		{ "0A:00.0", "invalid PCI id '0A:00.0'" },
		{ "01:00.0;zz", "invalid PCI id 'zz'" },
		{ "mapping=gpu,host=01:00.0", "cannot set both 'host' and 'mapping'" },
		{ "pcie=1", "either 'host' or 'mapping' must be set" },
		{ "01:00.0,02:00.0", "missing key in comma-separated list property '02:00.0'" },
		{ "01:00.0,pcie=1,pcie=0", "duplicate key 'pcie'" },
	};
	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		err = NULL;
		is_int(hostpci_parse(bad[i][0], 0, &h, &err), -EINVAL, "rejects '%s'", bad[i][0]);
		is_str(err, bad[i][1], "reason for '%s'", bad[i][0]);
		free(err);
	}
}

static void test_files(void)
{
	struct vm_config c;
	struct problem_list pl = { 0 };
	const struct hostpci *next[HOSTPCI_MAX];

	is_int(load("igd-no-final-newline.conf", &c, &pl), 0, "igd config parses");
	is_int(pl.n, 0, "hotplug:0 without a space is a key line");
	is_int(c.n_hostpci, 1, "one hostpci");
	is_str(fmt(&c.hostpci[0].host[0]), "0000:00:02", "igd slot");
	is_str(c.name, "igd-win", "name");
	ok(c.onboot, "onboot on the last line without a final newline");
	vm_config_release(&c);

	is_int(load("description.conf", &c, &pl), 0, "description config parses");
	is_int(c.n_hostpci, 1, "'#hostpci0%%3A' description lines are no keys");
	is_str(fmt(&c.hostpci[0].host[0]), "0000:01:00.0", "the live hostpci0");
	is_str(c.name, "media", "'#name:' is description");
	vm_config_release(&c);

	is_int(load("template.conf", &c, &pl), 0, "template parses");
	ok(c.template, "template: 1");
	is_int(c.n_hostpci, 1, "a template keeps its hostpci");
	vm_config_release(&c);

	is_int(load("snapshots.conf", &c, &pl), 0, "snapshots parse");
	is_int(c.n_hostpci, 1, "snapshot and special sections are not live");
	is_str(fmt(&c.hostpci[0].host[0]), "0000:01:00", "live hostpci0, not the snapshot's");
	is_int(c.n_pending_hostpci, 0, "no pending");
	vm_config_release(&c);

	is_int(load("pending.conf", &c, &pl), 0, "pending parses");
	is_int(c.n_hostpci, 3, "three live");
	is_int(c.n_pending_hostpci, 2, "two pending");
	is_int(c.n_pending_delete, 2, "two deletes");
	is_str(c.pending_delete[1], "hostpci2", "'!' stripped from delete");
	size_t n = vm_config_next_start_hostpci(&c, next);
	is_int(n, 2, "next start: hostpci0 replaced, 1 and 2 deleted, 3 added");
	is_str(fmt(&next[0]->host[0]), "0000:06:00", "pending hostpci0 wins");
	is_int(next[1]->index, 3, "pending-only hostpci3 last");
	is_int(next[1]->n_host, 2, "pending set of two");
	vm_config_release(&c);

	is_int(load("sixteen.conf", &c, &pl), 0, "sixteen parse");
	is_int(c.n_hostpci, 16, "hostpci0..hostpci15");
	is_str(fmt(&c.hostpci[15].host[0]), "0000:1f:00.0", "hostpci15");
	is_int(vm_config_next_start_hostpci(&c, next), 16, "all sixteen at next start");
	vm_config_release(&c);

	is_int(load("args.conf", &c, &pl), 0, "args parse");
	is_int(c.n_args_pci, 2, "vfio-pci host= and sysfsdev=");
	is_str(fmt(&c.args_pci[0]), "0000:01:00.0", "host= of args");
	is_str(fmt(&c.args_pci[1]), "0000:00:02.0", "sysfsdev= parent of an mdev uuid");
	vm_config_release(&c);
	is_int(pl.n, 0, "no problems so far");

	is_int(load("bad-lines.conf", &c, &pl), 0, "bad lines do not stop the read");
	is_int(c.n_hostpci, 2, "good hostpci entries kept");
	is_str(fmt(&c.hostpci[1].host[0]), "0000:04:00.0", "line after the bad ones read");
	is_int(pl.n, 7, "each bad line reported");
	if (pl.n == 7) {
		is_int(pl.items[0].line, 3, "line number of the bad id");
		is_str(pl.items[0].message, "hostpci1: invalid PCI id 'ZZ:00.0'", "message of the bad id");
		is_str(pl.items[0].file, "bad-lines.conf", "file named");
		is_int(pl.items[1].line, 4, "not a key line");
		is_int(pl.items[2].line, 5, "empty value");
		is_str(pl.items[3].message, "unknown key 'hostpci16' (hostpci0 to hostpci15)", "hostpci16");
		is_int(pl.items[6].line, 10, "bad boolean");
	}
	vm_config_release(&c);
	problem_list_release(&pl);

	is_int(vm_config_parse("hostpci0: 01:00.0\r\nname: dos\r\n", 101, "crlf", &c, &pl), 0, "CRLF");
	is_str(c.name, "dos", "CR stripped");
	is_int(c.vmid, 101, "vmid kept");
	vm_config_release(&c);
	is_int(vm_config_parse("", 101, "empty", &c, &pl), 0, "empty file");
	is_int(c.n_hostpci, 0, "nothing in it");
	vm_config_release(&c);
	is_int(pl.n, 0, "no problems");
	problem_list_release(&pl);
}

int main(void)
{
	test_hostpci_grammar();
	test_files();
	return tap_done();
}

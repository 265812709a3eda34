/* The node model over a small fake root made in the build directory. */
#include <errno.h>
#include <ftw.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "fileio.h"
#include "node.h"
#include "rootfs.h"
#include "tap.h"

static char root[256];

static void put(const char *path, const char *text)
{
	char p[1024], dir[1024];
	snprintf(p, sizeof(p), "%s%s", root, path);
	snprintf(dir, sizeof(dir), "%s", p);
	*strrchr(dir, '/') = '\0';
	if (mkdir_p(dir, 0755) < 0)
		abort();
	FILE *f = fopen(p, "we");
	if (!f)
		abort();
	fputs(text, f);
	fclose(f);
}

static void link_(const char *target, const char *path)
{
	char p[1024], dir[1024];
	snprintf(p, sizeof(p), "%s%s", root, path);
	snprintf(dir, sizeof(dir), "%s", p);
	*strrchr(dir, '/') = '\0';
	if (mkdir_p(dir, 0755) < 0 || symlink(target, p) < 0)
		abort();
}

static int remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st, (void)type, (void)ftw;
	return remove(path);
}

static void fake_root(void)
{
	snprintf(root, sizeof(root), "%s/node.t.root.XXXXXX", getenv("PWD") ? getenv("PWD") : ".");
	if (!mkdtemp(root))
		abort();
	root_set_prefix(root);
	link_("nodes/pve1", "/etc/pve/local");
	put("/etc/pve/nodes/pve1/qemu-server/101.conf", "name: gpu-vm\nhostpci0: 0000:01:00,pcie=1\n");
	put("/etc/pve/nodes/pve1/qemu-server/102.conf", "name: other\nhostpci0: bad\n");
	put("/etc/pve/nodes/pve1/lxc/200.conf", "hostname: plex\ndev0: /dev/nvidia1\ndev1: /dev/dri/renderD128\n");
	put("/etc/pve/nodes/pve2/qemu-server/300.conf", "name: elsewhere\n");
	put("/sys/devices/pci0000:00/0000:00:02.0/vendor", "0x8086\n");
	link_("../../../0000:00:02.0", "/sys/devices/pci0000:00/0000:00:02.0/drm/renderD128/device");
	link_("../../devices/pci0000:00/0000:00:02.0/drm/renderD128", "/sys/class/drm/renderD128");
	link_("../../../bus/pci/drivers/i915", "/sys/devices/pci0000:00/0000:00:02.0/driver");
	link_("../../../devices/pci0000:00/0000:00:02.0", "/sys/bus/pci/devices/0000:00:02.0");
	put("/proc/driver/nvidia/gpus/0000:41:00.0/information", "Model: \t\t X\nBus Location: \t 0000:41:00.0\nDevice Minor: \t 1\n");
	put("/proc/driver/nvidia/gpus/0000:01:00.0/information", "Model: \t\t X\nBus Location: \t 0000:01:00.0\nDevice Minor: \t 0\n");
	put("/run/qemu-server/101.pid", "4242\n");
	put("/proc/4242/cmdline", "");
	char cmdline[] = "/usr/bin/kvm\0-id\0" "101\0-pidfile\0/var/run/qemu-server/101.pid\0";
	char p[1024];
	snprintf(p, sizeof(p), "%s/proc/4242/cmdline", root);
	FILE *f = fopen(p, "we");
	fwrite(cmdline, 1, sizeof(cmdline) - 1, f);
	fclose(f);
	put("/proc/net/unix", "Num       RefCount Protocol Flags    Type St Inode Path\n"
			      "0000000000000000: 00000002 00000000 00010000 0001 01 40200 @/var/lib/lxc/200/command\n"
			      "0000000000000000: 00000002 00000000 00010000 0001 01 40201 @/var/lib/lxc/201/other\n");
	put("/etc/pve/ha/resources.cfg", "ct: 200\n\tstate stopped\n\tmax_restart 1\n");
}

int main(void)
{
	unsigned v;
	ok(vmid_parse("100", &v) == 0 && v == 100, "vmid 100");
	ok(vmid_parse("999999999", &v) == 0, "largest vmid");
	ok(vmid_parse("99", &v) < 0 && vmid_parse("0100", &v) < 0 && vmid_parse("1000000000", &v) < 0 &&
	   vmid_parse("-101", &v) < 0 && vmid_parse("101x", &v) < 0 && vmid_parse("", &v) < 0, "bad vmids");

	struct reservation *res;
	size_t n_res;
	struct problem_list pl = { 0 };
	is_int(reservations_parse("0000:01:00.0 101 pid:4242\n0000:01:00.1 102 time:1700000000\nbogus\n"
				  "0000:02:00.0 103 pid:x\n0000:03:00.0 104 pid:7 extra\n",
				  "res", &res, &n_res, &pl), 0, "reservations parse");
	is_int(n_res, 2, "two good lines");
	ok(n_res == 2 && res[0].vmid == 101 && res[0].pid == 4242 && res[1].expiry == 1700000000 && res[1].pid == 0, "fields");
	is_int(pl.n, 3, "three bad lines reported");
	ok(pl.n == 3 && pl.items[0].line == 3 && pl.items[2].line == 5, "with their lines");
	free(res);
	problem_list_release(&pl);

	fake_root();
	char *name = NULL;
	is_int(node_local_name(&name), 0, "local node name");
	is_str(name, "pve1", "from /etc/pve/local");
	free(name);

	struct pci_addr a;
	char buf[PCI_ADDR_STRLEN];
	is_int(device_node_to_pci("/dev/dri/renderD128", &a), 0, "render node");
	is_str(pci_addr_format(&a, buf), "0000:00:02.0", "through /sys/class/drm");
	is_int(device_node_to_pci("/dev/nvidia1", &a), 0, "nvidia minor 1");
	is_str(pci_addr_format(&a, buf), "0000:41:00.0", "through /proc/driver/nvidia");
	is_int(device_node_to_pci("/dev/nvidia7", &a), -ENODEV, "unknown minor");
	is_int(device_node_to_pci("/dev/dri/by-path/pci-0000:00:02.0-render", &a), 0, "by-path name");
	is_int(device_node_to_pci("/dev/dri/card3", &a), -ENOENT, "card without sysfs entry");
	char *drv = NULL;
	pci_addr_parse("0000:00:02.0", false, &a);
	is_int(pci_driver_of(&a, &drv), 0, "driver");
	is_str(drv, "i915", "driver link basename");
	free(drv);

	pid_t pid = 0;
	ok(vm_running(101, &pid) && pid == 4242, "VM 101 runs with pid 4242");
	ok(!vm_running(102, &pid), "VM 102 has no pid file");
	ok(ct_running(200) && !ct_running(201), "CT 200 runs; 201's socket is not the command socket");

	/* the hook's path: one guest, nothing else read */
	struct node node = { 0 };
	is_int(node_load_guest(&node, 200, NODE_LOAD_RUNNING | NODE_LOAD_HA), 0, "load CT 200 alone");
	is_int(node.n_guests, 1, "only that guest");
	struct guest *g = node_find_guest(&node, 200);
	ok(g && g->type == GUEST_LXC && g->running, "CT, running");
	ok(g && g->ha_managed && strcmp(g->ha_state, "stopped") == 0, "HA state read");
	ok(g && g->n_uses == 2 && g->n_device_nodes == 2, "two device nodes, two uses");
	is_int(node_load_guest(&node, 101, NODE_LOAD_RUNNING), 0, "add VM 101");
	ok(node.n_guests == 2 && node.guests[0].vmid == 101 && node.guests[1].vmid == 200, "kept in vmid order");
	ok(node.guests[0].running && node.guests[0].pid == 4242, "VM running");
	is_int(node_load_guest(&node, 101, NODE_LOAD_RUNNING), 0, "load 101 again");
	is_int(node.n_guests, 2, "replaced, not duplicated");
	is_int(node_load_guest(&node, 300, 0), -ENOENT, "another node's guest is not here");
	is_int(node_load_guest(&node, 42, 0), -EINVAL, "invalid vmid");
	is_int(node.problems.n, 0, "no problems from 101 and 200");
	node_release(&node);

	is_int(node_load(&node, NODE_LOAD_ALL), 0, "whole node");
	is_int(node.n_guests, 3, "101, 102, 200; not pve2's 300");
	is_int(node.problems.n, 1, "102's bad hostpci");
	ok(node.problems.n == 1 && strcmp(node.problems.items[0].file, "/etc/pve/qemu-server/102.conf") == 0 &&
	   node.problems.items[0].line == 2, "file and line");
	struct holder *h;
	size_t n_h;
	is_int(node_holders(&node, &h, &n_h), 0, "holders");
	is_int(n_h, 3, "VM 101's slot from its config, CT 200's two functions");
	free(h);
	node_release(&node);

	nftw(root, remove_one, 16, FTW_DEPTH | FTW_PHYS);
	root_set_prefix("/nonexistent-root-for-node.t");
	is_int(node_load(&node, NODE_LOAD_ALL), -ENOENT, "nothing readable");
	node_release(&node);
	return tap_done();
}

/* bench-node: time node_load over a fake node of 10,000 guest configs.
 * Usage: bench/bench-node [DIR] (default ./bench-node.root, made in the build dir). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "fileio.h"
#include "macro.h"
#include "node.h"
#include "rootfs.h"

#define N_GUESTS 10000

static int write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");
	if (!f)
		return -errno;
	fputs(text, f);
	return fclose(f) == 0 ? 0 : -errno;
}

/* A VM config like a real one: ~25 lines, every tenth with a GPU, some snapshots. */
static int make_vm(const char *dir, unsigned vmid)
{
	char path[4200], text[4096];
	int n = snprintf(text, sizeof(text),
		"agent: 1\nboot: order=scsi0;net0\ncores: 4\ncpu: host\nmachine: q35\nmemory: 8192\n"
		"meta: creation-qemu=8.1.5,ctime=1710860422\nname: guest-%u\n"
		"net0: virtio=BC:24:11:37:E2:06,bridge=vmbr0,firewall=1\nnuma: 0\nonboot: %d\nostype: l26\n"
		"scsi0: local-lvm:vm-%u-disk-0,iothread=1,size=64G\nscsihw: virtio-scsi-single\n"
		"smbios1: uuid=eee1dbac-5606-401c-a1be-73317eb003a1\nsockets: 1\n"
		"vmgenid: 10080ed8-2104-4941-b19c-34e8114d8ddf\n%s",
		vmid, vmid % 2, vmid,
		vmid % 10 == 0 ? "hostpci0: 0000:01:00,pcie=1,x-vga=1\nhostpci1: 0000:00:1f.3\n" : "");
	if (vmid % 7 == 0)
		snprintf(text + n, sizeof(text) - (size_t)n,
			 "\n[before-upgrade]\ncores: 2\nhostpci0: 0000:02:00,pcie=1\nmemory: 4096\nsnaptime: 1700000000\n");
	snprintf(path, sizeof(path), "%s/%u.conf", dir, vmid);
	return write_text(path, text);
}

static int make_ct(const char *dir, unsigned vmid)
{
	char path[4200], text[2048];
	snprintf(text, sizeof(text),
		 "arch: amd64\ncores: 2\nhostname: ct-%u\nmemory: 2048\n"
		 "net0: name=eth0,bridge=vmbr0,hwaddr=BC:24:11:BD:96:58,ip=dhcp,type=veth\nostype: debian\n"
		 "rootfs: local-lvm:vm-%u-disk-0,size=8G\nunprivileged: 1\n%s",
		 vmid, vmid, vmid % 10 == 0 ? "dev0: /dev/dri/renderD128,gid=104\n" : "");
	snprintf(path, sizeof(path), "%s/%u.conf", dir, vmid);
	return write_text(path, text);
}

static int build_node(const char *root)
{
	char qemu[3100], lxc[3100], local[3100];
	snprintf(qemu, sizeof(qemu), "%s/etc/pve/nodes/bench/qemu-server", root);
	snprintf(lxc, sizeof(lxc), "%s/etc/pve/nodes/bench/lxc", root);
	snprintf(local, sizeof(local), "%s/etc/pve/local", root);
	int r;
	if ((r = mkdir_p(qemu, 0755)) < 0 || (r = mkdir_p(lxc, 0755)) < 0)
		return r;
	unlink(local);
	if (symlink("nodes/bench", local) < 0)
		return -errno;
	/* 9,000 VMs and 1,000 CTs */
	for (unsigned i = 0; i < N_GUESTS; i++) {
		unsigned vmid = 100 + i;
		r = i % 10 == 9 ? make_ct(lxc, vmid) : make_vm(qemu, vmid);
		if (r < 0)
			return r;
	}
	return 0;
}

static long long now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "bench-node.root";
	char root[3000];
	if (!realpath(".", root) || strlen(root) + strlen(dir) + 2 > sizeof(root)) {
		fprintf(stderr, "bench-node: cannot resolve the build directory\n");
		return 1;
	}
	if (dir[0] == '/')
		snprintf(root, sizeof(root), "%s", dir);
	else
		snprintf(root + strlen(root), sizeof(root) - strlen(root), "/%s", dir);
	/* built once; later runs time the same files */
	char marker[3200];
	snprintf(marker, sizeof(marker), "%s/etc/pve/nodes/bench/lxc/%u.conf", root, 100 + N_GUESTS - 1);
	int r = access(marker, F_OK) == 0 ? 0 : build_node(root);
	if (r < 0) {
		fprintf(stderr, "bench-node: cannot build the fake node under '%s': %s\n", root, strerror(-r));
		return 1;
	}
	root_set_prefix(root);

	long long best = -1, best_one = -1;
	size_t n_guests = 0, n_problems = 0;
	for (int run = 0; run < 5; run++) {
		struct node node = { 0 };
		long long t0 = now_us();
		r = node_load(&node, NODE_LOAD_ALL);
		long long t = now_us() - t0;
		if (r < 0) {
			fprintf(stderr, "bench-node: node_load: %s\n", strerror(-r));
			return 1;
		}
		n_guests = node.n_guests;
		n_problems = node.problems.n;
		node_release(&node);
		if (best < 0 || t < best)
			best = t;

		struct node one = { 0 };
		t0 = now_us();
		r = node_load_guest(&one, 5000, NODE_LOAD_ALL);
		t = now_us() - t0;
		node_release(&one);
		if (r < 0) {
			fprintf(stderr, "bench-node: node_load_guest: %s\n", strerror(-r));
			return 1;
		}
		if (best_one < 0 || t < best_one)
			best_one = t;
	}
	printf("node_load(NODE_LOAD_ALL) of %zu guests: %.1f ms (best of 5; %zu problems)\n", n_guests, best / 1000.0, n_problems);
	printf("node_load_guest(5000, NODE_LOAD_ALL): %.3f ms (best of 5)\n", best_one / 1000.0);
	return fflush(stdout) == 0 ? 0 : 1;
}

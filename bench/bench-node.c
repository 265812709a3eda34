/* bench-node: time node_load over a fake node of 10,000 guest configs.
 * Usage: bench/bench-node [DIR] (default ./bench-node.root, made in the build dir). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "fileio.h"
#include "guests.h"
#include "macro.h"
#include "node.h"
#include "rootfs.h"

#define N_GUESTS 10000

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
	return bench_make_guests(root, N_GUESTS, "hostpci0: 0000:01:00,pcie=1,x-vga=1\nhostpci1: 0000:00:1f.3\n",
				 "dev0: /dev/dri/renderD128,gid=104\n");
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
		long long t0 = bench_now_us();
		r = node_load(&node, NODE_LOAD_ALL);
		long long t = bench_now_us() - t0;
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
		t0 = bench_now_us();
		r = node_load_guest(&one, 5000, NODE_LOAD_ALL);
		t = bench_now_us() - t0;
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

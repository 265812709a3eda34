#include <errno.h>
#include <stdio.h>
#include <time.h>

#include "guests.h"

int bench_write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");
	if (!f)
		return -errno;
	fputs(text, f);
	return fclose(f) == 0 ? 0 : -errno;
}

int bench_make_vm(const char *dir, unsigned vmid, const char *gpu_lines)
{
	char path[4200], text[4096];
	int n = snprintf(text, sizeof(text),
		"agent: 1\nboot: order=scsi0;net0\ncores: 4\ncpu: host\nmachine: q35\nmemory: 8192\n"
		"meta: creation-qemu=8.1.5,ctime=1710860422\nname: guest-%u\n"
		"net0: virtio=BC:24:11:37:E2:06,bridge=vmbr0,firewall=1\nnuma: 0\nonboot: %d\nostype: l26\n"
		"scsi0: local-lvm:vm-%u-disk-0,iothread=1,size=64G\nscsihw: virtio-scsi-single\n"
		"smbios1: uuid=eee1dbac-5606-401c-a1be-73317eb003a1\nsockets: 1\n"
		"vmgenid: 10080ed8-2104-4941-b19c-34e8114d8ddf\n%s",
		vmid, vmid % 2, vmid, vmid % 10 == 0 ? gpu_lines : "");
	if (vmid % 7 == 0)
		snprintf(text + n, sizeof(text) - (size_t)n,
			 "\n[before-upgrade]\ncores: 2\nhostpci0: 0000:02:00,pcie=1\nmemory: 4096\nsnaptime: 1700000000\n");
	snprintf(path, sizeof(path), "%s/%u.conf", dir, vmid);
	return bench_write_text(path, text);
}

int bench_make_ct(const char *dir, unsigned vmid, const char *gpu_line)
{
	char path[4200], text[2048];
	snprintf(text, sizeof(text),
		 "arch: amd64\ncores: 2\nhostname: ct-%u\nmemory: 2048\n"
		 "net0: name=eth0,bridge=vmbr0,hwaddr=BC:24:11:BD:96:58,ip=dhcp,type=veth\nostype: debian\n"
		 "rootfs: local-lvm:vm-%u-disk-0,size=8G\nunprivileged: 1\n%s",
		 vmid, vmid, vmid % 10 == 0 ? gpu_line : "");
	snprintf(path, sizeof(path), "%s/%u.conf", dir, vmid);
	return bench_write_text(path, text);
}

int bench_make_guests(const char *root, unsigned n, const char *vm_gpu_lines, const char *ct_gpu_line)
{
	char qemu[3200], lxc[3200];
	snprintf(qemu, sizeof(qemu), "%s/etc/pve/nodes/bench/qemu-server", root);
	snprintf(lxc, sizeof(lxc), "%s/etc/pve/nodes/bench/lxc", root);
	for (unsigned i = 0; i < n; i++) {
		unsigned vmid = 100 + i;
		int r = i % 10 == 9 ? bench_make_ct(lxc, vmid, ct_gpu_line) : bench_make_vm(qemu, vmid, vm_gpu_lines);
		if (r < 0)
			return r;
	}
	return 0;
}

long long bench_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

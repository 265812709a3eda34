/* The fake guest configs both benchmarks lay out: VM and CT configs like real
 * ones, nine VMs to one CT, every tenth VM with a GPU, some with snapshots. */
#pragma once

int bench_write_text(const char *path, const char *text);
/* <dir>/<vmid>.conf; every tenth VM (vmid % 10 == 0) gets gpu_lines. */
int bench_make_vm(const char *dir, unsigned vmid, const char *gpu_lines);
/* <dir>/<vmid>.conf; a CT whose vmid % 10 == 0 gets gpu_line. */
int bench_make_ct(const char *dir, unsigned vmid, const char *gpu_line);
/* n guests from vmid 100 under <root>/etc/pve/nodes/bench/{qemu-server,lxc}
 * (the directories must exist): the tenth of each ten is a CT. */
int bench_make_guests(const char *root, unsigned n, const char *vm_gpu_lines, const char *ct_gpu_line);
long long bench_now_us(void);

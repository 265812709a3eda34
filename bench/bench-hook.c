/* bench-hook: time the built hook per phase, as vzdump runs it (a fresh
 * process with vzdump's environment), on fake nodes of 100, 1,000 and 10,000
 * guests. Prints figures; not a test.
 * Usage: bench/bench-hook [HOOK [DIR]] (defaults: src/hook/pve-gpu-backup-hook,
 * ./bench-hook.root; run from the build directory). */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "guests.h"
#include "macro.h"

/* The GPU holder (running, 0000:01:00), a stopped VM that needs that GPU,
 * a stopped VM without devices; every tenth VM has the GPU in its config. */
#define HOLDER 110
#define NEEDS_GPU 120
#define PLAIN 101
#define FAKE_PID 3999999

/* The holder runs (pid file, kvm cmdline, reservation) or not. */
static int set_holder_running(const char *root, bool running)
{
	char pidfile[3200], cmdline[3200], res[3200];
	snprintf(pidfile, sizeof(pidfile), "%s/run/qemu-server/%u.pid", root, HOLDER);
	snprintf(cmdline, sizeof(cmdline), "%s/proc/%u/cmdline", root, FAKE_PID);
	snprintf(res, sizeof(res), "%s/run/qemu-server/pci-id-reservations", root);
	if (!running) {
		unlink(pidfile);
		return bench_write_text(res, "");
	}
	char text[256];
	int r;
	snprintf(text, sizeof(text), "%u\n", FAKE_PID);
	if ((r = bench_write_text(pidfile, text)) < 0)
		return r;
	static const char argv[] = "/usr/bin/kvm\0-id\0" "110\0-pidfile\0/var/run/qemu-server/110.pid\0";
	FILE *f = fopen(cmdline, "we");
	if (!f)
		return -errno;
	fwrite(argv, 1, sizeof(argv) - 1, f);
	if (fclose(f) != 0)
		return -errno;
	snprintf(text, sizeof(text), "0000:01:00.0 %u pid:%u\n", HOLDER, FAKE_PID);
	return bench_write_text(res, text);
}

static int build_node(const char *root, unsigned n_guests)
{
	char p[3200];
	int r;
	static const char *const dirs[] = { "etc/pve/nodes/bench/qemu-server", "etc/pve/nodes/bench/lxc", "etc/pve/ha",
					    "etc/pve/mapping", "run/qemu-server", "proc/sys/kernel/random", "proc/net",
					    "var/log", "var/lib" };
	for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
		snprintf(p, sizeof(p), "%s/%s", root, dirs[i]);
		if ((r = mkdir_p(p, 0755)) < 0)
			return r;
	}
	snprintf(p, sizeof(p), "%s/proc/%u", root, FAKE_PID);
	if ((r = mkdir_p(p, 0755)) < 0)
		return r;
	static const struct { const char *path, *target; } links[] = {
		{ "etc/pve/local", "nodes/bench" },
		{ "etc/pve/qemu-server", "nodes/bench/qemu-server" },
		{ "etc/pve/lxc", "nodes/bench/lxc" },
		{ "var/run", "../run" },
	};
	for (size_t i = 0; i < ELEMENTSOF(links); i++) {
		snprintf(p, sizeof(p), "%s/%s", root, links[i].path);
		unlink(p);
		if (symlink(links[i].target, p) < 0)
			return -errno;
	}
	static const struct { const char *path, *text; } files[] = {
		{ "proc/sys/kernel/random/boot_id", "4f1e8a52-8f0e-4a4f-9c57-2f2f5d7f2a10\n" },
		{ "proc/net/unix", "Num       RefCount Protocol Flags    Type St Inode Path\n" },
		{ "etc/pve/ha/resources.cfg", "" },
		{ "etc/pve/mapping/pci.cfg", "" },
		{ "etc/pve-gpu-backup-hook.conf", "shutdown-timeout: 60\nforce-stop: 0\n" },
	};
	for (size_t i = 0; i < ELEMENTSOF(files); i++) {
		snprintf(p, sizeof(p), "%s/%s", root, files[i].path);
		if ((r = bench_write_text(p, files[i].text)) < 0)
			return r;
	}
	/* nine VMs to one CT, as bench-node */
	if ((r = bench_make_guests(root, n_guests, "hostpci0: 0000:01:00,pcie=1,x-vga=1\n", "")) < 0)
		return r;
	return set_holder_running(root, true);
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;
	return (x > y) - (x < y);
}

/* Run the hook runs times with vzdump's environment; the median wall time in
 * microseconds, or -1 when a run failed or exited with an unexpected code. */
static long long time_hook(const char *hook, const char *root, const char *const args[], int runs, int want_exit)
{
	char env_root[3300];
	snprintf(env_root, sizeof(env_root), "PVE_GPU_BACKUP_ROOT=%s", root);
	const char *envp[] = { "LC_ALL=C", "LVM_SUPPRESS_FD_WARNINGS=1", "STOREID=local", "DUMPDIR=/var/lib/vz/dump",
			       env_root, NULL };
	const char *argv[8] = { hook };
	for (size_t i = 0; args[i] && i < ELEMENTSOF(argv) - 2; i++)
		argv[i + 1] = args[i], argv[i + 2] = NULL;
	long long t[64];
	if (runs > (int)ELEMENTSOF(t))
		runs = (int)ELEMENTSOF(t);
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
	for (int i = 0; i < runs; i++) {
		pid_t pid;
		int status;
		long long t0 = bench_now_us();
		if (posix_spawn(&pid, hook, &fa, NULL, (char *const *)argv, (char *const *)envp) != 0 || waitpid(pid, &status, 0) < 0) {
			posix_spawn_file_actions_destroy(&fa);
			return -1;
		}
		t[i] = bench_now_us() - t0;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != want_exit) {
			fprintf(stderr, "bench-hook: '%s %s' exited %d\n", hook, args[0], WIFEXITED(status) ? WEXITSTATUS(status) : -1);
			posix_spawn_file_actions_destroy(&fa);
			return -1;
		}
	}
	posix_spawn_file_actions_destroy(&fa);
	qsort(t, (size_t)runs, sizeof(t[0]), cmp_ll);
	return t[runs / 2];
}

static const unsigned sizes[] = { 100, 1000, 10000 };

int main(int argc, char **argv)
{
	const char *hook = argc > 1 ? argv[1] : "src/hook/pve-gpu-backup-hook";
	const char *dir = argc > 2 ? argv[2] : "bench-hook.root";
	char base[3000];
	if (access(hook, X_OK) < 0) {
		fprintf(stderr, "bench-hook: cannot run '%s': %s\n", hook, strerror(errno));
		return 1;
	}
	if (dir[0] == '/')
		snprintf(base, sizeof(base), "%s", dir);
	else if (!getcwd(base, sizeof(base) - 200))
		return 1;
	else
		snprintf(base + strlen(base), sizeof(base) - strlen(base), "/%s", dir);

	struct {
		const char *what;
		const char *args[4];
		int want_exit;
		bool holder_running;
	} phases[] = {
		{ "job-start (nothing parked)", { "job-start", NULL }, 0, true },
		{ "backup-start of a running VM (no-op)", { "backup-start", "snapshot", "110", NULL }, 0, true },
		{ "backup-start of a stopped VM without devices", { "backup-start", "stop", "101", NULL }, 0, true },
		{ "plan for a stopped VM whose GPU is held", { "plan", "120", NULL }, 0, true },
		{ "backup-start, GPU needed, holder already stopped", { "backup-start", "stop", "120", NULL }, 0, false },
		{ "job-end (nothing parked)", { "job-end", NULL }, 0, true },
	};
	printf("%-50s %10s %10s %10s\n", "median wall time per hook run (ms)", "100", "1,000", "10,000");
	long long res[ELEMENTSOF(phases)][ELEMENTSOF(sizes)];
	for (size_t s = 0; s < ELEMENTSOF(sizes); s++) {
		char root[3100], marker[3300];
		snprintf(root, sizeof(root), "%s/%u", base, sizes[s]);
		snprintf(marker, sizeof(marker), "%s/etc/pve/nodes/bench/lxc/%u.conf", root, 100 + sizes[s] - 1);
		int r = access(marker, F_OK) == 0 ? set_holder_running(root, true) : build_node(root, sizes[s]);
		if (r < 0) {
			fprintf(stderr, "bench-hook: cannot build the fake node under '%s': %s\n", root, strerror(-r));
			return 1;
		}
		for (size_t p = 0; p < ELEMENTSOF(phases); p++) {
			if ((r = set_holder_running(root, phases[p].holder_running)) < 0)
				return 1;
			int runs = sizes[s] >= 10000 && phases[p].args[0][0] != 'j' ? 11 : 41;
			res[p][s] = time_hook(hook, root, phases[p].args, runs, phases[p].want_exit);
			if (res[p][s] < 0)
				return 1;
		}
		(void)set_holder_running(root, true);
	}
	for (size_t p = 0; p < ELEMENTSOF(phases); p++)
		printf("%-50s %10.2f %10.2f %10.2f\n", phases[p].what, res[p][0] / 1000.0, res[p][1] / 1000.0,
		       res[p][2] / 1000.0);
	/* what starting any program costs here, for comparison */
	const char *t[] = { "--version", NULL };
	long long base_us = time_hook(hook, base, t, 41, 0);
	printf("%-50s %10.2f\n", "for comparison: --version (exec alone)", base_us / 1000.0);
	return fflush(stdout) == 0 ? 0 : 1;
}

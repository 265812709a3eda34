/* Is a guest running, read straight from the node as qemu-server and
 * pve-container decide it (no qm/pct). */
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "node.h"
#include "rootfs.h"
#include "strutil.h"

static bool pidfile_arg_is(const char *arg, unsigned vmid)
{
	char a[64], b[64];
	snprintf(a, sizeof(a), "/var/run/qemu-server/%u.pid", vmid);
	snprintf(b, sizeof(b), "/run/qemu-server/%u.pid", vmid);
	return streq(arg, a) || streq(arg, b);
}

/* qemu-server Helpers.pm: argv0 is ...kvm or qemu-*, with -pidfile <this vmid's pid file> */
static bool cmdline_is_vm(const char *cmdline, size_t len, unsigned vmid)
{
	if (len == 0)
		return false;
	const char *argv0 = cmdline, *base = strrchr(argv0, '/');
	base = base ? base + 1 : argv0;
	if (!streq(base, "kvm") && !startswith(base, "qemu-"))
		return false;
	for (const char *p = cmdline; p < cmdline + len; p += strlen(p) + 1)
		if (streq(p, "-pidfile") && p + strlen(p) + 1 < cmdline + len)
			return pidfile_arg_is(p + strlen(p) + 1, vmid);
	return false;
}

bool vm_running(unsigned vmid, pid_t *ret_pid)
{
	char path[64];
	_cleanup_free_ char *s = NULL;
	unsigned long long pid;

	snprintf(path, sizeof(path), "/run/qemu-server/%u.pid", vmid);
	if (root_read_line(path, &s) < 0) {
		snprintf(path, sizeof(path), "/var/run/qemu-server/%u.pid", vmid);
		if (root_read_line(path, &s) < 0)
			return false;
	}
	if (parse_uint(strstrip(s), 0x7fffffff, &pid) < 0 || pid == 0)
		return false;
	_cleanup_free_ char *cmdline = NULL;
	size_t len;
	snprintf(path, sizeof(path), "/proc/%llu/cmdline", pid);
	if (root_read_file(path, 1 << 20, &cmdline, &len) < 0 || !cmdline_is_vm(cmdline, len, vmid))
		return false;
	if (ret_pid)
		*ret_pid = (pid_t)pid;
	return true;
}

static int cmp_unsigned(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
	return (x > y) - (x < y);
}

int ct_running_list(unsigned **ret, size_t *ret_n)
{
	_cleanup_free_ char *text = NULL;
	unsigned *list = NULL;
	size_t n = 0, cap = 0;
	int r = root_read_file("/proc/net/unix", 0, &text, NULL);
	if (r < 0)
		return r;
	/* pve-container list_active_containers: abstract socket @/var/lib/lxc/<vmid>/command */
	for (char *p = text, *line; (line = next_line(&p));) {
		char *at = strstr(line, " @/var/lib/lxc/");
		if (!at)
			continue;
		char *id = at + strlen(" @/var/lib/lxc/"), *slash = strchr(id, '/');
		if (!slash || strcmp(slash, "/command") != 0)
			continue;
		*slash = '\0';
		unsigned vmid;
		if (vmid_parse(id, &vmid) < 0)
			continue;
		unsigned *slot = array_push(&list, &n, &cap, sizeof(*slot));
		if (!slot) {
			free(list);
			return -ENOMEM;
		}
		*slot = vmid;
	}
	if (n > 1)
		qsort(list, n, sizeof(*list), cmp_unsigned);
	*ret = list;
	*ret_n = n;
	return 0;
}

bool ct_running(unsigned vmid)
{
	_cleanup_free_ unsigned *list = NULL;
	size_t n;
	if (ct_running_list(&list, &n) < 0)
		return false;
	return n > 0 && bsearch(&vmid, list, n, sizeof(*list), cmp_unsigned) != NULL;
}

/* The kernel half of fakesys.so: what a write to a PCI command file does to
 * the fake sysfs (links, dynamic ids, the host driver's device nodes).
 * Test knob: <dev>/.sim/refuse lists command file names ("bind unbind")
 * whose writes for that device fail with EPERM. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fakesys.h"

#define DEVICES "/sys/devices/pci0000:00"
#define DRIVERS "/sys/bus/pci/drivers"

/* ---- small file helpers (never through our own wrappers) ---- */

static int path_fmt(char *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int path_fmt(char *buf, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = vsnprintf(buf, PATH_MAX, fmt, ap);
	va_end(ap);
	return r < 0 || r >= PATH_MAX ? -ENAMETOOLONG : 0;
}

static int read_small(const char *path, char *buf, size_t size)
{
	int fd = real_open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, size - 1);
	real_close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return (int)n;
}

static int write_small(const char *path, const char *data)
{
	int fd = real_open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	size_t len = strlen(data);
	ssize_t n = real_write(fd, data, len);
	real_close(fd);
	return n == (ssize_t)len ? 0 : -EIO;
}

static void mkdir_parents(const char *path)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s", path);
	for (char *s = p + 1; *s; s++)
		if (*s == '/') {
			*s = '\0';
			mkdir(p, 0755);
			*s = '/';
		}
}

static void trim(char *s)
{
	size_t l = strlen(s);
	while (l > 0 && (s[l - 1] == '\n' || s[l - 1] == ' ' || s[l - 1] == '\t'))
		s[--l] = '\0';
}

/* ---- the fake device model ---- */

static int dev_attr(const char *root, const char *bdf, const char *attr, char *buf, size_t size)
{
	char p[PATH_MAX];
	if (path_fmt(p, "%s" DEVICES "/%s/%s", root, bdf, attr) < 0)
		return -ENAMETOOLONG;
	int r = read_small(p, buf, size);
	if (r >= 0)
		trim(buf);
	return r;
}

static bool dev_exists(const char *root, const char *bdf)
{
	char p[PATH_MAX];
	struct stat st;
	if (!*bdf || strchr(bdf, '/') || strcmp(bdf, ".") == 0 || strcmp(bdf, "..") == 0)
		return false;
	return path_fmt(p, "%s" DEVICES "/%s", root, bdf) == 0 && stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The driver bound now, "" when none. */
static void dev_driver(const char *root, const char *bdf, char *buf, size_t size)
{
	char p[PATH_MAX], t[PATH_MAX];
	buf[0] = '\0';
	if (path_fmt(p, "%s" DEVICES "/%s/driver", root, bdf) < 0)
		return;
	ssize_t n = readlink(p, t, sizeof(t) - 1);
	if (n <= 0)
		return;
	t[n] = '\0';
	const char *b = strrchr(t, '/');
	const char *name = b ? b + 1 : t;
	size_t l = strlen(name);
	if (l < size)
		memcpy(buf, name, l + 1);
}

static bool dev_refuses(const char *root, const char *bdf, const char *cmdname)
{
	char buf[1024];
	if (dev_attr(root, bdf, ".sim/refuse", buf, sizeof(buf)) < 0)
		return false;
	for (char *save = NULL, *tok = strtok_r(buf, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save))
		if (strcmp(tok, cmdname) == 0)
			return true;
	return false;
}

/* vendor/device as 4 lowercase hex digits without 0x. */
static int dev_id(const char *root, const char *bdf, char vendor[16], char device[16])
{
	char v[64], d[64];
	if (dev_attr(root, bdf, "vendor", v, sizeof(v)) < 0 || dev_attr(root, bdf, "device", d, sizeof(d)) < 0)
		return -ENOENT;
	unsigned long vv = strtoul(v, NULL, 16), dd = strtoul(d, NULL, 16);
	snprintf(vendor, 16, "%04lx", vv);
	snprintf(device, 16, "%04lx", dd);
	return 0;
}

static bool dyn_id_has(const char *root, const char *drv, const char *vendor, const char *device)
{
	char p[PATH_MAX], buf[8192], want[40];
	if (path_fmt(p, "%s" DRIVERS "/%s/.sim_ids", root, drv) < 0 || read_small(p, buf, sizeof(buf)) < 0)
		return false;
	snprintf(want, sizeof(want), "%s %s", vendor, device);
	for (char *save = NULL, *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		if (strcmp(l, want) == 0)
			return true;
	return false;
}

static bool driver_exists(const char *root, const char *drv)
{
	char p[PATH_MAX];
	struct stat st;
	return *drv && !strchr(drv, '/') && path_fmt(p, "%s" DRIVERS "/%s", root, drv) == 0 &&
	       stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Would drv's id table (host driver) or dynamic ids match, honouring driver_override? */
static bool driver_matches(const char *root, const char *bdf, const char *drv)
{
	char ov[256], host[256], v[16], d[16];
	if (dev_attr(root, bdf, "driver_override", ov, sizeof(ov)) >= 0 && *ov && strcmp(ov, "(null)") != 0)
		return strcmp(ov, drv) == 0;
	if (dev_attr(root, bdf, ".sim/host_driver", host, sizeof(host)) >= 0 && strcmp(host, drv) == 0)
		return true;
	return dev_id(root, bdf, v, d) == 0 && dyn_id_has(root, drv, v, d);
}

static void node_paths(const char *root, const char *bdf, const char *node, bool create)
{
	char p[PATH_MAX], t[PATH_MAX];
	if (strncmp(node, "drm:", 4) == 0) {
		const char *name = node + 4;
		path_fmt(p, "%s/dev/dri/%s", root, name);
		if (create) {
			mkdir_parents(p);
			write_small(p, "");
		} else
			unlink(p);
		path_fmt(p, "%s" DEVICES "/%s/drm/%s/device", root, bdf, name);
		path_fmt(t, "%s/sys/class/drm/%s", root, name);
		if (create) {
			mkdir_parents(p);
			char target[PATH_MAX];
			snprintf(target, sizeof(target), "../../../%s", bdf);
			symlink(target, p);
			mkdir_parents(t);
			snprintf(target, sizeof(target), "../../devices/pci0000:00/%s/drm/%s", bdf, name);
			symlink(target, t);
		} else {
			unlink(t);
			unlink(p);
			path_fmt(p, "%s" DEVICES "/%s/drm/%s", root, bdf, name);
			rmdir(p);
			path_fmt(p, "%s" DEVICES "/%s/drm", root, bdf);
			rmdir(p);
		}
	} else if (strncmp(node, "nvidia:", 7) == 0) {
		const char *minor = node + 7;
		path_fmt(p, "%s/dev/nvidia%s", root, minor);
		if (create) {
			mkdir_parents(p);
			write_small(p, "");
		} else
			unlink(p);
		path_fmt(p, "%s/proc/driver/nvidia/gpus/%s/information", root, bdf);
		if (create) {
			char info[512];
			snprintf(info, sizeof(info), "Model: \t\t Simulated GPU\nDevice Minor: \t %s\nBus Location: \t %s\n",
			         minor, bdf);
			mkdir_parents(p);
			write_small(p, info);
		} else {
			unlink(p);
			path_fmt(p, "%s/proc/driver/nvidia/gpus/%s", root, bdf);
			rmdir(p);
		}
	}
}

static void host_nodes(const char *root, const char *bdf, const char *drv, bool create)
{
	char host[256], nodes[1024];
	if (dev_attr(root, bdf, ".sim/host_driver", host, sizeof(host)) < 0 || strcmp(host, drv) != 0)
		return;
	if (dev_attr(root, bdf, ".sim/nodes", nodes, sizeof(nodes)) < 0)
		return;
	for (char *save = NULL, *tok = strtok_r(nodes, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save))
		node_paths(root, bdf, tok, create);
}

/* "bind BDF DRV" in the simulator's event log (tests/sim), when the node has one. */
static void sim_event(const char *root, const char *what, const char *bdf, const char *drv)
{
	char p[PATH_MAX], line[512];
	struct timespec ts;
	if (path_fmt(p, "%s/var/lib/sim/events", root) < 0)
		return;
	int fd = real_open(p, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	int n = snprintf(line, sizeof(line), "%lld.%09ld %s %s %s\n", (long long)ts.tv_sec, ts.tv_nsec, what, bdf, drv);
	if (n > 0 && (size_t)n < sizeof(line))
		(void)real_write(fd, line, (size_t)n);
	real_close(fd);
}

static int do_bind(const char *root, const char *bdf, const char *drv)
{
	char p[PATH_MAX], t[PATH_MAX];
	if (path_fmt(p, "%s" DEVICES "/%s/driver", root, bdf) < 0 ||
	    path_fmt(t, "../../../bus/pci/drivers/%s", drv) < 0 || symlink(t, p) < 0)
		return -errno ? -errno : -ENAMETOOLONG;
	if (path_fmt(p, "%s" DRIVERS "/%s/%s", root, drv, bdf) == 0 &&
	    path_fmt(t, "../../../../devices/pci0000:00/%s", bdf) == 0)
		symlink(t, p);
	host_nodes(root, bdf, drv, true);
	sim_event(root, "bind", bdf, drv);
	return 0;
}

static void do_unbind(const char *root, const char *bdf, const char *drv)
{
	char p[PATH_MAX];
	host_nodes(root, bdf, drv, false);
	if (path_fmt(p, "%s" DRIVERS "/%s/%s", root, drv, bdf) == 0)
		unlink(p);
	if (path_fmt(p, "%s" DEVICES "/%s/driver", root, bdf) == 0)
		unlink(p);
	sim_event(root, "unbind", bdf, drv);
}

static int parse_id(const char *data, char vendor[16], char device[16])
{
	char *end;
	unsigned long v = strtoul(data, &end, 16);
	if (end == data || (*end != ' ' && *end != '\t'))
		return -EINVAL;
	const char *s = end;
	unsigned long d = strtoul(s, &end, 16);
	if (end == s || v > 0xffff || d > 0xffff)
		return -EINVAL;
	snprintf(vendor, 16, "%04lx", v);
	snprintf(device, 16, "%04lx", d);
	return 0;
}

/* Does any device with this id refuse cmdname? */
static bool id_refused(const char *root, const char *vendor, const char *device, const char *cmdname)
{
	char p[PATH_MAX], v[16], d[16];
	bool refused = false;
	if (path_fmt(p, "%s" DEVICES, root) < 0)
		return false;
	DIR *dir = opendir(p);
	if (!dir)
		return false;
	struct dirent *de;
	while (!refused && (de = readdir(dir)))
		if (de->d_name[0] != '.' && dev_id(root, de->d_name, v, d) == 0 &&
		    strcmp(v, vendor) == 0 && strcmp(d, device) == 0)
			refused = dev_refuses(root, de->d_name, cmdname);
	closedir(dir);
	return refused;
}

static int cmd_new_id(const char *root, const char *drv, const char *data)
{
	char vendor[16], device[16], p[PATH_MAX], line[64], v[16], d[16];
	if (parse_id(data, vendor, device) < 0)
		return -EINVAL;
	if (id_refused(root, vendor, device, "new_id"))
		return -EPERM;
	if (dyn_id_has(root, drv, vendor, device))
		return -EEXIST;
	if (path_fmt(p, "%s" DRIVERS "/%s/.sim_ids", root, drv) < 0)
		return -ENAMETOOLONG;
	int fd = real_open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	snprintf(line, sizeof(line), "%s %s\n", vendor, device);
	real_write(fd, line, strlen(line));
	real_close(fd);
	/* The kernel attaches the driver to every unbound device that now matches. */
	if (path_fmt(p, "%s" DEVICES, root) < 0)
		return 0;
	DIR *dir = opendir(p);
	if (!dir)
		return 0;
	struct dirent *de;
	while ((de = readdir(dir))) {
		char cur[256];
		if (de->d_name[0] == '.' || dev_id(root, de->d_name, v, d) < 0 ||
		    strcmp(v, vendor) != 0 || strcmp(d, device) != 0)
			continue;
		dev_driver(root, de->d_name, cur, sizeof(cur));
		if (!*cur && driver_matches(root, de->d_name, drv))
			do_bind(root, de->d_name, drv);
	}
	closedir(dir);
	return 0;
}

static int cmd_remove_id(const char *root, const char *drv, const char *data)
{
	char vendor[16], device[16], p[PATH_MAX], buf[8192], want[40], out[8192] = "";
	if (parse_id(data, vendor, device) < 0)
		return -EINVAL;
	if (id_refused(root, vendor, device, "remove_id"))
		return -EPERM;
	if (!dyn_id_has(root, drv, vendor, device))
		return -ENODEV;
	if (path_fmt(p, "%s" DRIVERS "/%s/.sim_ids", root, drv) < 0 || read_small(p, buf, sizeof(buf)) < 0)
		return -ENODEV;
	snprintf(want, sizeof(want), "%s %s", vendor, device);
	for (char *save = NULL, *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		if (strcmp(l, want) != 0) {
			strncat(out, l, sizeof(out) - strlen(out) - 2);
			strcat(out, "\n");
		}
	return write_small(p, out);
}

static int cmd_probe(const char *root, const char *bdf)
{
	char cur[256], ov[256], host[256];
	if (!dev_exists(root, bdf))
		return -ENODEV;
	if (dev_refuses(root, bdf, "drivers_probe"))
		return -EPERM;
	dev_driver(root, bdf, cur, sizeof(cur));
	if (*cur)
		return 0;
	if (dev_attr(root, bdf, "driver_override", ov, sizeof(ov)) >= 0 && *ov && strcmp(ov, "(null)") != 0) {
		if (driver_exists(root, ov))
			return do_bind(root, bdf, ov);
		return 0;
	}
	if (driver_exists(root, "vfio-pci") && driver_matches(root, bdf, "vfio-pci"))
		return do_bind(root, bdf, "vfio-pci");
	if (dev_attr(root, bdf, ".sim/host_driver", host, sizeof(host)) >= 0 && driver_exists(root, host))
		return do_bind(root, bdf, host);
	return 0; /* no driver wants it: the kernel still reports success */
}

int fakesys_apply(const struct cmd *c, const char *data, size_t len)
{
	char buf[4096];
	char cur[256], p[PATH_MAX];
	const char *root = c->root;

	if (len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, data, len);
	buf[len] = '\0';

	switch (c->kind) {
	case CMD_OVERRIDE:
		if (dev_refuses(root, c->arg, "driver_override"))
			return -EPERM;
		trim(buf);
		if (path_fmt(p, "%s" DEVICES "/%s/driver_override", root, c->arg) < 0)
			return -ENAMETOOLONG;
		strcat(buf, "\n");
		return write_small(p, strcmp(buf, "\n") == 0 ? "(null)\n" : buf);
	case CMD_NEW_ID:
		return cmd_new_id(root, c->arg, buf);
	case CMD_REMOVE_ID:
		return cmd_remove_id(root, c->arg, buf);
	case CMD_PROBE:
		trim(buf);
		return cmd_probe(root, buf);
	case CMD_BIND:
	case CMD_UNBIND:
		trim(buf);
		if (!dev_exists(root, buf))
			return -ENODEV;
		if (dev_refuses(root, buf, c->kind == CMD_BIND ? "bind" : "unbind"))
			return -EPERM;
		dev_driver(root, buf, cur, sizeof(cur));
		if (c->kind == CMD_UNBIND) {
			if (strcmp(cur, c->arg) != 0)
				return -ENODEV;
			do_unbind(root, buf, c->arg);
			return 0;
		}
		if (*cur)
			return -EBUSY;
		if (!driver_matches(root, buf, c->arg))
			return -ENODEV;
		return do_bind(root, buf, c->arg);
	}
	return -EINVAL;
}


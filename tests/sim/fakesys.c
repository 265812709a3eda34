/* fakesys.so: an LD_PRELOAD fake kernel for the fake sysfs under
 * $PVE_GPU_BACKUP_ROOT. Writes to the PCI command files (drivers/<drv>/bind,
 * unbind, new_id, remove_id, drivers_probe, <dev>/driver_override) get the
 * kernel's semantics; every other file is left to the real libc.
 *
 * Command fds are memfds: a direct write() is applied at once (and may fail
 * with the kernel's errno); bytes that reach the fd through stdio's internal
 * write (bash's builtin echo) are applied at the next fflush/fclose/close/dup2
 * of that fd, and a failure sets the FILE's error flag so bash reports
 * "echo: write error: ...". Test knob: <dev>/.sim/refuse lists command file
 * names whose writes for that device fail with EPERM. */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FDS 4096
#define DEVICES "/sys/devices/pci0000:00"
#define DRIVERS "/sys/bus/pci/drivers"

enum cmd_kind { CMD_BIND, CMD_UNBIND, CMD_NEW_ID, CMD_REMOVE_ID, CMD_PROBE, CMD_OVERRIDE };

struct cmd {
	enum cmd_kind kind;
	char root[PATH_MAX];  /* canonical root prefix */
	char arg[256];        /* driver name, or BDF for driver_override */
	int refs;
};

static struct cmd *tracked[MAX_FDS];

static int (*real_open)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static ssize_t (*real_write)(int, const void *, size_t);
static int (*real_close)(int);
static int (*real_dup2)(int, int);
static int (*real_dup3)(int, int, int);
static int (*real_fflush)(FILE *);
static int (*real_fclose)(FILE *);
static FILE *(*real_fopen)(const char *, const char *);

static void init(void)
{
	if (real_open)
		return;
	real_openat = dlsym(RTLD_NEXT, "openat");
	real_write = dlsym(RTLD_NEXT, "write");
	real_close = dlsym(RTLD_NEXT, "close");
	real_dup2 = dlsym(RTLD_NEXT, "dup2");
	real_dup3 = dlsym(RTLD_NEXT, "dup3");
	real_fflush = dlsym(RTLD_NEXT, "fflush");
	real_fclose = dlsym(RTLD_NEXT, "fclose");
	real_fopen = dlsym(RTLD_NEXT, "fopen");
	real_open = dlsym(RTLD_NEXT, "open");
}

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

static int apply(const struct cmd *c, const char *data, size_t len)
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

/* ---- recognising command files ---- */

static bool canon_root(char out[PATH_MAX])
{
	const char *e = getenv("PVE_GPU_BACKUP_ROOT");
	if (!e || !*e || !realpath(e, out))
		return false;
	return strcmp(out, "/") != 0; /* never fake the real /sys */
}

static struct cmd *classify(int dirfd, const char *path)
{
	char root[PATH_MAX], abs[PATH_MAX], dir[PATH_MAX], canon[PATH_MAX + 256];
	if (!path || !canon_root(root))
		return NULL;
	if (path[0] == '/')
		snprintf(abs, sizeof(abs), "%s", path);
	else {
		char base[PATH_MAX];
		if (dirfd == AT_FDCWD) {
			if (!getcwd(base, sizeof(base)))
				return NULL;
		} else {
			char lp[64];
			snprintf(lp, sizeof(lp), "/proc/self/fd/%d", dirfd);
			ssize_t n = readlink(lp, base, sizeof(base) - 1);
			if (n <= 0)
				return NULL;
			base[n] = '\0';
		}
		if (snprintf(abs, sizeof(abs), "%s/%s", base, path) >= (int)sizeof(abs))
			return NULL;
	}
	char *slash = strrchr(abs, '/');
	const char *name = slash + 1;
	*slash = '\0';
	if (!realpath(*abs ? abs : "/", dir))
		return NULL;
	snprintf(canon, sizeof(canon), "%s/%s", dir, name);
	size_t rl = strlen(root);
	if (strncmp(canon, root, rl) != 0 || canon[rl] != '/')
		return NULL;
	const char *rel = canon + rl;

	struct cmd c = { .refs = 0 };
	char a[256], b[256], extra;
	if (strcmp(rel, "/sys/bus/pci/drivers_probe") == 0)
		c.kind = CMD_PROBE;
	else if (sscanf(rel, DRIVERS "/%255[^/]/%255[^/]%c", a, b, &extra) == 2) {
		if (strcmp(b, "bind") == 0)
			c.kind = CMD_BIND;
		else if (strcmp(b, "unbind") == 0)
			c.kind = CMD_UNBIND;
		else if (strcmp(b, "new_id") == 0)
			c.kind = CMD_NEW_ID;
		else if (strcmp(b, "remove_id") == 0)
			c.kind = CMD_REMOVE_ID;
		else
			return NULL;
		snprintf(c.arg, sizeof(c.arg), "%s", a);
	} else if (sscanf(rel, DEVICES "/%255[^/]/%255[^/]%c", a, b, &extra) == 2 &&
	           strcmp(b, "driver_override") == 0) {
		c.kind = CMD_OVERRIDE;
		snprintf(c.arg, sizeof(c.arg), "%s", a);
	} else
		return NULL;
	snprintf(c.root, sizeof(c.root), "%s", root);
	struct cmd *ret = malloc(sizeof(*ret));
	if (ret)
		*ret = c;
	return ret;
}

static void track(int fd, struct cmd *c)
{
	if (fd < 0 || fd >= MAX_FDS) {
		if (c && c->refs == 0)
			free(c);
		return;
	}
	c->refs++;
	tracked[fd] = c;
}

/* Apply what stdio wrote into the memfd behind fd; 0 or -errno. */
static int commit(int fd)
{
	if (fd < 0 || fd >= MAX_FDS || !tracked[fd])
		return 0;
	struct stat st;
	char buf[4096];
	if (fstat(fd, &st) < 0 || st.st_size <= 0)
		return 0;
	size_t len = st.st_size < (off_t)sizeof(buf) ? (size_t)st.st_size : sizeof(buf) - 1;
	ssize_t n = pread(fd, buf, len, 0);
	if (ftruncate(fd, 0) < 0 || lseek(fd, 0, SEEK_SET) < 0 || n < 0)
		return -EIO;
	return apply(tracked[fd], buf, (size_t)n);
}

static void untrack(int fd)
{
	if (fd < 0 || fd >= MAX_FDS || !tracked[fd])
		return;
	if (--tracked[fd]->refs == 0)
		free(tracked[fd]);
	tracked[fd] = NULL;
}

static int open_cmd(struct cmd *c, int flags)
{
	/* The name lets an exec'd program (/bin/echo) find out what its fd is. */
	char name[300];
	snprintf(name, sizeof(name), "fakesys:%d:%s", (int)c->kind, c->arg);
	int fd = memfd_create(name, (flags & O_CLOEXEC) ? MFD_CLOEXEC : 0);
	if (fd < 0) {
		int e = errno;
		free(c);
		errno = e;
		return -1;
	}
	track(fd, c);
	return fd;
}

/* After exec, pick up command fds inherited from the shell ("echo x > bind" run by /bin/echo). */
__attribute__((constructor)) static void adopt_inherited(void)
{
	char root[PATH_MAX];
	if (!canon_root(root))
		return;
	init();
	for (int fd = 0; fd < 64; fd++) {
		char lp[64], t[PATH_MAX];
		int kind, off = 0;
		snprintf(lp, sizeof(lp), "/proc/self/fd/%d", fd);
		ssize_t n = readlink(lp, t, sizeof(t) - 1);
		if (n <= 0)
			continue;
		t[n] = '\0';
		if (sscanf(t, "/memfd:fakesys:%d:%n", &kind, &off) != 1 || off == 0 || kind < 0 || kind > CMD_OVERRIDE)
			continue;
		struct cmd *c = calloc(1, sizeof(*c));
		if (!c)
			return;
		c->kind = (enum cmd_kind)kind;
		snprintf(c->arg, sizeof(c->arg), "%.*s", (int)strcspn(t + off, " "), t + off);
		snprintf(c->root, sizeof(c->root), "%s", root);
		track(fd, c);
	}
}

static bool wants_write(int flags)
{
	return (flags & O_ACCMODE) == O_WRONLY || (flags & O_ACCMODE) == O_RDWR;
}

/* ---- the interposed functions ---- */

static int do_openat(int dirfd, const char *path, int flags, mode_t mode)
{
	init();
	if (wants_write(flags)) {
		struct cmd *c = classify(dirfd, path);
		if (c)
			return open_cmd(c, flags);
	}
	return real_openat(dirfd, path, flags, mode);
}

#define MODE_ARG(flags) ({ mode_t _m = 0; if ((flags) & (O_CREAT | O_TMPFILE)) { va_list ap; va_start(ap, flags); _m = va_arg(ap, mode_t); va_end(ap); } _m; })

int open(const char *path, int flags, ...) { return do_openat(AT_FDCWD, path, flags, MODE_ARG(flags)); }
int open64(const char *path, int flags, ...) { return do_openat(AT_FDCWD, path, flags, MODE_ARG(flags)); }
int openat(int dirfd, const char *path, int flags, ...) { return do_openat(dirfd, path, flags, MODE_ARG(flags)); }
int openat64(int dirfd, const char *path, int flags, ...) { return do_openat(dirfd, path, flags, MODE_ARG(flags)); }
int __open_2(const char *path, int flags);
int __open_2(const char *path, int flags) { return do_openat(AT_FDCWD, path, flags, 0); }
int __open64_2(const char *path, int flags);
int __open64_2(const char *path, int flags) { return do_openat(AT_FDCWD, path, flags, 0); }
int __openat_2(int dirfd, const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags) { return do_openat(dirfd, path, flags, 0); }
int __openat64_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags) { return do_openat(dirfd, path, flags, 0); }

ssize_t write(int fd, const void *data, size_t len)
{
	init();
	if (fd >= 0 && fd < MAX_FDS && tracked[fd]) {
		if (len == 0)
			return 0; /* sysfs never calls store() for an empty write */
		int r = apply(tracked[fd], data, len);
		if (r < 0) {
			errno = -r;
			return -1;
		}
		return (ssize_t)len;
	}
	return real_write(fd, data, len);
}

int close(int fd)
{
	init();
	int r = commit(fd);
	untrack(fd);
	int k = real_close(fd);
	if (r < 0) {
		errno = -r;
		return -1;
	}
	return k;
}

/* newfd is about to be replaced: apply what is pending there first. */
static void dup_prepare(int oldfd, int newfd)
{
	if (newfd >= 0 && newfd != oldfd) {
		commit(newfd);
		untrack(newfd);
	}
}

static void dup_track(int oldfd, int newfd)
{
	if (newfd != oldfd && oldfd >= 0 && oldfd < MAX_FDS && tracked[oldfd])
		track(newfd, tracked[oldfd]);
}

int dup2(int oldfd, int newfd)
{
	init();
	if (fcntl(oldfd, F_GETFD) >= 0)
		dup_prepare(oldfd, newfd);
	int r = real_dup2(oldfd, newfd);
	if (r >= 0)
		dup_track(oldfd, newfd);
	return r;
}

int dup3(int oldfd, int newfd, int flags)
{
	init();
	if (fcntl(oldfd, F_GETFD) >= 0)
		dup_prepare(oldfd, newfd);
	int r = real_dup3(oldfd, newfd, flags);
	if (r >= 0)
		dup_track(oldfd, newfd);
	return r;
}

int dup(int oldfd)
{
	init();
	int r = fcntl(oldfd, F_DUPFD, 0);
	if (r >= 0 && oldfd >= 0 && oldfd < MAX_FDS && tracked[oldfd])
		track(r, tracked[oldfd]);
	return r;
}

static int stream_commit(FILE *f)
{
	int fd = fileno(f);
	int r = commit(fd);
	if (r < 0) {
		f->_flags |= 0x20; /* _IO_ERR_SEEN: what ferror() reports */
		errno = -r;
		return EOF;
	}
	return 0;
}

int fflush(FILE *f)
{
	init();
	int r = real_fflush(f);
	if (!f) {
		for (int fd = 0; fd < MAX_FDS; fd++)
			commit(fd);
		return r;
	}
	if (r == 0)
		r = stream_commit(f);
	return r;
}

int fclose(FILE *f)
{
	init();
	int fd = fileno(f);
	int r = real_fflush(f) == 0 ? stream_commit(f) : EOF;
	int e = errno;
	untrack(fd);
	int k = real_fclose(f);
	if (r != 0) {
		errno = e;
		return EOF;
	}
	return k;
}

static FILE *do_fopen(const char *path, const char *mode)
{
	init();
	if (mode[0] == 'w' || mode[0] == 'a' || strchr(mode, '+')) {
		struct cmd *c = classify(AT_FDCWD, path);
		if (c) {
			int fd = open_cmd(c, strchr(mode, 'e') ? O_CLOEXEC : 0);
			if (fd < 0)
				return NULL;
			FILE *f = fdopen(fd, mode[0] == 'a' ? "a" : "w");
			if (!f) {
				untrack(fd);
				real_close(fd);
			}
			return f;
		}
	}
	return real_fopen(path, mode);
}

FILE *fopen(const char *path, const char *mode) { return do_fopen(path, mode); }
FILE *fopen64(const char *path, const char *mode) { return do_fopen(path, mode); }

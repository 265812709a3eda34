/* fakesys.so: an LD_PRELOAD fake kernel for the fake sysfs under
 * $PVE_GPU_BACKUP_ROOT. Writes to the PCI command files (drivers/<drv>/bind,
 * unbind, new_id, remove_id, drivers_probe, <dev>/driver_override) get the
 * kernel's semantics; every other file is left to the real libc.
 *
 * Command fds are memfds: a direct write() is applied at once (and may fail
 * with the kernel's errno); bytes that reach the fd through stdio's internal
 * write (bash's builtin echo) are applied at the next fflush/fclose/close/dup2
 * of that fd, and a failure sets the FILE's error flag so bash reports
 * "echo: write error: ...". What a write does is in fakesys-kernel.c. */
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

#include "fakesys.h"

#define MAX_FDS 4096
#define DRIVERS "/sys/bus/pci/drivers"
#define DEVICES "/sys/devices/pci0000:00"

static struct cmd *tracked[MAX_FDS];

int (*real_open)(const char *, int, ...) FAKESYS_HIDDEN;
ssize_t (*real_write)(int, const void *, size_t) FAKESYS_HIDDEN;
int (*real_close)(int) FAKESYS_HIDDEN;
static int (*real_openat)(int, const char *, int, ...);
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
	return fakesys_apply(tracked[fd], buf, (size_t)n);
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
		int r = fakesys_apply(tracked[fd], data, len);
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

#include <ctype.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "fileio.h"
#include "rootfs.h"
#include "state.h"

#define STATE_HEADER "# guests parked by pve-gpu-backup-hook; started again by the hook or by 'pve-gpu-backup-hook recover'\n"

const char *park_state_to_string(enum park_state s)
{
	return s == PARK_RESTORE_FAILED ? "restore-failed" : s == PARK_STOPPING ? "stopping" : "parked";
}

/* As Proxmox: 100..999999999 (the foundation's vmid_valid, kept local to stand alone). */
static bool vmid_ok(unsigned long long v)
{
	return v >= 100 && v <= 999999999;
}

static const char *type_name(enum guest_type t)
{
	return t == GUEST_LXC ? "lxc" : "qemu";
}

/* A field value must be one token of printable characters. */
static bool token_ok(const char *s)
{
	if (strempty(s))
		return false;
	for (; *s; s++)
		if (!isgraph((unsigned char)*s))
			return false;
	return true;
}

void parked_guest_release(struct parked_guest *g)
{
	free(g->devices);
	free(g->job);
	free(g->boot_id);
	for (size_t i = 0; i < g->n_drivers; i++)
		free(g->drivers[i].driver);
	free(g->drivers);
	*g = (struct parked_guest){ 0 };
}

void parked_set_release(struct parked_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		parked_guest_release(&s->guests[i]);
	free(s->guests);
	*s = (struct parked_set){ 0 };
}

struct parked_guest *state_find(const struct parked_set *s, unsigned vmid)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->guests[i].vmid == vmid)
			return &s->guests[i];
	return NULL;
}

static int guest_copy(const struct parked_guest *g, struct parked_guest *ret)
{
	struct parked_guest c = *g;
	c.devices = NULL;
	c.job = c.boot_id = NULL;
	c.drivers = NULL;
	c.n_drivers = 0;
	if (g->n_devices && !(c.devices = malloc(g->n_devices * sizeof(*c.devices))))
		goto oom;
	if (g->n_devices)
		memcpy(c.devices, g->devices, g->n_devices * sizeof(*c.devices));
	if ((g->job && !(c.job = strdup(g->job))) || (g->boot_id && !(c.boot_id = strdup(g->boot_id))))
		goto oom;
	if (g->n_drivers && !(c.drivers = calloc(g->n_drivers, sizeof(*c.drivers))))
		goto oom;
	for (; c.n_drivers < g->n_drivers; c.n_drivers++) {
		c.drivers[c.n_drivers].addr = g->drivers[c.n_drivers].addr;
		if (!(c.drivers[c.n_drivers].driver = strdup(g->drivers[c.n_drivers].driver)))
			goto oom;
	}
	*ret = c;
	return 0;
oom:
	parked_guest_release(&c);
	return -ENOMEM;
}

int state_add(struct parked_set *s, const struct parked_guest *g)
{
	if (!vmid_ok(g->vmid) || (g->for_vmid && !vmid_ok(g->for_vmid)))
		return -EINVAL;
	if ((g->job && !token_ok(g->job)) || (g->boot_id && !token_ok(g->boot_id)))
		return -EINVAL;
	for (size_t i = 0; i < g->n_drivers; i++)
		if (!token_ok(g->drivers[i].driver) || strchr(g->drivers[i].driver, '='))
			return -EINVAL;
	struct parked_guest c;
	int r = guest_copy(g, &c);
	if (r < 0)
		return r;
	struct parked_guest *old = state_find(s, g->vmid);
	if (old) {
		parked_guest_release(old);
		*old = c;
		return 0;
	}
	struct parked_guest *slot = array_push(&s->guests, &s->n, &s->cap, sizeof(*slot));
	if (!slot) {
		parked_guest_release(&c);
		return -ENOMEM;
	}
	*slot = c;
	return 0;
}

int state_remove(struct parked_set *s, unsigned vmid)
{
	struct parked_guest *g = state_find(s, vmid);
	if (!g)
		return -ENOENT;
	parked_guest_release(g);
	size_t i = (size_t)(g - s->guests);
	memmove(g, g + 1, (s->n - i - 1) * sizeof(*g));
	s->n--;
	return 0;
}

int parked_guest_format(const struct parked_guest *g, char **ret)
{
	char *buf = NULL, a[PCI_ADDR_STRLEN];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return -ENOMEM;
	fprintf(f, "vmid=%u type=%s state=%s", g->vmid, type_name(g->type), park_state_to_string(g->state));
	if (g->for_vmid)
		fprintf(f, " for=%u", g->for_vmid);
	for (size_t i = 0; i < g->n_devices; i++)
		fprintf(f, "%s%s", i ? "," : " devices=", pci_addr_format(&g->devices[i], a));
	fprintf(f, " parked-at=%lld", g->parked_at);
	if (g->job)
		fprintf(f, " job=%s", g->job);
	if (g->boot_id)
		fprintf(f, " boot=%s", g->boot_id);
	if (g->pid)
		fprintf(f, " pid=%u", g->pid);
	for (size_t i = 0; i < g->n_drivers; i++)
		fprintf(f, " driver=%s=%s", pci_addr_format(&g->drivers[i].addr, a), g->drivers[i].driver);
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	*ret = buf;
	return 0;
}

static bool parse_ull(const char *s, unsigned long long *ret)
{
	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end)
		return false;
	*ret = v;
	return true;
}

static int parse_devices(char *v, struct parked_guest *g)
{
	size_t cap = 0;
	char *save = NULL;
	for (char *t = strtok_r(v, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		struct pci_addr *a = array_push(&g->devices, &g->n_devices, &cap, sizeof(*a));
		if (!a)
			return -ENOMEM;
		if (pci_addr_parse(t, false, a) < 0)
			return -EINVAL;
	}
	return g->n_devices ? 0 : -EINVAL;
}

static int parse_driver(char *v, size_t *cap, struct parked_guest *g)
{
	char *eq = strchr(v, '=');
	if (!eq || !token_ok(eq + 1))
		return -EINVAL;
	struct parked_driver *d = array_push(&g->drivers, &g->n_drivers, cap, sizeof(*d));
	if (!d)
		return -ENOMEM;
	if (pci_addr_parse_n(v, (size_t)(eq - v), false, &d->addr) < 0 || !(d->driver = strdup(eq + 1))) {
		g->n_drivers--;
		return -EINVAL;
	}
	return 0;
}

static int parse_field(char *key, char *v, size_t *drivers_cap, unsigned *seen, struct parked_guest *g, const char **why)
{
	static const char *const keys[] = { "vmid", "type", "state", "for", "devices", "parked-at", "job", "boot", "driver", "pid" };
	unsigned long long n;
	size_t k;
	for (k = 0; k < ELEMENTSOF(keys) && !streq(key, keys[k]); k++)
		;
	if (k == ELEMENTSOF(keys)) {
		*why = "unknown field";
		return -EINVAL;
	}
	if (k != 8 && (*seen & (1u << k))) {
		*why = "field given twice";
		return -EINVAL;
	}
	*seen |= 1u << k;
	*why = "bad value";
	switch (k) {
	case 0:
		if (!parse_ull(v, &n) || !vmid_ok(n))
			return -EINVAL;
		g->vmid = (unsigned)n;
		return 0;
	case 1:
		if (streq(v, "qemu"))
			g->type = GUEST_QEMU;
		else if (streq(v, "lxc"))
			g->type = GUEST_LXC;
		else
			return -EINVAL;
		return 0;
	case 2:
		if (streq(v, "parked"))
			g->state = PARK_PARKED;
		else if (streq(v, "restore-failed"))
			g->state = PARK_RESTORE_FAILED;
		else if (streq(v, "stopping"))
			g->state = PARK_STOPPING;
		else
			return -EINVAL;
		return 0;
	case 3:
		if (!parse_ull(v, &n) || !vmid_ok(n))
			return -EINVAL;
		g->for_vmid = (unsigned)n;
		return 0;
	case 4:
		return parse_devices(v, g);
	case 5:
		if (!parse_ull(v, &n) || n > (unsigned long long)INT64_MAX)
			return -EINVAL;
		g->parked_at = (long long)n;
		return 0;
	case 6:
	case 7: {
		char **dst = k == 6 ? &g->job : &g->boot_id;
		if (!token_ok(v))
			return -EINVAL;
		return (*dst = strdup(v)) ? 0 : -ENOMEM;
	}
	case 9:
		if (!parse_ull(v, &n) || n == 0 || n > 0x7fffffff)
			return -EINVAL;
		g->pid = (unsigned)n;
		return 0;
	default:
		return parse_driver(v, drivers_cap, g);
	}
}

int parked_guest_parse(const char *line, struct parked_guest *ret, char **ret_reason)
{
	_cleanup_free_ char *copy = strdup(line);
	if (!copy)
		return -ENOMEM;
	struct parked_guest g = { 0 };
	size_t drivers_cap = 0;
	unsigned seen = 0;
	char *save = NULL;
	int r = 0;
	const char *why = NULL;
	char *tok;
	for (tok = strtok_r(copy, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		char *eq = strchr(tok, '=');
		if (!eq) {
			why = "not key=value";
			r = -EINVAL;
			break;
		}
		*eq = '\0';
		r = parse_field(tok, eq + 1, &drivers_cap, &seen, &g, &why);
		if (r < 0)
			break;
	}
	const unsigned required = 1u << 0 | 1u << 1 | 1u << 2 | 1u << 5;
	if (r == 0 && (seen & required) != required) {
		r = -EINVAL;
		why = "vmid, type, state or parked-at missing";
		tok = NULL;
	}
	if (r < 0) {
		if (ret_reason && r != -ENOMEM &&
		    asprintf(ret_reason, tok ? "%s in '%s'" : "%s", why, tok ? tok : "") < 0)
			*ret_reason = NULL;
		parked_guest_release(&g);
		return r;
	}
	*ret = g;
	return 0;
}

/* Our own directory: a real directory, owned by root or us, writable by nobody else. */
static int check_owned(const struct stat *st, bool dir)
{
	if (S_ISLNK(st->st_mode))
		return -ELOOP;
	if (dir ? !S_ISDIR(st->st_mode) : !S_ISREG(st->st_mode))
		return dir ? -ENOTDIR : -EINVAL;
	if (st->st_uid != 0 && st->st_uid != geteuid())
		return -EPERM;
	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return -EPERM;
	return 0;
}

static int state_dir_check(bool create)
{
	_cleanup_free_ char *dir = root_path(STATE_DIR);
	if (!dir)
		return -ENOMEM;
	struct stat st;
	if (lstat(dir, &st) < 0) {
		if (errno != ENOENT || !create)
			return -errno;
		_cleanup_free_ char *parent = root_path("/var/lib");
		if (!parent)
			return -ENOMEM;
		int r = mkdir_p(parent, 0755);
		if (r < 0)
			return r;
		if (mkdir(dir, 0700) < 0 && errno != EEXIST)
			return -errno;
		if (lstat(dir, &st) < 0)
			return -errno;
	}
	return check_owned(&st, true);
}

int state_lock(int timeout_ms)
{
	int r = state_dir_check(true);
	if (r < 0)
		return r;
	_cleanup_free_ char *lock = root_path(STATE_LOCK);
	if (!lock)
		return -ENOMEM;
	return lock_file(lock, timeout_ms);
}

void state_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

int state_load(struct parked_set *ret, struct problem_list *problems)
{
	*ret = (struct parked_set){ 0 };
	int r = state_dir_check(false);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	_cleanup_close_ int fd = root_open(STATE_FILE, O_RDONLY | O_NOCTTY, 0, true);
	if (fd == -ENOENT)
		return 0;
	if (fd < 0)
		return fd;
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if ((r = check_owned(&st, false)) < 0)
		return r;
	_cleanup_fclose_ FILE *f = fdopen(fd, "re");
	if (!f)
		return -errno;
	TAKE_FD(fd);

	struct parked_set s = { 0 };
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	unsigned lineno = 0;
	ssize_t len;
	r = 0;
	errno = 0;
	while ((len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		char *p = line + strspn(line, " \t");
		if (!*p || *p == '#')
			continue;
		struct parked_guest g;
		_cleanup_free_ char *why = NULL;
		int k = parked_guest_parse(p, &g, &why);
		if (k == -ENOMEM) {
			r = k;
			break;
		}
		if (k == 0 && state_find(&s, g.vmid)) {
			parked_guest_release(&g);
			k = -EINVAL;
			why = strdup("a second record of this vmid");
		}
		if (k < 0) {
			problem_add(problems, STATE_FILE, lineno, "bad record: %s", why ? why : "cannot parse");
			r = -EBADMSG;
			continue;
		}
		struct parked_guest *slot = array_push(&s.guests, &s.n, &s.cap, sizeof(*slot));
		if (!slot) {
			parked_guest_release(&g);
			r = -ENOMEM;
			break;
		}
		*slot = g;
	}
	if (r == 0 && ferror(f))
		r = errno ? -errno : -EIO;
	if (r < 0) {
		parked_set_release(&s);
		return r;
	}
	*ret = s;
	return 0;
}

int state_save(const struct parked_set *s)
{
	int r = state_dir_check(true);
	if (r < 0)
		return r;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return -ENOMEM;
	/* An empty set is an empty file: the hook's no-op path tells by its size alone. */
	if (s->n > 0)
		fputs(STATE_HEADER, f);
	for (size_t i = 0; i < s->n && r == 0; i++) {
		_cleanup_free_ char *rec = NULL;
		r = parked_guest_format(&s->guests[i], &rec);
		if (r == 0)
			fprintf(f, "%s\n", rec);
	}
	if (fclose(f) != 0 && r == 0)
		r = -ENOMEM;
	_cleanup_free_ char *data = buf;
	if (r < 0)
		return r;
	_cleanup_free_ char *path = root_path(STATE_FILE);
	if (!path)
		return -ENOMEM;
	return write_file_atomic(path, data, len, 0600, (uid_t)-1, (gid_t)-1);
}

/* First line of a small file under the root, as one printable token. */
static int read_token(const char *path, char **ret)
{
	char *s;
	int r = root_read_line(path, &s);
	if (r < 0)
		return r;
	size_t l = strlen(s);
	while (l > 0 && isspace((unsigned char)s[l - 1]))
		s[--l] = '\0';
	if (!token_ok(s)) {
		free(s);
		return -EBADMSG;
	}
	*ret = s;
	return 0;
}

int state_read_job_upid(char **ret)
{
	return read_token("/var/run/vzdump.pid", ret);
}

int state_read_boot_id(char **ret)
{
	return read_token("/proc/sys/kernel/random/boot_id", ret);
}

int state_vzdump_running(void)
{
	/* vzdump's getlock holds an flock(LOCK_EX) on it for the whole job. */
	_cleanup_close_ int fd = root_open("/var/run/vzdump.lock", O_RDONLY | O_NOCTTY, 0, true);
	if (fd == -ENOENT)
		return 0;
	if (fd < 0)
		return fd;
	if (flock(fd, LOCK_SH | LOCK_NB) == 0)
		return 0;  /* released with the fd */
	return errno == EWOULDBLOCK ? 1 : -errno;
}

/* The node: its name, this node's guests, and what else node_load is asked for. */
#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>

#include "guest.h"
#include "macro.h"
#include "node.h"
#include "rootfs.h"
#include "strutil.h"

bool vmid_valid(unsigned long long vmid)
{
	return vmid >= 100 && vmid <= 999999999;
}

int vmid_parse(const char *s, unsigned *ret)
{
	unsigned long long v;
	if (!s || *s == '0' || parse_uint(s, 999999999, &v) < 0 || !vmid_valid(v))
		return -EINVAL;
	*ret = (unsigned)v;
	return 0;
}

int node_local_name(char **ret)
{
	_cleanup_free_ char *target = NULL;
	if (root_readlink("/etc/pve/local", &target) == 0) {
		const char *base = strrchr(target, '/');
		base = base ? base + 1 : target;
		if (*base && !streq(base, ".") && !streq(base, "..")) {
			*ret = strdup(base);
			return *ret ? 0 : -ENOMEM;
		}
	}
	/* pmxcfs: uname's nodename cut at the first dot */
	struct utsname u;
	if (uname(&u) < 0)
		return -errno;
	u.nodename[strcspn(u.nodename, ".")] = '\0';
	if (!*u.nodename)
		return -EINVAL;
	*ret = strdup(u.nodename);
	return *ret ? 0 : -ENOMEM;
}

static int cmp_guest(const void *a, const void *b)
{
	unsigned x = ((const struct guest *)a)->vmid, y = ((const struct guest *)b)->vmid;
	return (x > y) - (x < y);
}

/* vmid, then VM before CT: a vmid with both configs keeps its VM */
static int cmp_guest_type(const void *a, const void *b)
{
	int c = cmp_guest(a, b);
	return c ? c : (int)((const struct guest *)a)->type - (int)((const struct guest *)b)->type;
}

struct guest *node_find_guest(const struct node *node, unsigned vmid)
{
	struct guest key = { .vmid = vmid };
	if (node->n_guests == 0)
		return NULL;
	return bsearch(&key, node->guests, node->n_guests, sizeof(*node->guests), cmp_guest);
}

/* Insert keeping the vmid order; an existing guest of that vmid is replaced. */
static int insert_guest(struct node *node, struct guest *g)
{
	struct guest *old = node_find_guest(node, g->vmid);
	if (old) {
		guest_release(old);
		*old = *g;
		return 0;
	}
	if (!array_push(&node->guests, &node->n_guests, &node->cap_guests, sizeof(*g)))
		return -ENOMEM;
	size_t i = node->n_guests - 1;
	while (i > 0 && node->guests[i - 1].vmid > g->vmid) {
		node->guests[i] = node->guests[i - 1];
		i--;
	}
	node->guests[i] = *g;
	return 0;
}

/* /etc/pve/nodes/<node>/<kind>, as Proxmox's config_file() builds it; the
 * /etc/pve/<kind> link to it when the node directory is not there. */
static int open_guest_dir(const struct node *node, const char *kind)
{
	char path[512];
	snprintf(path, sizeof(path), "/etc/pve/nodes/%s/%s", node->name, kind);
	int fd = root_open(path, O_RDONLY | O_DIRECTORY, 0, false);
	if (fd == -ENOENT) {
		snprintf(path, sizeof(path), "/etc/pve/%s", kind);
		fd = root_open(path, O_RDONLY | O_DIRECTORY, 0, false);
	}
	return fd;
}

/* Read name under dirfd into *buf (grown as needed, reused across guests). */
static int read_at(int dirfd, const char *name, char **buf, size_t *cap)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	size_t len = 0;
	for (;;) {
		if (*cap < len + 4096 || *cap < (size_t)st.st_size + 2) {
			size_t ncap = (*cap ? *cap * 2 : 8192) + (size_t)st.st_size;
			if (ncap > (64u << 20))
				return -EFBIG;
			char *n = realloc(*buf, ncap);
			if (!n)
				return -ENOMEM;
			*buf = n;
			*cap = ncap;
		}
		ssize_t k = read(fd, *buf + len, *cap - len - 1);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		len += (size_t)k;
		/* a short read of a regular file is its end: saves a read per guest */
		if (k == 0 || len >= (size_t)st.st_size)
			break;
	}
	(*buf)[len] = '\0';
	return 0;
}

static int load_one(struct node *node, int dirfd, enum guest_type type, unsigned vmid, char **buf, size_t *cap)
{
	char name[32], file[64];
	snprintf(name, sizeof(name), "%u.conf", vmid);
	snprintf(file, sizeof(file), "/etc/pve/%s/%u.conf", type == GUEST_QEMU ? "qemu-server" : "lxc", vmid);
	int r = read_at(dirfd, name, buf, cap);
	if (r < 0)
		return r;
	struct guest g;
	if (type == GUEST_QEMU) {
		struct vm_config c;
		if ((r = vm_config_parse_buf(*buf, vmid, file, &c, &node->problems)) < 0)
			return r;
		r = guest_from_vm(node, &c, file, &g);
		vm_config_release(&c);
	} else {
		struct lxc_config c;
		if ((r = lxc_config_parse_buf(*buf, vmid, file, &c, &node->problems)) < 0)
			return r;
		r = guest_from_ct(node, &c, file, &g);
		lxc_config_release(&c);
	}
	if (r < 0)
		return r;
	/* appended here; node_load sorts once at the end */
	struct guest *slot = array_push(&node->guests, &node->n_guests, &node->cap_guests, sizeof(*slot));
	if (!slot) {
		guest_release(&g);
		return -ENOMEM;
	}
	*slot = g;
	return 0;
}

static bool conf_name(const char *name, unsigned *ret_vmid)
{
	char id[16];
	size_t l = strlen(name);
	if (l < 6 || l - 5 >= sizeof(id) || strcmp(name + l - 5, ".conf") != 0)
		return false;
	memcpy(id, name, l - 5);
	id[l - 5] = '\0';
	return vmid_parse(id, ret_vmid) == 0;
}

static int load_dir(struct node *node, enum guest_type type, char **buf, size_t *cap)
{
	const char *kind = type == GUEST_QEMU ? "qemu-server" : "lxc";
	DIR *d;
	int r = fd_opendir(open_guest_dir(node, kind), &d);
	if (r < 0)
		return r;
	struct dirent *de;
	while ((de = readdir(d))) {
		unsigned vmid;
		if (!conf_name(de->d_name, &vmid))
			continue;
		r = load_one(node, dirfd(d), type, vmid, buf, cap);
		if (r == -ENOMEM)
			break;
		if (r < 0)
			problem_add(&node->problems, NULL, 0, "cannot read '/etc/pve/%s/%s': %s", kind, de->d_name, strerror(-r));
		r = 0;
	}
	closedir(d);
	return r;
}

static int ensure_name_and_mappings(struct node *node, unsigned what)
{
	int r;
	if (!node->name && (r = node_local_name(&node->name)) < 0)
		return r;
	if ((what & NODE_LOAD_VMS) && !node->mappings_loaded) {
		r = mapping_load(node->name, &node->mappings, &node->problems);
		if (r == -ENOMEM)
			return r;
		if (r < 0)
			problem_add(&node->problems, "/etc/pve/mapping/pci.cfg", 0, "cannot read: %s", strerror(-r));
		node->mappings_loaded = true;
	}
	return 0;
}

static int cmp_unsigned(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
	return (x > y) - (x < y);
}

/* vmids with a pid file in dir: one directory read instead of a failed open per stopped VM. */
static int pid_files(const char *dir, unsigned **list, size_t *n, size_t *cap)
{
	DIR *d;
	int r = root_opendir(dir, &d);
	if (r < 0)
		return r;
	struct dirent *de;
	while ((de = readdir(d))) {
		char id[16];
		size_t l = strlen(de->d_name);
		unsigned vmid;
		if (l < 5 || l - 4 >= sizeof(id) || strcmp(de->d_name + l - 4, ".pid") != 0)
			continue;
		memcpy(id, de->d_name, l - 4);
		id[l - 4] = '\0';
		if (vmid_parse(id, &vmid) < 0)
			continue;
		unsigned *slot = array_push(list, n, cap, sizeof(*slot));
		if (!slot) {
			closedir(d);
			return -ENOMEM;
		}
		*slot = vmid;
	}
	closedir(d);
	return 0;
}

/* Running state for the guests in [from, to) of node->guests. */
static void load_running(struct node *node, struct guest *from, struct guest *to)
{
	_cleanup_free_ unsigned *cts = NULL, *pids = NULL;
	size_t n_cts = 0, n_pids = 0, cap_pids = 0;
	bool have_cts = false, have_pids = false;
	if (to - from > 1) {
		int r1 = pid_files("/run/qemu-server", &pids, &n_pids, &cap_pids);
		int r2 = pid_files("/var/run/qemu-server", &pids, &n_pids, &cap_pids);
		/* no pid directory at all: no VM runs; any other error: ask each VM */
		have_pids = (r1 == 0 || r1 == -ENOENT) && (r2 == 0 || r2 == -ENOENT);
		if (have_pids && n_pids > 1)
			qsort(pids, n_pids, sizeof(*pids), cmp_unsigned);
	}
	for (struct guest *g = from; g < to; g++) {
		if (g->type == GUEST_QEMU) {
			g->pid = 0;
			g->running = false;
			if (!have_pids || (n_pids > 0 && bsearch(&g->vmid, pids, n_pids, sizeof(*pids), cmp_unsigned)))
				g->running = vm_running(g->vmid, &g->pid);
			continue;
		}
		if (!have_cts) {
			int r = ct_running_list(&cts, &n_cts);
			if (r < 0 && r != -ENOENT)
				problem_add(&node->problems, "/proc/net/unix", 0, "cannot read: %s", strerror(-r));
			have_cts = true;
		}
		g->running = n_cts > 0 && bsearch(&g->vmid, cts, n_cts, sizeof(*cts), cmp_unsigned) != NULL;
	}
}

static int load_extras(struct node *node, unsigned what)
{
	int r;
	if (what & NODE_LOAD_RESERVATIONS) {
		free(node->reservations);
		node->reservations = NULL;
		node->n_reservations = 0;
		r = reservations_load(&node->reservations, &node->n_reservations, &node->problems);
		if (r == -ENOMEM)
			return r;
		if (r < 0)
			problem_add(&node->problems, "/run/qemu-server/pci-id-reservations", 0, "cannot read: %s", strerror(-r));
	}
	if (what & NODE_LOAD_IOMMU) {
		iommu_groups_free(node->groups, node->n_groups);
		node->groups = NULL;
		node->n_groups = 0;
		r = iommu_groups_load(&node->groups, &node->n_groups);
		if (r == -ENOMEM)
			return r;
		if (r < 0 && r != -ENOENT)
			problem_add(&node->problems, "/sys/kernel/iommu_groups", 0, "cannot read: %s", strerror(-r));
	}
	if (what & NODE_LOAD_HA) {
		r = node_load_ha(node);
		if (r == -ENOMEM)
			return r;
		if (r < 0)
			problem_add(&node->problems, "/etc/pve/ha/resources.cfg", 0, "cannot read: %s", strerror(-r));
	}
	return 0;
}

int node_load(struct node *node, unsigned what)
{
	_cleanup_free_ char *buf = NULL;
	size_t cap = 0;
	int r = ensure_name_and_mappings(node, what), r_vms = -ENOENT, r_cts = -ENOENT;
	if (r < 0)
		return r;
	if (what & NODE_LOAD_VMS) {
		r_vms = load_dir(node, GUEST_QEMU, &buf, &cap);
		if (r_vms == -ENOMEM)
			return r_vms;
		if (r_vms < 0 && r_vms != -ENOENT)
			problem_add(&node->problems, "/etc/pve/qemu-server", 0, "cannot read: %s", strerror(-r_vms));
	}
	if (what & NODE_LOAD_CTS) {
		r_cts = load_dir(node, GUEST_LXC, &buf, &cap);
		if (r_cts == -ENOMEM)
			return r_cts;
		if (r_cts < 0 && r_cts != -ENOENT)
			problem_add(&node->problems, "/etc/pve/lxc", 0, "cannot read: %s", strerror(-r_cts));
	}
	if (node->n_guests > 1)
		qsort(node->guests, node->n_guests, sizeof(*node->guests), cmp_guest_type);
	/* a vmid is either a VM or a CT; a second config for it is a problem, not a guest */
	for (size_t i = 1; i < node->n_guests;) {
		if (node->guests[i].vmid != node->guests[i - 1].vmid) {
			i++;
			continue;
		}
		problem_add(&node->problems, NULL, 0, "guest %u has both a VM and a CT config; the CT config is ignored",
			    node->guests[i].vmid);
		guest_release(&node->guests[i]);
		memmove(&node->guests[i], &node->guests[i + 1], (node->n_guests - i - 1) * sizeof(*node->guests));
		node->n_guests--;
	}
	if (what & NODE_LOAD_RUNNING)
		load_running(node, node->guests, node->guests + node->n_guests);
	if ((r = load_extras(node, what)) < 0)
		return r;
	problem_list_sort(&node->problems);
	if ((what & (NODE_LOAD_VMS | NODE_LOAD_CTS)) && r_vms < 0 && r_cts < 0)
		return (what & NODE_LOAD_VMS) ? r_vms : r_cts;
	return 0;
}

int node_load_guest(struct node *node, unsigned vmid, unsigned what)
{
	_cleanup_free_ char *buf = NULL;
	size_t cap = 0;
	if (!vmid_valid(vmid))
		return -EINVAL;
	int r = ensure_name_and_mappings(node, what | NODE_LOAD_VMS);
	if (r < 0)
		return r;
	/* load into a scratch node sharing nothing, then move the guest over */
	struct node one = { .name = node->name, .mappings = node->mappings };
	for (enum guest_type type = GUEST_QEMU; type <= GUEST_LXC; type++) {
		_cleanup_close_ int fd = open_guest_dir(node, type == GUEST_QEMU ? "qemu-server" : "lxc");
		if (fd < 0)
			continue;
		r = load_one(&one, fd, type, vmid, &buf, &cap);
		if (r != -ENOENT)
			break;
	}
	for (size_t i = 0; i < one.problems.n; i++)
		problem_add(&node->problems, one.problems.items[i].file, one.problems.items[i].line, "%s", one.problems.items[i].message);
	problem_list_release(&one.problems);
	if (r < 0 || one.n_guests == 0) {
		free(one.guests);
		return r < 0 ? r : -ENOENT;
	}
	struct guest g = one.guests[0];
	free(one.guests);
	if (what & NODE_LOAD_RUNNING)
		load_running(node, &g, &g + 1);
	if ((r = insert_guest(node, &g)) < 0) {
		guest_release(&g);
		return r;
	}
	return load_extras(node, what);
}

void node_release(struct node *node)
{
	free(node->name);
	for (size_t i = 0; i < node->n_guests; i++)
		guest_release(&node->guests[i]);
	free(node->guests);
	free(node->reservations);
	iommu_groups_free(node->groups, node->n_groups);
	mapping_table_release(&node->mappings);
	problem_list_release(&node->problems);
	*node = (struct node){ 0 };
}

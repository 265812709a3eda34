/* Moving PCI functions from vfio-pci back to their host drivers (see rebind.h). */
#include <fcntl.h>
#include <string.h>

#include "fileio.h"
#include "rebind.h"
#include "rootfs.h"
#include "strutil.h"

#define VFIO "vfio-pci"
#define POLL_MS 100

static int fail(struct rebind_device *d, enum rebind_step step, const char *path, int error)
{
	d->state = REBIND_FAILED;
	d->failed_step = step;
	d->error = error;
	strcpy_cut(d->error_path, sizeof(d->error_path), path);
	return error;
}

/* One write, the whole value at once, as sysfs wants it. */
static int write_attr(const char *path, const char *value)
{
	_cleanup_close_ int fd = root_open(path, O_WRONLY | O_NOCTTY, 0, true);
	if (fd < 0)
		return fd;
	size_t len = strlen(value);
	ssize_t n = write(fd, value, len);
	if (n < 0)
		return -errno;
	if ((size_t)n != len)
		return -EIO;
	int r = close(TAKE_FD(fd));
	return r < 0 ? -errno : 0;
}

static int write_checked(struct rebind_device *d, const char *path, const char *value)
{
	int r = write_attr(path, value);
	return r < 0 ? fail(d, REBIND_STEP_WRITE, path, r) : 0;
}

/* "0x10de" -> "10de": new_id/remove_id take bare hex. */
static int read_id(struct rebind_device *d, const char *bdf, const char *attr, char ret[static 8])
{
	char path[REBIND_PATH_MAX];
	_cleanup_free_ char *s = NULL;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", bdf, attr);
	int r = root_read_line(path, &s);
	if (r < 0)
		return fail(d, REBIND_STEP_READ, path, r);
	const char *h = strncmp(s, "0x", 2) == 0 ? s + 2 : s;
	if (strlen(h) != 4 || strspn(h, "0123456789abcdefABCDEF") != 4)
		return fail(d, REBIND_STEP_READ, path, -EINVAL);
	memcpy(ret, h, 5);
	return 0;
}

static bool is_held(const struct rebind_options *opts, const struct pci_addr *a, unsigned *ret_vmid)
{
	*ret_vmid = 0;
	if (!opts)
		return false;
	for (size_t i = 0; i < opts->n_holders; i++)
		if (pci_addr_overlaps(&opts->holders[i].addr, a)) {
			*ret_vmid = opts->holders[i].vmid;
			return true;
		}
	return opts->held && opts->held(a, opts->userdata, ret_vmid);
}

static int timeout_of(const struct rebind_options *opts)
{
	return opts && opts->timeout_ms > 0 ? opts->timeout_ms : REBIND_TIMEOUT_MS_DEFAULT;
}

/* Poll the driver link until it shows the target (or, for the kernel's choice, a host driver). */
static int verify(struct rebind_device *d, int timeout_ms)
{
	long long start = now_ms();
	for (;;) {
		int r = rebind_driver_now(&d->addr, d->driver_after);
		if (r < 0) {
			char bdf[PCI_ADDR_STRLEN], path[REBIND_PATH_MAX];
			snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", pci_addr_format(&d->addr, bdf));
			return fail(d, REBIND_STEP_READ, path, r);
		}
		bool done = strempty(d->driver_target) ? !strempty(d->driver_after) && !streq(d->driver_after, VFIO)
		                                       : streq(d->driver_after, d->driver_target);
		long long waited = now_ms() - start;
		if (done)
			return 0;
		if (waited >= timeout_ms) {
			d->waited_ms = (int)waited;
			return fail(d, REBIND_STEP_VERIFY, "", -ETIMEDOUT);
		}
		sleep_ms(POLL_MS);
	}
}

/* The moves themselves; d->driver_before and d->driver_target are filled in. */
static int move(struct rebind_device *d, int timeout_ms)
{
	char bdf[PCI_ADDR_STRLEN], path[REBIND_PATH_MAX], vendor[8], device[8], id[16];
	const char *target = strempty(d->driver_target) ? NULL : d->driver_target;
	int r;

	pci_addr_format(&d->addr, bdf);
	if (target && strchr(target, '/'))
		return fail(d, REBIND_STEP_WRITE, target, -EINVAL);

	/* Pin the target (or clear a stale pin) so nothing else grabs the function once it is free. */
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override", bdf);
	r = write_checked(d, path, target ? target : "\n");
	if (r < 0)
		return r;

	/* Proxmox's new_id entry would hand it straight back to vfio-pci on the next probe. */
	snprintf(path, sizeof(path), "/sys/bus/pci/drivers/%s", VFIO);
	if (root_exists(path)) {
		if ((r = read_id(d, bdf, "vendor", vendor)) < 0 || (r = read_id(d, bdf, "device", device)) < 0)
			return r;
		snprintf(id, sizeof(id), "%s %s", vendor, device);
		snprintf(path, sizeof(path), "/sys/bus/pci/drivers/%s/remove_id", VFIO);
		r = write_attr(path, id);
		if (r < 0 && r != -ENODEV)
			return fail(d, REBIND_STEP_WRITE, path, r);
	}

	if (streq(d->driver_before, VFIO)) {
		snprintf(path, sizeof(path), "/sys/bus/pci/drivers/%s/unbind", VFIO);
		r = write_checked(d, path, bdf);
		if (r < 0)
			return r;
	}

	if (target)
		snprintf(path, sizeof(path), "/sys/bus/pci/drivers/%s/bind", target);
	else
		snprintf(path, sizeof(path), "/sys/bus/pci/drivers_probe");
	r = write_attr(path, bdf);
	if (r < 0) {
		/* Someone (udev, a probe) may have bound it to the target meanwhile. */
		char now[REBIND_DRIVER_MAX];
		if (!target || r != -EBUSY || rebind_driver_now(&d->addr, now) < 0 || !streq(now, target))
			return fail(d, REBIND_STEP_WRITE, path, r);
	}
	return verify(d, timeout_ms);
}

static int rebind_prepared(struct rebind_device *d, const struct rebind_options *opts)
{
	char bdf[PCI_ADDR_STRLEN], path[REBIND_PATH_MAX];
	const char *before = d->driver_before;

	strcpy_cut(d->driver_after, sizeof(d->driver_after), before);
	if (d->bridge) {
		d->state = REBIND_KEPT;
		return 0;
	}
	if (!strempty(d->driver_target) ? streq(before, d->driver_target)
	                                : !strempty(before) && !streq(before, VFIO)) {
		d->state = REBIND_ALREADY;
		return 0;
	}
	if (!strempty(before) && !streq(before, VFIO)) {
		/* Only vfio-pci's functions are ours to move; another driver is the admin's. */
		d->state = REBIND_KEPT;
		return 0;
	}

	int r = move(d, timeout_of(opts));
	if (!strempty(d->driver_target)) {
		/* Left set, the pin would make Proxmox's next vfio-pci bind fail. */
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override", pci_addr_format(&d->addr, bdf));
		int k = write_attr(path, "\n");
		if (r >= 0 && k < 0)
			r = fail(d, REBIND_STEP_WRITE, path, k);
	}
	if (r < 0) {
		/* Say where it really is now: a failed bind leaves it on no driver. */
		char now[REBIND_DRIVER_MAX];
		if (rebind_driver_now(&d->addr, now) == 0)
			strcpy_cut(d->driver_after, sizeof(d->driver_after), now);
		return r;
	}
	d->state = REBIND_REBOUND;
	return 0;
}

static int prepare(struct rebind_device *d, const struct pci_addr *a, const char *driver)
{
	char bdf[PCI_ADDR_STRLEN], path[REBIND_PATH_MAX];

	*d = (struct rebind_device){ .addr = *a };
	if (driver)
		strcpy_cut(d->driver_target, sizeof(d->driver_target), driver);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", pci_addr_format(a, bdf));
	if (!a->has_func || !root_exists(path))
		return fail(d, REBIND_STEP_READ, path, -ENODEV);
	d->bridge = rebind_is_bridge(a);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", bdf);
	int r = rebind_driver_now(a, d->driver_before);
	return r < 0 ? fail(d, REBIND_STEP_READ, path, r) : 0;
}

int rebind_function(const struct pci_addr *a, const char *driver,
                    const struct rebind_options *opts, struct rebind_device *ret)
{
	int r = prepare(ret, a, driver);
	if (r < 0)
		return r;
	if (is_held(opts, a, &ret->held_by)) {
		ret->state = REBIND_HELD;
		ret->held_addr = *a;
		strcpy_cut(ret->driver_after, sizeof(ret->driver_after), ret->driver_before);
		return -EBUSY;
	}
	return rebind_prepared(ret, opts);
}

int rebind_wait_nodes(const char *const *nodes, size_t n, int timeout_ms, size_t *ret_missing)
{
	long long start = now_ms();
	for (;;) {
		size_t i = 0;
		while (i < n && root_exists(nodes[i]))
			i++;
		if (i == n)
			return 0;
		if (now_ms() - start >= timeout_ms) {
			if (ret_missing)
				*ret_missing = i;
			return -ETIMEDOUT;
		}
		sleep_ms(POLL_MS);
	}
}

static int cmp_device(const void *a, const void *b)
{
	return pci_addr_compare(&((const struct rebind_device *)a)->addr, &((const struct rebind_device *)b)->addr);
}

/* Where member m goes; false when the plan leaves it where it is. */
static bool plan_for(const struct pci_addr *m, const struct pci_addr *named, const char *driver_or_null,
                     const struct rebind_options *opts, const char **ret_driver)
{
	*ret_driver = NULL;
	if (opts && opts->targets) {
		for (size_t i = 0; i < opts->n_targets; i++)
			if (pci_addr_overlaps(&opts->targets[i].addr, m)) {
				*ret_driver = opts->targets[i].driver;
				return !strempty(*ret_driver);
			}
		return false;
	}
	if (pci_addr_overlaps(named, m))
		*ret_driver = driver_or_null;
	return true;
}

static int add_group(struct rebind_report *rep, const struct pci_addr *f, const struct pci_addr *named,
                     const char *driver_or_null, const struct rebind_options *opts)
{
	struct rebind_group g;
	int r = rebind_query_group(f, &g);
	if (r < 0) {
		struct rebind_device *d = array_push(&rep->devices, &rep->n_devices, &rep->cap_devices, sizeof(*d));
		if (!d)
			return -ENOMEM;
		int k = prepare(d, f, NULL);
		if (k < 0)
			return k;
		char bdf[PCI_ADDR_STRLEN], path[REBIND_PATH_MAX];
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", pci_addr_format(f, bdf));
		return fail(d, REBIND_STEP_READ, path, r);
	}
	if (strempty(rep->group))
		memcpy(rep->group, g.name, sizeof(rep->group));
	for (size_t i = 0; i < g.n_members && r >= 0; i++) {
		bool dup = false;
		for (size_t j = 0; j < rep->n_devices; j++)
			dup = dup || pci_addr_equal(&rep->devices[j].addr, &g.members[i].addr);
		if (dup)
			continue;
		const char *driver;
		bool move_it = plan_for(&g.members[i].addr, named, driver_or_null, opts, &driver);
		struct rebind_device *d = array_push(&rep->devices, &rep->n_devices, &rep->cap_devices, sizeof(*d));
		if (!d) {
			r = -ENOMEM;
			break;
		}
		r = prepare(d, &g.members[i].addr, driver);
		if (r >= 0 && !move_it)
			d->state = REBIND_KEPT;
	}
	rebind_group_release(&g);
	return r;
}

int rebind_pci_group(const struct pci_addr *a, const char *driver_or_null,
                     const struct rebind_options *opts, struct rebind_report *ret)
{
	_cleanup_free_ struct pci_addr *funcs = NULL;
	struct rebind_report rep = { .group = "" };
	int r;

	*ret = rep;
	int n = pci_addr_expand(a, &funcs);
	if (n < 0)
		return n;
	/* Learn the whole group before writing anything: a missing function stops it all. */
	for (int i = 0; i < n; i++) {
		r = add_group(&rep, &funcs[i], a, driver_or_null, opts);
		if (r < 0) {
			*ret = rep;
			return r;
		}
	}
	qsort(rep.devices, rep.n_devices, sizeof(*rep.devices), cmp_device);
	for (size_t i = 0; i < rep.n_devices; i++)
		strcpy_cut(rep.devices[i].driver_after, sizeof(rep.devices[i].driver_after), rep.devices[i].driver_before);

	_cleanup_close_ int lock_fd = -1;
	if (opts && opts->lock && root_exists("/run/qemu-server")) {
		_cleanup_free_ char *lock_path = root_path(REBIND_PCI_LOCK);
		lock_fd = lock_path ? lock_file(lock_path, opts->lock_timeout_ms > 0 ? opts->lock_timeout_ms : 3000) : -ENOMEM;
		if (lock_fd < 0) {
			*ret = rep;
			return lock_fd;
		}
	}

	/* A running VM holding any member keeps the whole group: vfio needs all of it. */
	const struct rebind_device *holder = NULL;
	for (size_t i = 0; i < rep.n_devices; i++) {
		struct rebind_device *d = &rep.devices[i];
		if (is_held(opts, &d->addr, &d->held_by)) {
			d->state = REBIND_HELD;
			d->held_addr = d->addr;
			if (!holder)
				holder = d;
		}
	}
	if (holder) {
		for (size_t i = 0; i < rep.n_devices; i++)
			if (rep.devices[i].state != REBIND_HELD) {
				rep.devices[i].state = REBIND_HELD;
				rep.devices[i].held_by = holder->held_by;
				rep.devices[i].held_addr = holder->addr;
			}
		*ret = rep;
		return -EBUSY;
	}

	int first = 0;
	for (size_t i = 0; i < rep.n_devices; i++) {
		struct rebind_device *d = &rep.devices[i];
		if (d->state == REBIND_KEPT)
			continue;
		r = rebind_prepared(d, opts);
		if (r < 0 && first == 0)
			first = r;
	}
	*ret = rep;
	return first;
}

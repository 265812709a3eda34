/* PCI facts: functions through libudev, config space through libpci. */
#include <libudev.h>
#include <limits.h>
#include <pci/pci.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <string.h>
#include <sys/types.h>

#include "gpuprobe.h"
#include "macro.h"

/* libpci's error callback must not return: jump back to the caller instead of exit(). */
static jmp_buf pci_jump;
static bool pci_jump_armed;
static char pci_error_text[256];

_printf_(1, 2) __attribute__((noreturn)) static void pci_error_cb(char *msg, ...)
{
	va_list ap;
	va_start(ap, msg);
	vsnprintf(pci_error_text, sizeof(pci_error_text), msg, ap);
	va_end(ap);
	if (pci_jump_armed)
		longjmp(pci_jump, 1);
	abort();   /* never armed: a bug in this file, not a reason to exit(1) silently */
}

_printf_(1, 2) static void pci_quiet_cb(char *msg, ...)
{
	(void) msg;
}

int gpu_pci_open(const char *dump_file, struct pci_access **ret, char **ret_error)
{
	struct pci_access *pacc = pci_alloc();
	if (!pacc)
		return -ENOMEM;
	pacc->error = pci_error_cb;
	pacc->warning = pci_quiet_cb;
	pacc->debug = pci_quiet_cb;
	pacc->method = dump_file ? PCI_ACCESS_DUMP : PCI_ACCESS_SYS_BUS_PCI;
	if (setjmp(pci_jump)) {
		pci_jump_armed = false;
		if (ret_error)
			*ret_error = strdup(pci_error_text);
		gpu_pci_close(pacc);   /* guarded: a second libpci error only leaks it */
		return -EIO;
	}
	pci_jump_armed = true;
	if (dump_file) {
		static char param[] = "dump.name", name[PATH_MAX];
		snprintf(name, sizeof(name), "%s", dump_file);
		pci_set_param(pacc, param, name);
	}
	pci_init(pacc);
	if (dump_file)
		pci_scan_bus(pacc);
	pci_jump_armed = false;
	*ret = pacc;
	return 0;
}

void gpu_pci_close(struct pci_access *pacc)
{
	if (!pacc)
		return;
	if (setjmp(pci_jump)) {
		pci_jump_armed = false;
		return;
	}
	pci_jump_armed = true;
	pci_cleanup(pacc);
	pci_jump_armed = false;
}

static int lookup(struct pci_access *pacc, int flags, uint16_t vendor, uint16_t device, char *buf, size_t size)
{
	buf[0] = '\0';
	if (setjmp(pci_jump)) {
		pci_jump_armed = false;
		buf[0] = '\0';
		return -EIO;
	}
	pci_jump_armed = true;
	if (!pci_lookup_name(pacc, buf, (int) size, flags, vendor, device))
		buf[0] = '\0';
	pci_jump_armed = false;
	return buf[0] ? 0 : -ENOENT;
}

int gpu_pci_name(struct pci_access *pacc, uint16_t vendor, uint16_t device, char *buf, size_t size)
{
	return lookup(pacc, PCI_LOOKUP_VENDOR | PCI_LOOKUP_DEVICE | PCI_LOOKUP_NO_NUMBERS, vendor, device, buf, size);
}

int gpu_pci_lookup(struct pci_access *pacc, int what, uint16_t vendor, uint16_t device, char *buf, size_t size)
{
	return lookup(pacc, what | PCI_LOOKUP_NO_NUMBERS | PCI_LOOKUP_NO_HWDB, vendor, device, buf, size);
}

int gpu_pci_names_open(const char *ids_path, struct pci_access **ret)
{
	struct pci_access *pacc = pci_alloc();
	char *path = strdup(ids_path);
	if (!pacc || !path) {
		free(path);
		gpu_pci_close(pacc);
		return -ENOMEM;
	}
	pacc->error = pci_error_cb;
	pacc->warning = pci_quiet_cb;
	pacc->debug = pci_quiet_cb;
	pci_set_name_list_path(pacc, path, 1);   /* libpci frees it */
	*ret = pacc;
	return 0;
}

static struct pci_dev *find_scanned(struct pci_access *pacc, const struct pci_addr *a)
{
	for (struct pci_dev *d = pacc->devices; d; d = d->next)
		if ((uint32_t) d->domain == a->domain && d->bus == a->bus && d->dev == a->slot && d->func == a->func)
			return d;
	return NULL;
}

static bool read_ok(struct pci_dev *d, int pos, uint8_t *buf, int len)
{
	return pci_read_block(d, pos, buf, len) == 1;
}

static void read_capabilities(struct pci_dev *d, struct config_facts *c)
{
	uint8_t hdr[64];
	if (!read_ok(d, 0, hdr, sizeof(hdr)))
		return;
	if (!(hdr[PCI_STATUS] & PCI_STATUS_CAP_LIST))
		return;
	unsigned pos = hdr[(c->header_type & 0x7f) == PCI_HEADER_TYPE_CARDBUS ? PCI_CB_CAPABILITY_LIST : PCI_CAPABILITY_LIST] & ~3u;
	for (int ttl = 48; pos >= 0x40 && pos < 0x100 && ttl > 0; ttl--) {
		uint8_t cap[16];
		if (!read_ok(d, (int) pos, cap, 2))
			return;
		uint8_t id = cap[PCI_CAP_LIST_ID];
		if (id == 0xff)
			return;
		if (id == PCI_CAP_ID_EXP) {
			uint16_t flags = pci_read_word(d, (int) pos + PCI_EXP_FLAGS);
			uint32_t devcap = pci_read_long(d, (int) pos + PCI_EXP_DEVCAP);
			c->is_pcie = true;
			c->pcie_type = (flags & PCI_EXP_FLAGS_TYPE) >> 4;
			c->flr = devcap & PCI_EXP_DEVCAP_FLRESET;
			if (pos + PCI_EXP_LNKSTA + 2 <= 0x100) {
				uint32_t lnkcap = pci_read_long(d, (int) pos + PCI_EXP_LNKCAP);
				uint16_t lnksta = pci_read_word(d, (int) pos + PCI_EXP_LNKSTA);
				c->link_speed_cap = lnkcap & PCI_EXP_LNKCAP_SPEED;
				c->link_width_cap = (lnkcap & PCI_EXP_LNKCAP_WIDTH) >> 4;
				c->link_speed_sta = lnksta & PCI_EXP_LNKSTA_SPEED;
				c->link_width_sta = (lnksta & PCI_EXP_LNKSTA_WIDTH) >> 4;
			}
		} else if (id == PCI_CAP_ID_PM) {
			c->has_pm = true;
			c->pm_no_soft_reset = pci_read_word(d, (int) pos + PCI_PM_CTRL) & PCI_PM_CTRL_NO_SOFT_RST;
		} else if (id == PCI_CAP_ID_AF) {
			uint8_t af = pci_read_byte(d, (int) pos + PCI_AF_CAP);
			c->has_af = true;
			c->af_tp = af & PCI_AF_CAP_TP;
			c->af_flr = af & PCI_AF_CAP_FLR;
		}
		pos = cap[PCI_CAP_LIST_NEXT] & ~3u;
	}
}

static void read_extended_capabilities(struct pci_dev *d, struct config_facts *c)
{
	unsigned pos = 0x100;
	for (int ttl = 512; pos >= 0x100 && pos < 0x1000 && ttl > 0; ttl--) {
		uint8_t buf[4];
		if (!read_ok(d, (int) pos, buf, 4))
			return;
		uint32_t header = (uint32_t) buf[0] | (uint32_t) buf[1] << 8 | (uint32_t) buf[2] << 16 | (uint32_t) buf[3] << 24;
		if (header == 0 || header == 0xffffffff)
			return;
		if ((header & 0xffff) == PCI_EXT_CAP_ID_SRIOV) {
			c->has_sriov = true;
			c->sriov_total_vfs = pci_read_word(d, (int) pos + PCI_IOV_TOTALVF);
			c->sriov_num_vfs = pci_read_word(d, (int) pos + PCI_IOV_NUMVF);
		}
		pos = (header >> 20) & ~3u;
	}
}

int config_facts_read(struct pci_access *pacc, const struct pci_addr *a, struct config_facts *ret)
{
	struct pci_dev *volatile owned = NULL;
	struct pci_dev *d;
	volatile int r = 0;

	memset(ret, 0, sizeof(*ret));
	if (setjmp(pci_jump)) {
		pci_jump_armed = false;
		if (owned)
			pci_free_dev(owned);
		return -EIO;
	}
	pci_jump_armed = true;
	d = find_scanned(pacc, a);
	if (!d && pacc->method != PCI_ACCESS_DUMP)
		d = owned = pci_get_dev(pacc, (int) a->domain, a->bus, a->slot, a->func);
	if (!d) {
		r = -ENODEV;
		goto out;
	}
	uint8_t hdr[64];
	if (!read_ok(d, 0, hdr, sizeof(hdr)))
		goto out;
	ret->readable = true;
	ret->vendor = (uint16_t) (hdr[0] | hdr[1] << 8);
	ret->device = (uint16_t) (hdr[2] | hdr[3] << 8);
	ret->header_type = hdr[PCI_HEADER_TYPE];
	ret->all_ff = true;
	for (size_t i = 0; i < sizeof(hdr); i++)
		if (hdr[i] != 0xff)
			ret->all_ff = false;
	if (ret->all_ff)
		goto out;
	/* Without root the kernel hands out only the first 64 bytes. */
	uint8_t probe[4];
	ret->caps_readable = read_ok(d, 0x40, probe, sizeof(probe));
	if (!ret->caps_readable)
		goto out;
	read_capabilities(d, ret);
	if (ret->is_pcie)
		read_extended_capabilities(d, ret);
out:
	if (owned)
		pci_free_dev(owned);
	pci_jump_armed = false;
	return r;
}

static void copy_attr(struct udev_device *dev, const char *name, char *dst, size_t size)
{
	const char *v = udev_device_get_sysattr_value(dev, name);
	snprintf(dst, size, "%s", v ? v : "");
	size_t l = strlen(dst);
	while (l > 0 && (dst[l - 1] == '\n' || dst[l - 1] == ' '))
		dst[--l] = '\0';
}

/* Numeric sysfs attribute ("0x10de", "1"); -1 when absent or not a number. */
static long long num_attr(struct udev_device *dev, const char *name)
{
	const char *v = udev_device_get_sysattr_value(dev, name);
	if (!v || !*v)
		return -1;
	char *end;
	errno = 0;
	unsigned long long n = strtoull(v, &end, 0);
	if (errno || end == v || (*end && *end != '\n') || n > LLONG_MAX)
		return -1;
	return (long long) n;
}

static bool path_exists(const char *syspath, const char *name)
{
	char p[PATH_MAX];
	if (snprintf(p, sizeof(p), "%s/%s", syspath, name) >= (int) sizeof(p))
		return false;
	return access(p, F_OK) == 0;
}

static int link_basename(const char *syspath, const char *name, char *dst, size_t size)
{
	char p[PATH_MAX], target[PATH_MAX];
	if (snprintf(p, sizeof(p), "%s/%s", syspath, name) >= (int) sizeof(p))
		return -ENAMETOOLONG;
	ssize_t n = readlink(p, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	const char *base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (strlen(base) >= size)
		return -ENAMETOOLONG;
	memcpy(dst, base, strlen(base) + 1);
	return 0;
}

static void udev_enumerate_unrefp(struct udev_enumerate **e) { if (*e) udev_enumerate_unref(*e); }
static void udev_unrefp(struct udev **u) { if (*u) udev_unref(*u); }
static void udev_device_unrefp(struct udev_device **d) { if (*d) udev_device_unref(*d); }

static int inventory_add(struct pci_inventory *inv, struct udev_device *dev)
{
	struct pci_addr addr;
	const char *sysname = udev_device_get_sysname(dev);
	if (!sysname || pci_addr_parse(sysname, true, &addr) < 0 || !addr.has_func)
		return 0;   /* not a PCI function name: nothing of ours */
	struct gpu_function *f = array_push(&inv->fns, &inv->n, &inv->cap, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->addr = addr;
	long long v = num_attr(dev, "vendor"), d = num_attr(dev, "device"), c = num_attr(dev, "class");
	f->vendor = v > 0 ? (uint16_t) v : 0;
	f->device = d > 0 ? (uint16_t) d : 0;
	f->class_code = c > 0 ? (uint32_t) c : 0;
	const char *driver = udev_device_get_driver(dev);
	snprintf(f->driver, sizeof(f->driver), "%s", driver ? driver : "");
	snprintf(f->sysfs_path, sizeof(f->sysfs_path), "%s", udev_device_get_syspath(dev));
	f->on_root_bus = udev_device_get_parent_with_subsystem_devtype(dev, "pci", NULL) == NULL;
	char physfn[64];
	if (link_basename(f->sysfs_path, "physfn", physfn, sizeof(physfn)) >= 0) {
		f->is_vf = true;
		(void) pci_addr_parse(physfn, true, &f->physfn);
	}
	f->boot_vga = -1;
	f->d3cold_allowed = -1;
	f->cur_link_width = f->max_link_width = -1;
	f->sriov_numvfs = f->sriov_totalvfs = -1;
	return 0;
}

static int cmp_fn(const void *a, const void *b)
{
	return pci_addr_compare(&((const struct gpu_function *) a)->addr, &((const struct gpu_function *) b)->addr);
}

int pci_inventory_load(struct pci_inventory *ret)
{
	_cleanup_(udev_unrefp) struct udev *udev = udev_new();
	if (!udev)
		return -ENOMEM;
	_cleanup_(udev_enumerate_unrefp) struct udev_enumerate *e = udev_enumerate_new(udev);
	if (!e)
		return -ENOMEM;
	int r = udev_enumerate_add_match_subsystem(e, "pci");
	if (r < 0)
		return r;
	r = udev_enumerate_scan_devices(e);
	if (r < 0)
		return r;
	struct udev_list_entry *item;
	udev_list_entry_foreach(item, udev_enumerate_get_list_entry(e)) {
		_cleanup_(udev_device_unrefp) struct udev_device *dev =
			udev_device_new_from_syspath(udev, udev_list_entry_get_name(item));
		if (!dev)
			continue;
		r = inventory_add(ret, dev);
		if (r < 0)
			return r;
	}
	if (ret->n)
		qsort(ret->fns, ret->n, sizeof(*ret->fns), cmp_fn);
	for (size_t i = 0; i < ret->n; i++)
		for (size_t j = 0; j < ret->n; j++)
			if (ret->fns[j].addr.domain == ret->fns[i].addr.domain && ret->fns[j].addr.bus == ret->fns[i].addr.bus &&
			    ret->fns[j].addr.slot != ret->fns[i].addr.slot)
				ret->fns[i].bus_has_other_devices = true;
	return 0;
}

void pci_inventory_release(struct pci_inventory *inv)
{
	free(inv->fns);
	*inv = (struct pci_inventory) { 0 };
}

ssize_t pci_inventory_find(const struct pci_inventory *inv, const struct pci_addr *a)
{
	for (size_t i = 0; i < inv->n; i++)
		if (pci_addr_equal(&inv->fns[i].addr, a))
			return (ssize_t) i;
	return -1;
}

static void physfn_check(struct pci_inventory *inv, struct gpu_function *f)
{
	if (!f->is_vf)
		return;
	ssize_t p = pci_inventory_find(inv, &f->physfn);
	if (p < 0)
		return;
	_cleanup_(udev_unrefp) struct udev *udev = udev_new();
	_cleanup_(udev_device_unrefp) struct udev_device *pf =
		udev ? udev_device_new_from_syspath(udev, inv->fns[p].sysfs_path) : NULL;
	f->physfn_ok = pf && num_attr(pf, "sriov_numvfs") > 0;
}

/* Without the sysfs link attributes, LnkCap/LnkSta from config space stand in. */
static void link_from_config(struct gpu_function *f)
{
	static const char *const speeds[] = { "", "2.5 GT/s PCIe", "5.0 GT/s PCIe", "8.0 GT/s PCIe", "16.0 GT/s PCIe",
					      "32.0 GT/s PCIe", "64.0 GT/s PCIe" };
	const struct config_facts *c = &f->cfg;
	if (!c->is_pcie || f->cur_link_speed[0] || !c->link_speed_cap || !c->link_speed_sta ||
	    c->link_speed_cap >= ELEMENTSOF(speeds) || c->link_speed_sta >= ELEMENTSOF(speeds))
		return;
	snprintf(f->cur_link_speed, sizeof(f->cur_link_speed), "%s", speeds[c->link_speed_sta]);
	snprintf(f->max_link_speed, sizeof(f->max_link_speed), "%s", speeds[c->link_speed_cap]);
	f->cur_link_width = (int) c->link_width_sta;
	f->max_link_width = (int) c->link_width_cap;
}

int gpu_function_probe(struct pci_inventory *inv, size_t i, struct pci_access *pacc)
{
	struct gpu_function *f = &inv->fns[i];
	_cleanup_(udev_unrefp) struct udev *udev = udev_new();
	if (!udev)
		return -ENOMEM;
	_cleanup_(udev_device_unrefp) struct udev_device *dev = udev_device_new_from_syspath(udev, f->sysfs_path);
	if (!dev)
		return -errno ? -errno : -ENODEV;

	/* Power first: reading config space or the link wakes a runtime-suspended device. */
	copy_attr(dev, "power_state", f->power_state, sizeof(f->power_state));
	copy_attr(dev, "power/runtime_status", f->runtime_status, sizeof(f->runtime_status));
	f->d3cold_allowed = (int) num_attr(dev, "d3cold_allowed");
	f->boot_vga = (int) num_attr(dev, "boot_vga");
	copy_attr(dev, "driver_override", f->driver_override, sizeof(f->driver_override));
	if (streq(f->driver_override, "(null)"))
		f->driver_override[0] = '\0';
	f->has_reset = path_exists(f->sysfs_path, "reset");
	f->has_reset_method = path_exists(f->sysfs_path, "reset_method");
	if (f->has_reset_method)
		copy_attr(dev, "reset_method", f->reset_method, sizeof(f->reset_method));
	f->mdev_parent = path_exists(f->sysfs_path, "mdev_supported_types");
	long long n = num_attr(dev, "sriov_numvfs"), t = num_attr(dev, "sriov_totalvfs");
	f->sriov_numvfs = n > INT_MAX ? -1 : (int) n;
	f->sriov_totalvfs = t > INT_MAX ? -1 : (int) t;
	physfn_check(inv, f);

	/* A libpci failure leaves the facts unreadable: the checks say UNKNOWN, the rest still runs. */
	if (pacc && config_facts_read(pacc, &f->addr, &f->cfg) < 0)
		f->cfg = (struct config_facts) { 0 };

	copy_attr(dev, "current_link_speed", f->cur_link_speed, sizeof(f->cur_link_speed));
	copy_attr(dev, "max_link_speed", f->max_link_speed, sizeof(f->max_link_speed));
	f->cur_link_width = (int) num_attr(dev, "current_link_width");
	f->max_link_width = (int) num_attr(dev, "max_link_width");
	link_from_config(f);
	return 0;
}

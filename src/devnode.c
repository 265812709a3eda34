/* From a device node a container uses to the PCI function behind it: DRM
 * nodes through sysfs, NVIDIA minors through /proc/driver/nvidia. */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <string.h>

#include "macro.h"
#include "node.h"
#include "rootfs.h"
#include "strutil.h"

/* The PCI id in the last component of a sysfs link target ("../../../0000:00:02.0"). */
static int pci_of_link(const char *link, struct pci_addr *ret)
{
	_cleanup_free_ char *target = NULL;
	int r = root_readlink(link, &target);
	if (r < 0)
		return r;
	const char *base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (pci_addr_parse(base, true, ret) < 0 || !ret->has_func)
		return -ENODEV;
	return 0;
}

int pci_link_name(const struct pci_addr *a, const char *link, char **ret)
{
	char id[PCI_ADDR_STRLEN], path[192];
	_cleanup_free_ char *target = NULL;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", pci_addr_format(a, id), link);
	int r = root_readlink(path, &target);
	if (r == -ENOENT) {
		*ret = NULL;
		return 0;
	}
	if (r < 0)
		return r;
	const char *base = strrchr(target, '/');
	*ret = strdup(base ? base + 1 : target);
	return *ret ? 0 : -ENOMEM;
}

int pci_driver_of(const struct pci_addr *a, char **ret)
{
	return pci_link_name(a, "driver", ret);
}

static bool numbered(const char *s, const char *prefix, unsigned long long *ret)
{
	return startswith(s, prefix) && parse_uint(s + strlen(prefix), 1 << 20, ret) == 0;
}

/* /proc/driver/nvidia/gpus/<bdf>/information: "Device Minor: N", "Bus Location: <bdf>". */
static int nvidia_minor_to_pci(unsigned long long minor, struct pci_addr *ret)
{
	DIR *d;
	int r = root_opendir("/proc/driver/nvidia/gpus", &d);
	if (r < 0)
		return r;
	r = -ENODEV;
	struct dirent *de;
	while (r == -ENODEV && (de = readdir(d))) {
		char path[300];
		_cleanup_free_ char *text = NULL;
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/driver/nvidia/gpus/%s/information", de->d_name);
		if (root_read_file(path, 65536, &text, NULL) < 0)
			continue;
		bool minor_ok = false;
		struct pci_addr a;
		bool addr_ok = false;
		for (char *p = text, *line; (line = next_line(&p));) {
			char *colon = strchr(line, ':');
			if (!colon)
				continue;
			*colon = '\0';
			char *key = strstrip(line), *val = strstrip(colon + 1);
			unsigned long long m;
			if (streq(key, "Device Minor"))
				minor_ok = parse_uint(val, 1 << 20, &m) == 0 && m == minor;
			else if (streq(key, "Bus Location"))
				addr_ok = pci_addr_parse(val, false, &a) == 0 && a.has_func;
		}
		if (minor_ok && addr_ok) {
			*ret = a;
			r = 0;
		}
	}
	closedir(d);
	return r;
}

int device_node_to_pci(const char *devnode, struct pci_addr *ret)
{
	const char *base = strrchr(devnode, '/');
	unsigned long long n;
	base = base ? base + 1 : devnode;

	if (numbered(base, "renderD", &n) || numbered(base, "card", &n)) {
		char link[128];
		snprintf(link, sizeof(link), "/sys/class/drm/%s/device", base);
		return pci_of_link(link, ret);
	}
	if (startswith(devnode, "/dev/dri/by-path/pci-")) {
		const char *id = devnode + strlen("/dev/dri/by-path/pci-");
		size_t len = strcspn(id, "-");
		return pci_addr_parse_n(id, len, true, ret) == 0 && ret->has_func ? 0 : -ENODEV;
	}
	if (numbered(base, "nvidia", &n))
		return nvidia_minor_to_pci(n, ret);
	return -ENODEV;
}

static int push_unique(struct pci_addr **list, size_t *n, size_t *cap, const struct pci_addr *a)
{
	for (size_t i = 0; i < *n; i++)
		if (pci_addr_equal(&(*list)[i], a))
			return 0;
	struct pci_addr *slot = array_push(list, n, cap, sizeof(*slot));
	if (!slot)
		return -ENOMEM;
	*slot = *a;
	return 0;
}

static int cmp_addr(const void *a, const void *b)
{
	return pci_addr_compare(a, b);
}

int device_path_to_pcis(const char *path, struct pci_addr **ret, size_t *ret_n)
{
	struct pci_addr *list = NULL;
	size_t n = 0, cap = 0;
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	int r = 0;

	*ret = NULL;
	*ret_n = 0;
	if (streq(base, "dri") || streq(path, "/dev/dri/by-path")) {
		/* a directory bind: every DRM device of the host */
		DIR *d;
		if ((r = root_opendir("/sys/class/drm", &d)) < 0)
			return r;
		struct dirent *de;
		unsigned long long k;
		while (r >= 0 && (de = readdir(d))) {
			char link[300];
			struct pci_addr a;
			if (!numbered(de->d_name, "card", &k) && !numbered(de->d_name, "renderD", &k))
				continue;
			snprintf(link, sizeof(link), "/sys/class/drm/%s/device", de->d_name);
			if (pci_of_link(link, &a) == 0)
				r = push_unique(&list, &n, &cap, &a);
		}
		closedir(d);
		if (n > 1)
			qsort(list, n, sizeof(*list), cmp_addr);
	} else {
		struct pci_addr a;
		r = device_node_to_pci(path, &a);
		if (r == -ENODEV && (startswith(base, "nvidia") || streq(base, "kfd")))
			return 0;  /* nvidiactl, nvidia-uvm, kfd: shared by every GPU, no one function */
		if (r == 0)
			r = push_unique(&list, &n, &cap, &a);
	}
	if (r < 0) {
		free(list);
		return r;
	}
	*ret = list;
	*ret_n = n;
	return 0;
}

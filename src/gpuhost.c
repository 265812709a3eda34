/* Host facts and the backup-start quick check, all read under the root prefix. */
#include <dirent.h>
#include <limits.h>
#include <string.h>
#include <sys/utsname.h>

#include "gpuprobe.h"
#include "macro.h"
#include "node.h"
#include "rootfs.h"

static void closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}

/* Entries in a directory (no dot files); -1 when it cannot be opened. */
static int count_entries(const char *path)
{
	_cleanup_(closedirp) DIR *d = NULL;
	if (root_opendir(path, &d) < 0)
		return -1;
	int n = 0;
	for (struct dirent *de; (de = readdir(d)); )
		if (de->d_name[0] != '.')
			n++;
	return n;
}

static bool truthy(const char *v)
{
	return streq(v, "1") || streq(v, "Y") || streq(v, "y") || streq(v, "on");
}

static void add_vfio_ids(struct host_facts *h, const char *ids, size_t n)
{
	size_t len = strlen(h->vfio_ids);
	if (n == 0 || len + n + 2 > sizeof(h->vfio_ids))
		return;
	if (len)
		h->vfio_ids[len++] = ',';
	memcpy(h->vfio_ids + len, ids, n);
	h->vfio_ids[len + n] = '\0';
}

static void cmdline_word(struct host_facts *h, const char *w, size_t n)
{
	char word[256];
	if (n >= sizeof(word))
		return;
	memcpy(word, w, n);
	word[n] = '\0';
	char *eq = strchr(word, '=');
	const char *value = eq ? eq + 1 : "";
	if (eq)
		*eq = '\0';
	if ((streq(word, "iommu") || streq(word, "intel_iommu") || streq(word, "amd_iommu")) && streq(value, "off"))
		h->cmdline_iommu_off = true;
	else if (streq(word, "amd_iommu") && streq(value, "on"))
		h->cmdline_amd_iommu_on = true;
	else if (streq(word, "pcie_acs_override"))
		snprintf(h->acs_override, sizeof(h->acs_override), "%s", *value ? value : "(empty)");
	else if (streq(word, "vfio_iommu_type1.allow_unsafe_interrupts") && truthy(value))
		h->unsafe_interrupts = true;
	else if (streq(word, "vfio-pci.ids") || streq(word, "vfio_pci.ids"))
		add_vfio_ids(h, value, strlen(value));
}

static void read_cmdline(struct host_facts *h)
{
	_cleanup_free_ char *text = NULL;
	if (root_read_file("/proc/cmdline", 65536, &text, NULL) < 0)
		return;
	for (const char *p = text; *p; ) {
		while (*p == ' ' || *p == '\n' || *p == '\t')
			p++;
		size_t n = strcspn(p, " \n\t");
		if (n)
			cmdline_word(h, p, n);
		p += n;
	}
}

/* "options vfio_iommu_type1 allow_unsafe_interrupts=1" in /etc/modprobe.d/ (*.conf). */
static void read_modprobe_d(struct host_facts *h)
{
	_cleanup_(closedirp) DIR *d = NULL;
	if (root_opendir("/etc/modprobe.d", &d) < 0)
		return;
	for (struct dirent *de; (de = readdir(d)); ) {
		size_t l = strlen(de->d_name);
		if (de->d_name[0] == '.' || l < 6 || !streq(de->d_name + l - 5, ".conf"))
			continue;
		char path[PATH_MAX];
		if (snprintf(path, sizeof(path), "/etc/modprobe.d/%s", de->d_name) >= (int) sizeof(path))
			continue;
		_cleanup_free_ char *text = NULL;
		if (root_read_file(path, 1 << 20, &text, NULL) < 0)
			continue;
		for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
			line += strspn(line, " \t");
			if (strncmp(line, "options", 7) != 0)
				continue;
			const char *ids = strstr(line, " ids=");
			if (ids && (strstr(line, " vfio-pci ") || strstr(line, " vfio_pci ")))
				add_vfio_ids(h, ids + 5, strcspn(ids + 5, " \t#"));
			if (!strstr(line, "vfio_iommu_type1"))
				continue;
			const char *opt = strstr(line, "allow_unsafe_interrupts=");
			if (opt && truthy((char[2]) { opt[24], '\0' }))
				h->unsafe_interrupts = true;
		}
	}
}

static void read_kernel(struct host_facts *h)
{
	_cleanup_free_ char *release = NULL;
	if (root_read_line("/proc/sys/kernel/osrelease", &release) >= 0)
		snprintf(h->kernel_release, sizeof(h->kernel_release), "%s", release);
	else if (!*root_prefix()) {
		struct utsname u;
		if (uname(&u) == 0)
			snprintf(h->kernel_release, sizeof(h->kernel_release), "%s", u.release);
	}
	char *end;
	errno = 0;
	unsigned long major = strtoul(h->kernel_release, &end, 10);
	if (errno || end == h->kernel_release || *end != '.' || major > 1000)
		return;
	const char *m = end + 1;
	unsigned long minor = strtoul(m, &end, 10);
	if (errno || end == m || minor > 1000)
		return;
	h->kernel_major = (unsigned) major;
	h->kernel_minor = (unsigned) minor;
}

int host_facts_load(struct host_facts *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->is_root = geteuid() == 0;
	ret->iommu_class_entries = count_entries("/sys/class/iommu");
	ret->iommu_groups = count_entries("/sys/kernel/iommu_groups");
	ret->acpi_tables_readable = count_entries("/sys/firmware/acpi/tables") > 0;
	ret->dmar_table = root_exists("/sys/firmware/acpi/tables/DMAR");
	ret->ivrs_table = root_exists("/sys/firmware/acpi/tables/IVRS");
	ret->vendor_reset_loaded = root_exists("/sys/module/vendor_reset");
	read_cmdline(ret);
	read_modprobe_d(ret);
	_cleanup_free_ char *unsafe = NULL;
	if (root_read_line("/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts", &unsafe) >= 0 && truthy(unsafe))
		ret->unsafe_interrupts = true;
	read_kernel(ret);
	return 0;
}

int iommu_members_load(struct pci_inventory *inv, struct iommu_member **ret, size_t *ret_n)
{
	struct iommu_group *groups = NULL;
	size_t n_groups = 0, n = 0, cap = 0;
	_cleanup_free_ struct iommu_member *members = NULL;

	/* the node model's reader; an unreadable directory means no groups here */
	int r = iommu_groups_load(&groups, &n_groups);
	if (r == -ENOMEM)
		return r;
	for (size_t g = 0; r >= 0 && g < n_groups; g++) {
		if (strlen(groups[g].name) >= sizeof(members->group))
			continue;
		for (size_t k = 0; k < groups[g].n_members; k++) {
			struct iommu_member *m = array_push(&members, &n, &cap, sizeof(*m));
			if (!m) {
				r = -ENOMEM;
				break;
			}
			m->addr = groups[g].members[k];
			/* the name's length was checked against the field above */
			memcpy(m->group, groups[g].name, strlen(groups[g].name) + 1);
			ssize_t i = inv ? pci_inventory_find(inv, &m->addr) : -1;
			if (i >= 0)
				memcpy(inv->fns[i].iommu_group, m->group, sizeof(m->group));
		}
	}
	iommu_groups_free(groups, n_groups);
	if (r == -ENOMEM)
		return r;
	*ret = TAKE_PTR(members);
	*ret_n = n;
	return 0;
}

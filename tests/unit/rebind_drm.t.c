/* rebind_drm_nodes: the DRM nodes a container binding /dev/dri waits for after a rebind. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rebind.h"
#include "rootfs.h"
#include "strutil.h"
#include "tap.h"
#include "testdir.h"

static char root[PATH_MAX - 256];

static const char *at(const char *p)
{
	static char buf[PATH_MAX];
	snprintf(buf, sizeof(buf), "%s%s", root, p);
	return buf;
}

static void mkdirs(const char *p)
{
	char b[PATH_MAX];
	snprintf(b, sizeof(b), "%s", at(p));
	for (char *s = b + strlen(root) + 1; *s; s++)
		if (*s == '/') {
			*s = '\0';
			mkdir(b, 0755);
			*s = '/';
		}
	mkdir(b, 0755);
}

static struct pci_addr addr(const char *s)
{
	struct pci_addr a;
	if (pci_addr_parse(s, true, &a) < 0)
		abort();
	return a;
}

int main(void)
{
	char *dir = testdir_create("rebind_drm.t");
	snprintf(root, sizeof(root), "%s", dir);
	root_set_prefix(root);

	/* the sysfs layout: devices/<bdf>/drm/{card1,renderD128}, reached through bus/pci/devices */
	mkdirs("/sys/devices/pci0000:00/0000:00:02.0/drm/renderD128");
	mkdirs("/sys/devices/pci0000:00/0000:00:02.0/drm/card1");
	mkdirs("/sys/devices/pci0000:00/0000:00:02.0/drm/card1-HDMI-A-1");
	mkdirs("/sys/devices/pci0000:00/0000:00:02.0/drm/cardX");
	mkdirs("/sys/devices/pci0000:00/0000:05:00.0");
	mkdirs("/sys/bus/pci/devices");
	if (symlink("../../../devices/pci0000:00/0000:00:02.0", at("/sys/bus/pci/devices/0000:00:02.0")) < 0 ||
	    symlink("../../../devices/pci0000:00/0000:05:00.0", at("/sys/bus/pci/devices/0000:05:00.0")) < 0)
		abort();

	char **v = NULL;
	size_t n = 0;
	struct pci_addr a = addr("0000:00:02.0");
	is_int(rebind_drm_nodes(&a, &v, &n), 0, "a DRM card: read");
	is_int(n, 2, "card and render node, no connector, no odd name");
	if (n == 2) {
		is_str(v[0], "/dev/dri/card1", "the card node, sorted first");
		is_str(v[1], "/dev/dri/renderD128", "the render node");
	}
	strv_free(v, n);

	a = addr("0000:05:00.0");
	v = NULL;
	is_int(rebind_drm_nodes(&a, &v, &n), 0, "no drm directory (NVIDIA, audio): no error");
	is_int(n, 0, "and no node");
	ok(v == NULL, "nothing allocated");

	a = addr("0000:09:00.0");
	is_int(rebind_drm_nodes(&a, &v, &n), 0, "an absent device has no DRM node either");
	is_int(n, 0, "none");

	a = addr("0000:00:02");
	is_int(rebind_drm_nodes(&a, &v, &n), -EINVAL, "a slot id is refused: one function only");

	root_set_prefix(NULL);
	testdir_remove(dir);
	return tap_done();
}

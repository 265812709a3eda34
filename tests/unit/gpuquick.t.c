/* The hook's backup-start check on a fake sysfs under the root prefix. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gpuprobe.h"
#include "macro.h"
#include "rootfs.h"
#include "tap.h"

static char root[] = "/tmp/gpuquick.XXXXXX";

static void put(const char *bdf, const char *attr, const char *value)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/sys/bus/pci/devices/%s", root, bdf);
	char cmd_dir[512];
	snprintf(cmd_dir, sizeof(cmd_dir), "%s", path);
	for (char *p = cmd_dir + strlen(root) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		mkdir(cmd_dir, 0755);
		*p = '/';
	}
	mkdir(cmd_dir, 0755);
	if (!attr)
		return;
	snprintf(path + strlen(path), sizeof(path) - strlen(path), "/%s", attr);
	FILE *f = fopen(path, "we");
	if (f) {
		fputs(value, f);
		fclose(f);
	}
}

static int quick(const char *id, struct gpu_quick_result *r)
{
	struct pci_addr a;
	if (pci_addr_parse(id, false, &a) < 0)
		return -EINVAL;
	return gpu_quick_check(&a, r);
}

int main(void)
{
	struct gpu_quick_result r;
	if (!mkdtemp(root)) {
		printf("1..0 # SKIP cannot create a temporary root\n");
		return 0;
	}
	root_set_prefix(root);

	put("0000:01:00.0", "power_state", "D0\n");
	put("0000:01:00.0", "reset_method", "flr bus\n");
	put("0000:01:00.0", "reset", "");
	is_int(quick("01:00.0", &r), 0, "present card checked");
	ok(!r.problem && r.text[0] == '\0', "D0 with flr: no warning");

	put("0000:02:00.0", "power_state", "D3cold\n");
	put("0000:02:00.0", "reset_method", "bus\n");
	put("0000:02:00.0", "reset", "");
	is_int(quick("02:00", &r), 0, "a slot id checks function 0");
	ok(r.problem && r.d3cold && !r.no_reset, "D3cold reported");
	ok(strstr(r.text, "GPU 0000:02:00.0 is in D3cold") && !strchr(r.text, '\n'), "one line naming the card: %s", r.text);

	put("0000:03:00.0", "power_state", "D0\n");
	put("0000:03:00.0", "reset_method", "");
	is_int(quick("0000:03:00.0", &r), 0, "empty reset_method checked");
	ok(r.problem && r.no_reset && !r.d3cold, "empty reset_method means no reset method");
	ok(strstr(r.text, "Inappropriate ioctl for device"), "the line explains the ENOTTY message");

	put("0000:04:00.0", "power_state", "D3cold\n");
	is_int(quick("04:00.0", &r), 0, "old kernel without reset_method nor reset");
	ok(r.no_reset && r.d3cold && strstr(r.text, "D3cold (powered off) and has no reset method"), "both problems in one line");

	put("0000:05:00.0", "power_state", "D0\n");
	put("0000:05:00.0", "reset", "");
	is_int(quick("05:00.0", &r), 0, "old kernel with reset");
	ok(!r.problem, "reset file alone is a reset method (Proxmox's flag)");

	is_int(quick("06:00.0", &r), -ENOENT, "absent device: -ENOENT");

	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", root);
	return tap_done();
}

/* The hook's backup-start check: plain sysfs attributes under the root prefix,
 * no libpci or libudev, so the hook links without them. */
#include <string.h>

#include "gpuprobe.h"
#include "macro.h"
#include "rootfs.h"

int gpu_quick_check(const struct pci_addr *a, struct gpu_quick_result *ret)
{
	struct pci_addr fn = *a;
	char addr[PCI_ADDR_STRLEN], dir[128], path[192];

	memset(ret, 0, sizeof(*ret));
	if (!fn.has_func) {
		fn.has_func = true;
		fn.func = 0;
	}
	pci_addr_format(&fn, addr);
	snprintf(dir, sizeof(dir), "/sys/bus/pci/devices/%s", addr);
	if (!root_exists(dir))
		return -ENOENT;

	_cleanup_free_ char *power = NULL, *methods = NULL;
	snprintf(path, sizeof(path), "%s/power_state", dir);
	(void) root_read_line(path, &power);
	ret->d3cold = streq(power, "D3cold");

	snprintf(path, sizeof(path), "%s/reset_method", dir);
	int r = root_read_line(path, &methods);
	bool has_methods = r >= 0 && methods && methods[strspn(methods, " ")] != '\0';
	snprintf(path, sizeof(path), "%s/reset", dir);
	bool has_reset = root_exists(path);
	/* With reset_method (kernel >= 5.15) an empty list means none; before, "reset" is the flag. */
	ret->no_reset = r >= 0 ? !has_methods : !has_reset;

	ret->problem = ret->d3cold || ret->no_reset;
	if (ret->d3cold && ret->no_reset)
		snprintf(ret->text, sizeof(ret->text), "GPU %s is in D3cold (powered off) and has no reset method: "
			 "the VM may fail to start or leave the card dead; run 'gpu-diag %s'", addr, addr);
	else if (ret->d3cold)
		snprintf(ret->text, sizeof(ret->text), "GPU %s is in D3cold (powered off): it may not wake up for the VM; "
			 "run 'gpu-diag %s'", addr, addr);
	else if (ret->no_reset)
		snprintf(ret->text, sizeof(ret->text), "GPU %s has no reset method (reset fails with 'Inappropriate ioctl for device'): "
			 "the card may be left unreset or dead after the VM stops; run 'gpu-diag %s'", addr, addr);
	return 0;
}

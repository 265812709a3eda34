#include <dirent.h>
#include <string.h>
#include <sys/stat.h>

#include "gpus.h"
#include "rootfs.h"
#include "setup.h"

static void gpu_name(const struct gpu *g, char *buf, size_t size)
{
	if (g->vendor_name && g->device_name)
		snprintf(buf, size, "%s %s [%04x:%04x]", g->vendor_name, g->device_name, g->vendor, g->device);
	else if (g->vendor_name)
		snprintf(buf, size, "%s device [%04x:%04x]", g->vendor_name, g->vendor, g->device);
	else
		snprintf(buf, size, "[%04x:%04x]", g->vendor, g->device);
}

static void report_gpus(FILE *out, struct json *j, const struct style *s, const struct gpu_list *gl)
{
	if (j) {
		json_kv_bool(j, "pci_ids_found", gl->ids_found);
		json_key(j, "gpus");
		json_array_begin(j);
	} else {
		fprintf(out, "%sGPUs%s\n", c_bold(s), c_off(s));
		if (gl->n == 0)
			fprintf(out, "  none found (no PCI display device, class 03xx, in /sys/bus/pci/devices)\n");
		if (gl->n && !gl->ids_found)
			fprintf(out, "  (no device names: /usr/share/misc/pci.ids is missing; apt install pci.ids)\n");
	}
	for (size_t i = 0; i < gl->n; i++) {
		const struct gpu *g = &gl->gpus[i];
		char addr[PCI_ADDR_STRLEN], name[600], id[16];
		pci_addr_format(&g->addr, addr);
		if (j) {
			snprintf(id, sizeof(id), "%04x:%04x", g->vendor, g->device);
			json_object_begin(j);
			json_kv_string(j, "pci_addr", addr);
			json_kv_string(j, "id", id);
			json_kv_string(j, "vendor", g->vendor_name);
			json_kv_string(j, "device", g->device_name);
			json_kv_string(j, "driver", g->driver);
			json_kv_string(j, "iommu_group", g->iommu_group);
			json_object_end(j);
			continue;
		}
		gpu_name(g, name, sizeof(name));
		fprintf(out, "  %s  %s\n", addr, name);
		fprintf(out, "      driver %s, IOMMU group %s\n", g->driver ? g->driver : "none",
		        g->iommu_group ? g->iommu_group : "none (IOMMU off?)");
	}
	if (j)
		json_array_end(j);
}

/* Guests the old bash hook stopped and listed in its state file (one vmid a
 * line); it starts them again only at job-end, so an aborted job leaves them down. */
static void report_old_hook_state(FILE *out, struct json *j, const struct style *s)
{
	_cleanup_free_ char *data = NULL;
	if (root_read_file(OLD_HOOK_STATE, 1 << 20, &data, NULL) < 0)
		return;
	if (j) {
		json_key(j, "old_hook_stopped");
		json_array_begin(j);
	} else
		fprintf(out, "%swarning:%s the old bash hook's state file %s lists guests it stopped\n"
		             "  and never started again:", c_yellow(s), c_off(s), OLD_HOOK_STATE);
	unsigned seen[256];
	size_t n_seen = 0;
	char *save = NULL;
	for (char *tok = strtok_r(data, "\n", &save); tok; tok = strtok_r(NULL, "\n", &save)) {
		tok[strcspn(tok, " \t\r")] = '\0';
		char *end;
		errno = 0;
		unsigned long long v = strtoull(tok, &end, 10);
		if (errno || end == tok || *end || v < 100 || v > 999999999)
			continue;
		bool dup = false;
		for (size_t i = 0; i < n_seen; i++)
			dup = dup || seen[i] == v;
		if (dup || n_seen == ELEMENTSOF(seen))
			continue;
		seen[n_seen++] = (unsigned)v;
		if (j)
			json_int(j, (long long)v);
		else
			fprintf(out, " %llu", v);
	}
	if (j)
		json_array_end(j);
	else
		fprintf(out, "\n  Start them again if they should be running.\n");
}

static void report_cluster(FILE *out, struct json *j, const struct style *s)
{
	_cleanup_free_ char *dir = root_path("/etc/pve/nodes");
	DIR *d = dir ? opendir(dir) : NULL;
	unsigned n = 0;
	if (d) {
		struct dirent *de;
		while ((de = readdir(d)))
			if (de->d_name[0] != '.')
				n++;
		closedir(d);
	}
	if (j) {
		json_kv_int(j, "cluster_nodes", n);
		return;
	}
	if (n > 1)
		fprintf(out, "%snote:%s this node is one of %u cluster nodes; %s is local to each node:\n"
		             "  run %s on every node.\n", c_yellow(s), c_off(s), n, VZDUMP_CONF_PATH, PROG);
}

void node_report(FILE *out, struct json *j, const struct style *s)
{
	struct gpu_list gl;
	if (gpus_load(&gl) < 0)
		gl = (struct gpu_list){ 0 };
	report_gpus(out, j, s, &gl);
	report_old_hook_state(out, j, s);
	report_cluster(out, j, s);
	if (!j)
		fprintf(out, "\n");
	gpus_release(&gl);
}

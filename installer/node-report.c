#include <dirent.h>
#include <string.h>
#include <sys/stat.h>

#include "conflict.h"
#include "gpus.h"
#include "guests-report.h"
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

static const char *readiness_color(const struct style *s, const char *readiness)
{
	return streq(readiness, "ready") ? c_green(s) : streq(readiness, "not ready") ? c_red(s)
	       : streq(readiness, "warnings") ? c_yellow(s) : "";
}

static void report_users(FILE *out, struct json *j, const struct node *node, const struct gpu *g)
{
	bool any = false;
	if (j) {
		json_key(j, "guests");
		json_array_begin(j);
	}
	for (size_t i = 0; i < node->n_guests; i++) {
		const struct guest *guest = &node->guests[i];
		if (!guest_uses_addr(guest, &g->addr))
			continue;
		if (j) {
			json_object_begin(j);
			json_kv_int(j, "vmid", guest->vmid);
			json_kv_string(j, "type", guest->type == GUEST_QEMU ? "qemu" : "lxc");
			json_kv_string(j, "name", guest->name);
			json_kv_bool(j, "running", guest->running);
			json_kv_bool(j, "template", guest->template);
			json_object_end(j);
			continue;
		}
		char label[300];
		guest_label(guest, label, sizeof(label));
		fprintf(out, "%s%s, %s", any ? "; " : "      used by: ", label,
		        guest->template ? "template" : guest->running ? "running" : "stopped");
		any = true;
	}
	if (j)
		json_array_end(j);
	else
		fprintf(out, "%s\n", any ? "" : "      used by no guest");
}

static void report_gpus(FILE *out, struct json *j, const struct style *s, const struct gpu_list *gl,
                        const struct node *node)
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
		char addr[PCI_ADDR_STRLEN], name[600], id[16], details[64];
		pci_addr_format(&g->addr, addr);
		snprintf(details, sizeof(details), "gpu-diag %s", addr);
		if (j) {
			snprintf(id, sizeof(id), "%04x:%04x", g->vendor, g->device);
			json_object_begin(j);
			json_kv_string(j, "pci_addr", addr);
			json_kv_string(j, "id", id);
			json_kv_string(j, "vendor", g->vendor_name);
			json_kv_string(j, "device", g->device_name);
			json_kv_string(j, "driver", g->driver);
			json_kv_string(j, "iommu_group", g->iommu_group);
			json_kv_string(j, "readiness", g->readiness);
			json_kv_string(j, "details", details);
			report_users(NULL, j, node, g);
			json_object_end(j);
			continue;
		}
		gpu_name(g, name, sizeof(name));
		fprintf(out, "  %s  %s\n", addr, name);
		fprintf(out, "      driver %s, IOMMU group %s\n", g->driver ? g->driver : "none",
		        g->iommu_group ? g->iommu_group : "none (IOMMU off?)");
		fprintf(out, "      readiness: %s%s%s (details: %s)\n", readiness_color(s, g->readiness), g->readiness,
		        c_off(s), details);
		report_users(out, NULL, node, g);
	}
	if (j)
		json_array_end(j);
}

static const char *label_of(const struct node *node, unsigned vmid, char *buf, size_t size)
{
	const struct guest *g = node_find_guest(node, vmid);
	if (g)
		guest_label(g, buf, size);
	else
		snprintf(buf, size, "guest %u", vmid);
	return buf;
}

/* The first GPU both guests use, as "0000:01:00.0", or NULL. */
static const char *shared_gpu(const struct gpu_list *gl, const struct guest *a, const struct guest *b)
{
	static char buf[PCI_ADDR_STRLEN];
	if (!a || !b)
		return NULL;
	for (size_t i = 0; i < gl->n; i++)
		if (guest_uses_addr(a, &gl->gpus[i].addr) && guest_uses_addr(b, &gl->gpus[i].addr))
			return pci_addr_format(&gl->gpus[i].addr, buf);
	return NULL;
}

static void report_conflicts(FILE *out, struct json *j, const struct style *s, const struct node *node,
                             const struct gpu_list *gl)
{
	struct conflict_group *groups = NULL;
	size_t n = 0;
	struct blocked_backup *blocked = NULL;
	size_t nb = 0;
	char label[300];
	if (node_conflict_groups(node, &groups, &n) < 0)
		n = 0;
	if (node_blocked_backups(node, &blocked, &nb) < 0)
		nb = 0;

	if (j) {
		json_key(j, "conflict_groups");
		json_array_begin(j);
		for (size_t i = 0; i < n; i++) {
			json_array_begin(j);
			for (size_t k = 0; k < groups[i].n; k++)
				json_int(j, groups[i].vmids[k]);
			json_array_end(j);
		}
		json_array_end(j);
		json_key(j, "blocked_backups");
		json_array_begin(j);
		for (size_t i = 0; i < nb; i++) {
			json_object_begin(j);
			json_kv_int(j, "vmid", blocked[i].vmid);
			json_key(j, "held_by");
			json_array_begin(j);
			for (size_t k = 0; k < blocked[i].n_holders; k++)
				json_int(j, blocked[i].holders[k]);
			json_array_end(j);
			json_object_end(j);
		}
		json_array_end(j);
	} else {
		fprintf(out, "%sGuests that cannot run at the same time%s\n", c_bold(s), c_off(s));
		if (n == 0)
			fprintf(out, "  none: no two guests need the same GPU\n");
		for (size_t i = 0; i < n; i++) {
			fprintf(out, "  ");
			for (size_t k = 0; k < groups[i].n; k++)
				fprintf(out, "%s%s", k ? ", " : "", label_of(node, groups[i].vmids[k], label, sizeof(label)));
			fprintf(out, "\n");
		}
		if (nb)
			fprintf(out, "\n%sBackups that fail today%s\n", c_bold(s), c_off(s));
		for (size_t i = 0; i < nb; i++) {
			const struct guest *g = node_find_guest(node, blocked[i].vmid);
			fprintf(out, "  %s%s is stopped and its backup fails:%s vzdump starts it with its\n  devices, and ",
			        c_red(s), label_of(node, blocked[i].vmid, label, sizeof(label)), c_off(s));
			for (size_t k = 0; k < blocked[i].n_holders; k++) {
				const struct guest *h = node_find_guest(node, blocked[i].holders[k]);
				const char *card = shared_gpu(gl, g, h);
				fprintf(out, "%sthe running %s holds %s", k == 0 ? "" : k + 1 == blocked[i].n_holders ? " and " : ", ",
				        label_of(node, blocked[i].holders[k], label, sizeof(label)),
				        card ? card : "a device of the same IOMMU group");
			}
			fprintf(out, ".\n");
		}
		if (nb)
			fprintf(out, "  %s parks the holders for such a backup\n  and starts them again after it.\n",
			        OUR_HOOK_PATH);
	}
	conflict_groups_free(groups, n);
	blocked_backups_free(blocked, nb);
}

static void report_problems(FILE *out, struct json *j, const struct style *s, const struct node *node)
{
	if (j) {
		json_key(j, "problems");
		json_array_begin(j);
	}
	for (size_t i = 0; i < node->problems.n; i++) {
		const struct problem *p = &node->problems.items[i];
		if (j) {
			json_object_begin(j);
			json_kv_string(j, "file", p->file);
			json_kv_int(j, "line", p->line);
			json_kv_string(j, "message", p->message);
			json_object_end(j);
		} else if (p->line)
			fprintf(out, "%snote:%s %s line %u: %s\n", c_yellow(s), c_off(s), p->file ? p->file : "?", p->line, p->message);
		else
			fprintf(out, "%snote:%s %s%s%s\n", c_yellow(s), c_off(s), p->file ? p->file : "", p->file ? ": " : "", p->message);
	}
	if (j)
		json_array_end(j);
}

/* Guests the old bash hook stopped and listed in its state file (one vmid a
 * line); it starts them again only at job-end, so an aborted job leaves them down. */
static void report_old_hook_state(FILE *out, struct json *j, const struct style *s, const struct node *node)
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
		const struct guest *g = node_find_guest(node, (unsigned)v);
		const char *state = !g ? "gone" : g->running ? "running" : "stopped";
		if (j) {
			json_object_begin(j);
			json_kv_int(j, "vmid", (long long)v);
			json_kv_string(j, "state", state);
			json_object_end(j);
		} else
			fprintf(out, "%s%llu (%s)", n_seen > 1 ? ", " : " ", v, state);
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
	struct node node = { 0 };
	if (gpus_load(&gl) < 0)
		gl = (struct gpu_list){ 0 };
	(void)node_load(&node, NODE_LOAD_ALL);
	gpus_judge(&gl, &node);
	if (j)
		json_kv_string(j, "node", node.name);
	else
		fprintf(out, "%sNode %s%s\n\n", c_bold(s), node.name ? node.name : "(unknown)", c_off(s));
	report_gpus(out, j, s, &gl, &node);
	if (!j)
		fprintf(out, "\n");
	report_conflicts(out, j, s, &node, &gl);
	report_problems(out, j, s, &node);
	report_old_hook_state(out, j, s, &node);
	report_cluster(out, j, s);
	if (!j)
		fprintf(out, "\n");
	node_release(&node);
	gpus_release(&gl);
}

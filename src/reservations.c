/* qemu-server's PCI reservations, /run/qemu-server/pci-id-reservations. */
#include <string.h>

#include "macro.h"
#include "node.h"
#include "rootfs.h"
#include "strutil.h"

#define RESERVATIONS_FILE "/run/qemu-server/pci-id-reservations"

int reservations_parse(const char *text, const char *file, struct reservation **ret, size_t *ret_n, struct problem_list *problems)
{
	_cleanup_free_ char *buf = strdup(text);
	struct reservation *list = NULL;
	size_t n = 0, cap = 0;
	unsigned lineno = 0;

	if (!buf)
		return -ENOMEM;
	for (char *p = buf, *line; (line = next_line(&p));) {
		lineno++;
		char *s = strstrip(line), *save = NULL;
		if (!*s)
			continue;
		char *id = strtok_r(s, " \t", &save), *vmid_s = strtok_r(NULL, " \t", &save), *what = strtok_r(NULL, " \t", &save);
		struct reservation r = { 0 };
		unsigned long long v;
		bool good = id && vmid_s && what && !strtok_r(NULL, " \t", &save) &&
			    pci_addr_parse(id, false, &r.addr) == 0 && vmid_parse(vmid_s, &r.vmid) == 0;
		if (good && startswith(what, "pid:") && parse_uint(what + 4, 0x7fffffff, &v) == 0 && v > 0)
			r.pid = (pid_t)v;
		else if (good && startswith(what, "time:") && parse_uint(what + 5, (1ULL << 62), &v) == 0)
			r.expiry = (long long)v;
		else {
			problem_add(problems, file, lineno, "invalid reservation line");
			continue;
		}
		struct reservation *slot = array_push(&list, &n, &cap, sizeof(*slot));
		if (!slot) {
			free(list);
			return -ENOMEM;
		}
		*slot = r;
	}
	*ret = list;
	*ret_n = n;
	return 0;
}

int reservations_load(struct reservation **ret, size_t *ret_n, struct problem_list *problems)
{
	_cleanup_free_ char *text = NULL;
	int r = root_read_file(RESERVATIONS_FILE, 0, &text, NULL);
	if (r == -ENOENT) {
		*ret = NULL;
		*ret_n = 0;
		return 0;
	}
	if (r < 0)
		return r;
	return reservations_parse(text, RESERVATIONS_FILE, ret, ret_n, problems);
}

bool reservation_live(const struct node *node, const struct reservation *r, long long now)
{
	if (r->pid == 0)
		return r->expiry > now;
	const struct guest *g = node ? node_find_guest(node, r->vmid) : NULL;
	if (g && g->type == GUEST_QEMU && (g->running || g->pid))
		return g->running && g->pid == r->pid;
	pid_t pid = 0;
	return vm_running(r->vmid, &pid) && pid == r->pid;
}

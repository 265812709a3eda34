#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "rootfs.h"
#include "strutil.h"
#include "vmconf.h"

/* qemu-server parse_vm_config key line: ^([a-z][a-z_\-]*\d*):\s*(.+?)\s*$ */
static bool split_key_line(char *line, char **ret_key, char **ret_value)
{
	char *p = line;
	if (!islower((unsigned char)*p))
		return false;
	while (islower((unsigned char)*p) || *p == '_' || *p == '-')
		p++;
	while (isdigit((unsigned char)*p))
		p++;
	if (*p != ':')
		return false;
	*p = '\0';
	char *v = strstrip(p + 1);
	if (!*v)
		return false;
	*ret_key = line;
	*ret_value = v;
	return true;
}

/* hostpciN with N in 0..15; returns N or -1. */
static int hostpci_index(const char *key)
{
	unsigned long long n;
	if (!startswith(key, "hostpci") || parse_uint(key + 7, HOSTPCI_MAX - 1, &n) < 0)
		return -1;
	if (key[7] == '0' && key[8])
		return -1;
	return (int)n;
}

static int add_hostpci(struct hostpci **list, size_t *n, struct hostpci *h)
{
	for (size_t i = 0; i < *n; i++)
		if ((*list)[i].index == h->index) {
			/* a later duplicate wins, as in Perl's hash */
			hostpci_release(&(*list)[i]);
			(*list)[i] = *h;
			return 0;
		}
	struct hostpci *nl = reallocarray(*list, *n + 1, sizeof(**list));
	if (!nl)
		return -ENOMEM;
	nl[(*n)++] = *h;
	*list = nl;
	return 0;
}

/* QEMU -device vfio-pci,host=ID or sysfsdev=/sys/bus/pci/devices/ID[/uuid]. */
static int parse_args_devices(struct vm_config *c, const char *args, const char *file, unsigned line, struct problem_list *problems)
{
	_cleanup_free_ char *copy = strdup(args);
	if (!copy)
		return -ENOMEM;
	bool after_device = false;
	size_t cap = c->n_args_pci;
	for (char *save = NULL, *tok = strtok_r(copy, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		bool is_dev = after_device && startswith(tok, "vfio-pci,");
		after_device = streq(tok, "-device") || streq(tok, "--device");
		if (!is_dev)
			continue;
		for (char *s2 = NULL, *opt = strtok_r(tok + 9, ",", &s2); opt; opt = strtok_r(NULL, ",", &s2)) {
			struct pci_addr a;
			bool found = false;
			if (startswith(opt, "host="))
				found = pci_addr_parse(opt + 5, false, &a) == 0 && a.has_func;
			else if (startswith(opt, "sysfsdev=")) {
				/* the PCI id is the last path component that is one (an mdev uuid may follow) */
				_cleanup_free_ char *path = strdup(opt + 9);
				if (!path)
					return -ENOMEM;
				for (char *s3 = NULL, *comp = strtok_r(path, "/", &s3); comp; comp = strtok_r(NULL, "/", &s3)) {
					struct pci_addr b;
					if (pci_addr_parse(comp, true, &b) == 0 && b.has_func) {
						a = b;
						found = true;
					}
				}
			} else
				continue;
			if (!found) {
				problem_add(problems, file, line, "args: cannot read PCI id from '%s'", opt);
				continue;
			}
			struct pci_addr *slot = array_push(&c->args_pci, &c->n_args_pci, &cap, sizeof(*slot));
			if (!slot)
				return -ENOMEM;
			*slot = a;
		}
	}
	return 0;
}

static int parse_pending_delete(struct vm_config *c, char *v)
{
	/* PVE::AbstractConfig parse_pending_delete: ',' ';' or space separated, '!' = force */
	for (char *save = NULL, *k = strtok_r(v, ",; \t", &save); k; k = strtok_r(NULL, ",; \t", &save)) {
		if (*k == '!')
			k++;
		if (*k && strv_push(&c->pending_delete, &c->n_pending_delete, k) < 0)
			return -ENOMEM;
	}
	return 0;
}

enum section { SECTION_LIVE, SECTION_PENDING, SECTION_OTHER };

int vm_config_parse_buf(char *buf, unsigned vmid, const char *file, struct vm_config *ret, struct problem_list *problems)
{
	struct vm_config c = { .vmid = vmid };
	enum section section = SECTION_LIVE;
	unsigned lineno = 0;
	int r = 0;

	for (char *p = buf, *line; (line = next_line(&p));) {
		lineno++;
		char *s = strstrip(line);
		if (!*s || *s == '#')
			continue;  /* '#' lines are the description, even when they look like keys */
		if (*s == '[') {
			size_t l = strlen(s);
			if (s[l - 1] != ']') {
				problem_add(problems, file, lineno, "unable to parse config line '%s'", s);
				continue;
			}
			section = strcasecmp(s, "[PENDING]") == 0 ? SECTION_PENDING : SECTION_OTHER;
			continue;
		}
		if (section == SECTION_OTHER)
			continue;
		char *key, *value;
		if (!split_key_line(s, &key, &value)) {
			problem_add(problems, file, lineno, "unable to parse config line '%s'", s);
			continue;
		}
		int idx = hostpci_index(key);
		if (idx >= 0) {
			struct hostpci h;
			_cleanup_free_ char *err = NULL;
			r = hostpci_parse(value, (unsigned)idx, &h, &err);
			if (r == -ENOMEM)
				goto fail;
			if (r < 0) {
				problem_add(problems, file, lineno, "%s: %s", key, err ? err : "invalid value");
				continue;
			}
			h.line = lineno;
			r = section == SECTION_PENDING ? add_hostpci(&c.pending_hostpci, &c.n_pending_hostpci, &h)
						       : add_hostpci(&c.hostpci, &c.n_hostpci, &h);
			if (r < 0) {
				hostpci_release(&h);
				goto fail;
			}
		} else if (startswith(key, "hostpci") && isdigit((unsigned char)key[7])) {
			problem_add(problems, file, lineno, "unknown key '%s' (hostpci0 to hostpci%d)", key, HOSTPCI_MAX - 1);
		} else if (section == SECTION_PENDING) {
			if (streq(key, "delete") && (r = parse_pending_delete(&c, value)) < 0)
				goto fail;
		} else if (streq(key, "name")) {
			if ((r = str_set(&c.name, value)) < 0)
				goto fail;
		} else if (streq(key, "lock")) {
			if ((r = str_set(&c.lock, value)) < 0)
				goto fail;
		} else if (streq(key, "template") || streq(key, "onboot")) {
			int b = parse_boolean(value);
			if (b < 0)
				problem_add(problems, file, lineno, "%s: invalid boolean '%s'", key, value);
			else if (streq(key, "template"))
				c.template = b;
			else
				c.onboot = b;
		} else if (streq(key, "args")) {
			if ((r = parse_args_devices(&c, value, file, lineno, problems)) < 0)
				goto fail;
		}
	}
	*ret = c;
	return 0;
fail:
	vm_config_release(&c);
	return r;
}

int vm_config_parse(const char *text, unsigned vmid, const char *file, struct vm_config *ret, struct problem_list *problems)
{
	_cleanup_free_ char *buf = strdup(text);
	if (!buf)
		return -ENOMEM;
	return vm_config_parse_buf(buf, vmid, file, ret, problems);
}

int vm_config_load(unsigned vmid, struct vm_config *ret, struct problem_list *problems)
{
	char path[64];
	snprintf(path, sizeof(path), "/etc/pve/qemu-server/%u.conf", vmid);
	_cleanup_free_ char *text = NULL;
	int r = root_read_file(path, 0, &text, NULL);
	if (r < 0)
		return r;
	return vm_config_parse_buf(text, vmid, path, ret, problems);
}

void vm_config_release(struct vm_config *c)
{
	free(c->name);
	free(c->lock);
	for (size_t i = 0; i < c->n_hostpci; i++)
		hostpci_release(&c->hostpci[i]);
	free(c->hostpci);
	for (size_t i = 0; i < c->n_pending_hostpci; i++)
		hostpci_release(&c->pending_hostpci[i]);
	free(c->pending_hostpci);
	strv_free(c->pending_delete, c->n_pending_delete);
	free(c->args_pci);
	*c = (struct vm_config){ 0 };
}

static bool pending_deleted(const struct vm_config *c, unsigned index)
{
	char key[16];
	snprintf(key, sizeof(key), "hostpci%u", index);
	for (size_t i = 0; i < c->n_pending_delete; i++)
		if (streq(c->pending_delete[i], key))
			return true;
	return false;
}

static const struct hostpci *pending_of(const struct vm_config *c, unsigned index)
{
	for (size_t i = 0; i < c->n_pending_hostpci; i++)
		if (c->pending_hostpci[i].index == index)
			return &c->pending_hostpci[i];
	return NULL;
}

size_t vm_config_next_start_hostpci(const struct vm_config *c, const struct hostpci *ret[static HOSTPCI_MAX])
{
	size_t n = 0;
	/* vmconfig_apply_pending: deletes first, then pending values (which win) */
	for (size_t i = 0; i < c->n_hostpci && n < HOSTPCI_MAX; i++) {
		const struct hostpci *p = pending_of(c, c->hostpci[i].index);
		if (p)
			ret[n++] = p;
		else if (!pending_deleted(c, c->hostpci[i].index))
			ret[n++] = &c->hostpci[i];
	}
	for (size_t i = 0; i < c->n_pending_hostpci && n < HOSTPCI_MAX; i++) {
		bool in_live = false;
		for (size_t j = 0; j < c->n_hostpci; j++)
			in_live = in_live || c->hostpci[j].index == c->pending_hostpci[i].index;
		if (!in_live)
			ret[n++] = &c->pending_hostpci[i];
	}
	return n;
}

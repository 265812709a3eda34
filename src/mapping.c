#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "macro.h"
#include "mapping.h"
#include "rootfs.h"
#include "strutil.h"

#define MAPPING_FILE "/etc/pve/mapping/pci.cfg"

static void alt_release(struct pci_mapping_alt *a)
{
	free(a->devs);
	free(a->id);
	free(a->iommugroup);
}

static void mapping_release(struct pci_mapping *m)
{
	free(m->name);
	for (size_t i = 0; i < m->n_alts; i++)
		alt_release(&m->alts[i]);
	free(m->alts);
}

/* map node=N,path=ID[;ID...],id=V:D[,iommugroup=G][,...]: returns 1 when it is for node. */
static int parse_map(char *value, const char *node, struct pci_mapping_alt *ret, const char **ret_error)
{
	const char *n = NULL, *path = NULL, *id = NULL, *group = NULL;
	for (char *save = NULL, *part = strtok_r(value, ",", &save); part; part = strtok_r(NULL, ",", &save)) {
		part = strstrip(part);
		if (!*part)
			continue;
		char *eq = strchr(part, '=');
		if (!eq) {
			*ret_error = "missing key in map property";
			return -EINVAL;
		}
		*eq = '\0';
		if (streq(part, "node"))
			n = eq + 1;
		else if (streq(part, "path"))
			path = eq + 1;
		else if (streq(part, "id"))
			id = eq + 1;
		else if (streq(part, "iommugroup"))
			group = eq + 1;
	}
	if (!n || !path) {
		*ret_error = "map without node= or path=";
		return -EINVAL;
	}
	struct pci_mapping_alt a = { 0 };
	size_t cap = 0;
	for (const char *s = path;;) {
		size_t len = strcspn(s, ";");
		struct pci_addr addr;
		if (pci_addr_parse_n(s, len, true, &addr) < 0) {
			free(a.devs);
			*ret_error = "invalid PCI path";
			return -EINVAL;
		}
		struct pci_addr *slot = array_push(&a.devs, &a.n_devs, &cap, sizeof(*slot));
		if (!slot) {
			free(a.devs);
			return -ENOMEM;
		}
		*slot = addr;
		if (!s[len])
			break;
		s += len + 1;
	}
	if (!streq(n, node)) {
		free(a.devs);
		return 0;
	}
	a.id = id ? strdup(id) : NULL;
	a.iommugroup = group ? strdup(group) : NULL;
	if ((id && !a.id) || (group && !a.iommugroup)) {
		alt_release(&a);
		return -ENOMEM;
	}
	*ret = a;
	return 1;
}

int mapping_parse(const char *text, const char *file, const char *node, struct mapping_table *ret, struct problem_list *problems)
{
	_cleanup_free_ char *buf = strdup(text);
	if (!buf)
		return -ENOMEM;
	struct mapping_table t = { 0 };
	struct pci_mapping *cur = NULL;
	size_t cap_alts = 0;
	unsigned lineno = 0;
	int r;

	for (char *p = buf, *line; (line = next_line(&p));) {
		lineno++;
		bool indented = isspace((unsigned char)*line);
		char *s = strstrip(line);
		if (*s == '#')
			continue;
		if (!*s) {
			cur = NULL;  /* a blank line ends the section */
			continue;
		}
		if (!indented) {
			if (strpbrk(s, " \t")) {
				problem_add(problems, file, lineno, "invalid section header '%s'", s);
				cur = NULL;
				continue;
			}
			cur = array_push(&t.maps, &t.n, &t.cap, sizeof(*cur));
			if (!cur || !(cur->name = strdup(s))) {
				r = -ENOMEM;
				goto fail;
			}
			cap_alts = 0;
			continue;
		}
		if (!cur) {
			problem_add(problems, file, lineno, "ignore config line '%s'", s);
			continue;
		}
		char *value = s + strcspn(s, " \t");
		if (*value)
			*value++ = '\0';
		value = strstrip(value);
		if (streq(s, "map")) {
			struct pci_mapping_alt a;
			const char *err = NULL;
			r = parse_map(value, node, &a, &err);
			if (r == -ENOMEM)
				goto fail;
			if (r < 0) {
				problem_add(problems, file, lineno, "mapping '%s': %s", cur->name, err);
				continue;
			}
			if (r == 0) {
				cur->n_other_nodes++;
				continue;
			}
			struct pci_mapping_alt *slot = array_push(&cur->alts, &cur->n_alts, &cap_alts, sizeof(*slot));
			if (!slot) {
				alt_release(&a);
				r = -ENOMEM;
				goto fail;
			}
			*slot = a;
		} else if (streq(s, "mdev")) {
			int b = parse_boolean(value);
			if (b < 0)
				problem_add(problems, file, lineno, "mapping '%s': invalid boolean '%s'", cur->name, value);
			else
				cur->mdev = b;
		}
	}
	*ret = t;
	return 0;
fail:
	mapping_table_release(&t);
	return r;
}

int mapping_load(const char *node, struct mapping_table *ret, struct problem_list *problems)
{
	_cleanup_free_ char *text = NULL;
	int r = root_read_file(MAPPING_FILE, 0, &text, NULL);
	if (r == -ENOENT || r == -ENOTDIR) {
		*ret = (struct mapping_table){ 0 };
		return 0;
	}
	if (r < 0)
		return r;
	return mapping_parse(text, MAPPING_FILE, node, ret, problems);
}

const struct pci_mapping *mapping_find(const struct mapping_table *t, const char *name)
{
	for (size_t i = 0; i < t->n; i++)
		if (streq(t->maps[i].name, name))
			return &t->maps[i];
	return NULL;
}

void mapping_table_release(struct mapping_table *t)
{
	for (size_t i = 0; i < t->n; i++)
		mapping_release(&t->maps[i]);
	free(t->maps);
	*t = (struct mapping_table){ 0 };
}

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lxcconf.h"
#include "macro.h"
#include "rootfs.h"
#include "strutil.h"

/* Host device nodes that give a container a GPU: DRI, NVIDIA, AMD KFD. Staged
 * copies outside /dev (mknod'ed elsewhere) are recognised by their base name. */
bool lxc_gpu_path(const char *path)
{
	if (!path || path[0] != '/')
		return false;
	if (startswith(path, "/dev/dri") && (path[8] == '\0' || path[8] == '/'))
		return true;
	const char *base = strrchr(path, '/') + 1;
	return startswith(base, "nvidia") || streq(base, "kfd") || streq(base, "dri") ||
	       (startswith(base, "renderD") && isdigit((unsigned char)base[7])) ||
	       (startswith(base, "card") && isdigit((unsigned char)base[4]));
}

static int add_node(struct lxc_config *c, size_t *cap, const char *path, const char *source, unsigned line)
{
	struct lxc_devnode *n = array_push(&c->nodes, &c->n_nodes, cap, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->line = line;
	n->path = strdup(path);
	n->source = strdup(source);
	return n->path && n->source ? 0 : -ENOMEM;
}

static int parse_num_or_star(const char *s, size_t n, int *ret)
{
	if (n == 1 && *s == '*') {
		*ret = -1;
		return 0;
	}
	char buf[16];
	unsigned long long v;
	if (n == 0 || n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (parse_uint(buf, 0xfffff, &v) < 0)
		return -EINVAL;
	*ret = (int)v;
	return 0;
}

/* devices.allow value: "a" or "c|b|a MAJ:MIN [rwm]" with '*' wildcards. */
static int parse_rule(const char *v, struct lxc_devrule *ret)
{
	if (v[0] != 'a' && v[0] != 'b' && v[0] != 'c')
		return -EINVAL;
	ret->type = v[0];
	ret->major = ret->minor = -1;
	if (v[1] == '\0')
		return v[0] == 'a' ? 0 : -EINVAL;
	if (!isspace((unsigned char)v[1]))
		return -EINVAL;
	const char *p = v + 1;
	while (isspace((unsigned char)*p))
		p++;
	size_t n = strcspn(p, ":");
	if (!p[n] || parse_num_or_star(p, n, &ret->major) < 0)
		return -EINVAL;
	p += n + 1;
	n = strcspn(p, " \t");
	return parse_num_or_star(p, n, &ret->minor);
}

static int parse_lxc_key(struct lxc_config *c, size_t *cap_nodes, size_t *cap_rules, const char *key, char *value,
			 const char *file, unsigned lineno, struct problem_list *problems)
{
	if (streq(key, "lxc.cgroup2.devices.allow") || streq(key, "lxc.cgroup.devices.allow")) {
		struct lxc_devrule rule;
		if (parse_rule(value, &rule) < 0) {
			problem_add(problems, file, lineno, "%s: invalid device rule '%s'", key, value);
			return 0;
		}
		if (rule.type != 'a' && rule.major != 195 && rule.major != 226 && rule.major != -1)
			return 0;
		struct lxc_devrule *r = array_push(&c->rules, &c->n_rules, cap_rules, sizeof(*r));
		if (!r)
			return -ENOMEM;
		*r = rule;
		r->source = strdup(key);
		return r->source ? 0 : -ENOMEM;
	}
	if (streq(key, "lxc.mount.entry")) {
		/* fstab format: the first field is the host path */
		value[strcspn(value, " \t")] = '\0';
		if (lxc_gpu_path(value))
			return add_node(c, cap_nodes, value, key, lineno);
	}
	return 0;
}

/* devN: [[path=]/dev/...][,deny-write=..][,gid=..][,mode=..][,uid=..] */
static int parse_dev(struct lxc_config *c, size_t *cap_nodes, const char *key, char *value, const char *file,
		     unsigned lineno, struct problem_list *problems)
{
	const char *path = NULL;
	for (char *save = NULL, *part = strtok_r(value, ",", &save); part; part = strtok_r(NULL, ",", &save)) {
		part = strstrip(part);
		if (startswith(part, "path="))
			path = part + 5;
		else if (!strchr(part, '=') && !path)
			path = part;
	}
	if (!path || !startswith(path, "/dev/")) {
		problem_add(problems, file, lineno, "%s: device path must start with /dev/", key);
		return 0;
	}
	return lxc_gpu_path(path) ? add_node(c, cap_nodes, path, key, lineno) : 0;
}

int lxc_config_parse_buf(char *buf, unsigned vmid, const char *file, struct lxc_config *ret, struct problem_list *problems)
{
	struct lxc_config c = { .vmid = vmid };
	size_t cap_nodes = 0, cap_rules = 0;
	unsigned lineno = 0;
	int r = 0;

	for (char *p = buf, *line; (line = next_line(&p));) {
		lineno++;
		char *s = strstrip(line);
		if (!*s || *s == '#')
			continue;
		if (*s == '[')
			break;  /* [pve:pending] and snapshots follow the live config */
		if (startswith(s, "lxc.")) {
			/* ^(lxc\.[a-z0-9_\-\.]+)(:|\s*=)\s*(.*?)\s*$ */
			size_t k = 4;
			while (islower((unsigned char)s[k]) || isdigit((unsigned char)s[k]) || s[k] == '_' || s[k] == '-' || s[k] == '.')
				k++;
			size_t sep = k;
			while (s[sep] == ' ' || s[sep] == '\t')
				sep++;
			if (k == 4 || !(s[sep] == '=' || (s[k] == ':' && sep == k))) {
				problem_add(problems, file, lineno, "unable to parse config line '%s'", s);
				continue;
			}
			s[k] = '\0';
			char *value = strstrip(s + sep + 1);
			if ((r = parse_lxc_key(&c, &cap_nodes, &cap_rules, s, value, file, lineno, problems)) < 0)
				goto fail;
			continue;
		}
		char *colon = strchr(s, ':');
		char *value = colon ? strstrip(colon + 1) : NULL;
		bool key_ok = colon && islower((unsigned char)*s);
		for (char *q = s; key_ok && q < colon; q++)
			key_ok = islower((unsigned char)*q) || *q == '_' || isdigit((unsigned char)*q);
		if (!key_ok || !*value) {
			problem_add(problems, file, lineno, "unable to parse config line '%s'", s);
			continue;
		}
		*colon = '\0';
		if (streq(s, "hostname")) {
			if ((r = str_set(&c.hostname, value)) < 0)
				goto fail;
		} else if (streq(s, "lock")) {
			if ((r = str_set(&c.lock, value)) < 0)
				goto fail;
		} else if (streq(s, "template") || streq(s, "onboot")) {
			int b = parse_boolean(value);
			if (b < 0)
				problem_add(problems, file, lineno, "%s: invalid boolean '%s'", s, value);
			else if (streq(s, "template"))
				c.template = b;
			else
				c.onboot = b;
		} else if (startswith(s, "dev") && isdigit((unsigned char)s[3])) {
			if ((r = parse_dev(&c, &cap_nodes, s, value, file, lineno, problems)) < 0)
				goto fail;
		}
	}
	*ret = c;
	return 0;
fail:
	lxc_config_release(&c);
	return r;
}

int lxc_config_parse(const char *text, unsigned vmid, const char *file, struct lxc_config *ret, struct problem_list *problems)
{
	_cleanup_free_ char *buf = strdup(text);
	if (!buf)
		return -ENOMEM;
	return lxc_config_parse_buf(buf, vmid, file, ret, problems);
}

int lxc_config_load(unsigned vmid, struct lxc_config *ret, struct problem_list *problems)
{
	char path[64];
	snprintf(path, sizeof(path), "/etc/pve/lxc/%u.conf", vmid);
	_cleanup_free_ char *text = NULL;
	int r = root_read_file(path, 0, &text, NULL);
	if (r < 0)
		return r;
	return lxc_config_parse_buf(text, vmid, path, ret, problems);
}

void lxc_config_release(struct lxc_config *c)
{
	free(c->hostname);
	free(c->lock);
	for (size_t i = 0; i < c->n_nodes; i++) {
		free(c->nodes[i].path);
		free(c->nodes[i].source);
	}
	free(c->nodes);
	for (size_t i = 0; i < c->n_rules; i++)
		free(c->rules[i].source);
	free(c->rules);
	*c = (struct lxc_config){ 0 };
}

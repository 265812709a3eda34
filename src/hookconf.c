#include <ctype.h>
#include <string.h>
#include <sys/stat.h>

#include "hookconf.h"
#include "rootfs.h"
#include "strutil.h"

#define KNOWN_KEYS "shutdown-timeout, force-stop, protect, restore, chain"

void hook_config_init(struct hook_config *c)
{
	*c = (struct hook_config){
		.shutdown_timeout = HOOKCONF_SHUTDOWN_TIMEOUT_DEFAULT,
		.restore = HOOK_RESTORE_EARLY,
	};
}

void hook_config_release(struct hook_config *c)
{
	free(c->protect);
	free(c->chain);
	hook_config_init(c);
}

bool hook_config_protects(const struct hook_config *c, unsigned vmid)
{
	for (size_t i = 0; i < c->n_protect; i++)
		if (c->protect[i] == vmid)
			return true;
	return false;
}

const char *hook_restore_to_string(enum hook_restore r)
{
	return r == HOOK_RESTORE_JOB_END ? "job-end" : "early";
}

/* Decimal digits only, no sign, no spaces; value within lo..hi. */
static bool parse_uint_range(const char *s, unsigned long lo, unsigned long hi, unsigned *ret)
{
	unsigned long long v;
	if (parse_uint(s, hi, &v) < 0 || v < lo)
		return false;
	*ret = (unsigned)v;
	return true;
}

/* Proxmox's boolean spellings (JSONSchema parse_boolean). */
static int parse_bool(const char *s)
{
	static const char *const yes[] = { "1", "yes", "on", "true" }, *const no[] = { "0", "no", "off", "false" };
	for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return 1;
		if (strcasecmp(s, no[i]) == 0)
			return 0;
	}
	return -1;
}

static int parse_protect(char *value, const char *file, unsigned line, struct hook_config *c, struct problem_list *problems)
{
	int bad = 0;
	char *save = NULL;
	for (char *tok = strtok_r(value, ",; \t", &save); tok; tok = strtok_r(NULL, ",; \t", &save)) {
		unsigned vmid;
		if (!parse_uint_range(tok, 100, 999999999, &vmid)) {
			problem_add(problems, file, line, "protect: '%s' is not a vmid (100 to 999999999)", tok);
			bad = -EINVAL;
			continue;
		}
		if (hook_config_protects(c, vmid))
			continue;
		unsigned *slot = array_push(&c->protect, &c->n_protect, &c->cap_protect, sizeof(*slot));
		if (!slot)
			return -ENOMEM;
		*slot = vmid;
	}
	return bad;
}

static int parse_chain(const char *value, const char *file, unsigned line, struct hook_config *c, struct problem_list *problems)
{
	if (value[0] != '/') {
		problem_add(problems, file, line, "chain: '%s' is not an absolute path", value);
		return -EINVAL;
	}
	for (const char *p = value; *p; p++)
		if (isspace((unsigned char)*p) || iscntrl((unsigned char)*p)) {
			problem_add(problems, file, line, "chain: the path must not contain spaces or control characters");
			return -EINVAL;
		}
	const char *self = SBINDIR "/pve-gpu-backup-hook";
	if (streq(value, self) || streq(value, "/usr/sbin/pve-gpu-backup-hook")) {
		problem_add(problems, file, line, "chain: '%s' is this hook itself; it would run itself for ever", value);
		return -EINVAL;
	}
	char *dup = strdup(value);
	if (!dup)
		return -ENOMEM;
	free(c->chain);
	c->chain = dup;
	c->chain_line = line;
	return 0;
}

static int parse_line(char *key, char *value, const char *file, unsigned line, unsigned seen[5],
		      struct hook_config *c, struct problem_list *problems)
{
	static const char *const keys[] = { "shutdown-timeout", "force-stop", "protect", "restore", "chain" };
	size_t k;
	for (k = 0; k < ELEMENTSOF(keys); k++)
		if (streq(key, keys[k]))
			break;
	if (k == ELEMENTSOF(keys)) {
		problem_add(problems, file, line, "unknown key '%s' (known keys: " KNOWN_KEYS ")", key);
		return -EINVAL;
	}
	/* protect accumulates; any other key given twice is most likely a mistake. */
	if (k != 2 && seen[k]) {
		problem_add(problems, file, line, "'%s' is already set on line %u", key, seen[k]);
		return -EINVAL;
	}
	seen[k] = line;

	switch (k) {
	case 0:
		if (!parse_uint_range(value, 1, HOOKCONF_SHUTDOWN_TIMEOUT_MAX, &c->shutdown_timeout)) {
			problem_add(problems, file, line, "shutdown-timeout: '%s' is not a number of seconds from 1 to %u",
				    value, HOOKCONF_SHUTDOWN_TIMEOUT_MAX);
			return -EINVAL;
		}
		return 0;
	case 1: {
		int b = parse_bool(value);
		if (b < 0) {
			problem_add(problems, file, line, "force-stop: '%s' is not 0 or 1", value);
			return -EINVAL;
		}
		c->force_stop = b;
		return 0;
	}
	case 2:
		return parse_protect(value, file, line, c, problems);
	case 3:
		if (streq(value, "early"))
			c->restore = HOOK_RESTORE_EARLY;
		else if (streq(value, "job-end"))
			c->restore = HOOK_RESTORE_JOB_END;
		else {
			problem_add(problems, file, line, "restore: '%s' is not 'early' or 'job-end'", value);
			return -EINVAL;
		}
		return 0;
	default:
		return parse_chain(value, file, line, c, problems);
	}
}

int hook_config_parse(const char *text, const char *file, struct hook_config *c, struct problem_list *problems)
{
	_cleanup_free_ char *copy = strdup(text);
	if (!copy)
		return -ENOMEM;
	unsigned seen[5] = { 0 }, lineno = 0;
	int ret = 0;
	char *next = copy;
	while (next) {
		char *l = next;
		next = strchr(l, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		l = strstrip(l);
		if (!*l || *l == '#')
			continue;
		/* ^(\S+?):\s*(.*)$ as vzdump.conf: the key ends at the first colon, without whitespace. */
		size_t klen = strcspn(l, ": \t\r\v\f");
		if (klen == 0 || l[klen] != ':') {
			problem_add(problems, file, lineno, "not a 'key: value' line: '%s'", l);
			ret = -EINVAL;
			continue;
		}
		l[klen] = '\0';
		int r = parse_line(l, strstrip(l + klen + 1), file, lineno, seen, c, problems);
		if (r == -ENOMEM)
			return r;
		if (r < 0)
			ret = r;
	}
	return ret;
}

static int check_chain(const char *self_exe, struct hook_config *c, struct problem_list *problems)
{
	_cleanup_free_ char *path = root_path(c->chain);
	if (!path)
		return -ENOMEM;
	struct stat st, self;
	if (stat(path, &st) < 0) {
		problem_add(problems, HOOKCONF_PATH, c->chain_line, "chain: cannot use '%s': %s", c->chain, strerror(errno));
		return -EINVAL;
	}
	if (!S_ISREG(st.st_mode) || access(path, X_OK) < 0) {
		problem_add(problems, HOOKCONF_PATH, c->chain_line, "chain: '%s' is not an executable file", c->chain);
		return -EINVAL;
	}
	if (self_exe && stat(self_exe, &self) == 0 && self.st_dev == st.st_dev && self.st_ino == st.st_ino) {
		problem_add(problems, HOOKCONF_PATH, c->chain_line,
			    "chain: '%s' is this hook itself; it would run itself for ever", c->chain);
		return -EINVAL;
	}
	return 0;
}

int hook_config_load(const char *self_exe, struct hook_config *c, struct problem_list *problems)
{
	hook_config_init(c);
	_cleanup_free_ char *text = NULL;
	int r = root_read_file(HOOKCONF_PATH, 1u << 20, &text, NULL);
	if (r == -ENOENT)
		return 0;
	if (r < 0) {
		problem_add(problems, HOOKCONF_PATH, 0, "cannot read the file: %s", strerror(-r));
		return r;
	}
	r = hook_config_parse(text, HOOKCONF_PATH, c, problems);
	if (r == -ENOMEM)
		return r;
	if (c->chain) {
		int k = check_chain(self_exe, c, problems);
		if (k < 0)
			r = k;
	}
	return r;
}

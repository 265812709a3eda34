#include <fcntl.h>
#include <sys/stat.h>

#include "hookconf.h"
#include "rootfs.h"
#include "tap.h"
#include "testdir.h"

static const char *first_problem(const struct problem_list *p)
{
	static char buf[512];
	if (p->n == 0)
		return NULL;
	snprintf(buf, sizeof(buf), "%s:%u: %s", p->items[0].file ? p->items[0].file : "-", p->items[0].line,
		 p->items[0].message);
	return buf;
}

/* Parse text; return the first problem as "file:line: message", or NULL when it parsed. */
static const char *parse(const char *text, struct hook_config *c)
{
	static char buf[512];
	struct problem_list p = { 0 };
	hook_config_init(c);
	int r = hook_config_parse(text, "/etc/pve-gpu-backup-hook.conf", c, &p);
	const char *first = first_problem(&p);
	if (first)
		snprintf(buf, sizeof(buf), "%s", first);
	bool bad = r < 0;
	problem_list_release(&p);
	return bad ? (first ? buf : "error without a problem") : (first ? "problem but no error" : NULL);
}

static void write_file(const char *dir, const char *rel, const char *text, mode_t mode)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p) - 1, "%s%s", dir, rel);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode);
	if (fd < 0 || write(fd, text, strlen(text)) < 0)
		perror(p);
	close(fd);
}

static void test_grammar(void)
{
	struct hook_config c;

	is_str(parse("", &c), NULL, "an empty file is fine");
	is_int(c.shutdown_timeout, 180, "default shutdown-timeout 180");
	ok(!c.force_stop && c.restore == HOOK_RESTORE_EARLY && !c.chain && c.n_protect == 0, "other defaults");
	hook_config_release(&c);

	is_str(parse("# comment\n\n  shutdown-timeout:   300  \nforce-stop: 1\nrestore: job-end\n"
		     "protect: 104, 105;106 107\t108\nprotect: 109,104\nchain: /usr/local/bin/old-hook\n", &c),
	       NULL, "a full file parses");
	is_int(c.shutdown_timeout, 300, "shutdown-timeout trimmed and read");
	ok(c.force_stop, "force-stop 1");
	ok(c.restore == HOOK_RESTORE_JOB_END, "restore job-end");
	is_int(c.n_protect, 6, "protect lists accumulate, duplicates once");
	ok(hook_config_protects(&c, 104) && hook_config_protects(&c, 109) && !hook_config_protects(&c, 110),
	   "protect lookup");
	is_str(c.chain, "/usr/local/bin/old-hook", "chain path");
	is_int(c.chain_line, 8, "chain line remembered");
	hook_config_release(&c);

	is_str(parse("force-stop:yes\nshutdown-timeout:1\n", &c), NULL, "no space after the colon, yes as boolean");
	ok(c.force_stop && c.shutdown_timeout == 1, "values read");
	hook_config_release(&c);

	is_str(parse("protect:\n", &c), NULL, "an empty protect list");
	hook_config_release(&c);

	struct { const char *text, *want, *what; } bad[] = {
		{ "shutdown-timeout: 0\n", "/etc/pve-gpu-backup-hook.conf:1: shutdown-timeout: '0' is not a number of seconds from 1 to 86400", "timeout 0" },
		{ "\nshutdown-timeout: 86401\n", "/etc/pve-gpu-backup-hook.conf:2: shutdown-timeout: '86401' is not a number of seconds from 1 to 86400", "timeout too large" },
		{ "shutdown-timeout: 180s\n", "/etc/pve-gpu-backup-hook.conf:1: shutdown-timeout: '180s' is not a number of seconds from 1 to 86400", "unit suffix" },
		{ "shutdown-timeout: -5\n", "/etc/pve-gpu-backup-hook.conf:1: shutdown-timeout: '-5' is not a number of seconds from 1 to 86400", "negative" },
		{ "shutdown-timeout:\n", "/etc/pve-gpu-backup-hook.conf:1: shutdown-timeout: '' is not a number of seconds from 1 to 86400", "empty" },
		{ "force-stop: 2\n", "/etc/pve-gpu-backup-hook.conf:1: force-stop: '2' is not 0 or 1", "force-stop 2" },
		{ "protect: 104,abc\n", "/etc/pve-gpu-backup-hook.conf:1: protect: 'abc' is not a vmid (100 to 999999999)", "protect word" },
		{ "protect: 99\n", "/etc/pve-gpu-backup-hook.conf:1: protect: '99' is not a vmid (100 to 999999999)", "protect below 100" },
		{ "protect: 1000000000\n", "/etc/pve-gpu-backup-hook.conf:1: protect: '1000000000' is not a vmid (100 to 999999999)", "protect too large" },
		{ "restore: late\n", "/etc/pve-gpu-backup-hook.conf:1: restore: 'late' is not 'early' or 'job-end'", "restore value" },
		{ "chain: old-hook\n", "/etc/pve-gpu-backup-hook.conf:1: chain: 'old-hook' is not an absolute path", "relative chain" },
		{ "chain: /usr/sbin/pve-gpu-backup-hook\n", "/etc/pve-gpu-backup-hook.conf:1: chain: '/usr/sbin/pve-gpu-backup-hook' is this hook itself; it would run itself for ever", "chain to ourselves" },
		{ "force_stop: 1\n", "/etc/pve-gpu-backup-hook.conf:1: unknown key 'force_stop' (known keys: shutdown-timeout, force-stop, protect, restore, chain)", "typo in a key" },
		{ "force-stop 1\n", "/etc/pve-gpu-backup-hook.conf:1: not a 'key: value' line: 'force-stop 1'", "missing colon" },
		{ ": 1\n", "/etc/pve-gpu-backup-hook.conf:1: not a 'key: value' line: ': 1'", "missing key" },
		{ "force-stop: 1\nforce-stop: 0\n", "/etc/pve-gpu-backup-hook.conf:2: 'force-stop' is already set on line 1", "a scalar key twice" },
	};
	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		is_str(parse(bad[i].text, &c), bad[i].want, "rejected: %s", bad[i].what);
		hook_config_release(&c);
	}

	struct problem_list p = { 0 };
	hook_config_init(&c);
	int r = hook_config_parse("restore: x\nforce-stop: 1\nbogus: 1\n", "f", &c, &p);
	is_int(r, -EINVAL, "several bad lines: -EINVAL");
	is_int(p.n, 2, "every bad line reported, not only the first");
	ok(p.n == 2 && p.items[1].line == 3, "second problem on line 3");
	problem_list_release(&p);
	hook_config_release(&c);
}

static void test_load(const char *dir)
{
	struct hook_config c;
	struct problem_list p = { 0 };
	char d[PATH_MAX];

	root_set_prefix(dir);
	snprintf(d, sizeof(d) - 16, "%s", dir);
	strcat(d, "/etc");
	mkdir(d, 0755);
	snprintf(d, sizeof(d) - 16, "%s", dir);
	strcat(d, "/bin");
	mkdir(d, 0755);

	is_int(hook_config_load("/proc/self/exe", &c, &p), 0, "a missing file means defaults");
	ok(p.n == 0 && c.shutdown_timeout == 180, "defaults, no problem");
	hook_config_release(&c);

	write_file(dir, "/etc/pve-gpu-backup-hook.conf", "shutdown-timeout: 60\nprotect: 104\n", 0644);
	is_int(hook_config_load("/proc/self/exe", &c, &p), 0, "file read under the root prefix");
	ok(c.shutdown_timeout == 60 && hook_config_protects(&c, 104), "values from the file");
	hook_config_release(&c);

	write_file(dir, "/etc/pve-gpu-backup-hook.conf", "chain: /bin/old-hook\n", 0644);
	is_int(hook_config_load("/proc/self/exe", &c, &p), -EINVAL, "a missing chained hook is an error");
	is_str(first_problem(&p), "/etc/pve-gpu-backup-hook.conf:1: chain: cannot use '/bin/old-hook': No such file or directory",
	       "with file, line and reason");
	problem_list_release(&p);
	hook_config_release(&c);

	write_file(dir, "/bin/old-hook", "#!/bin/sh\nexit 0\n", 0644);
	is_int(hook_config_load("/proc/self/exe", &c, &p), -EINVAL, "a chained hook that is not executable");
	is_str(first_problem(&p), "/etc/pve-gpu-backup-hook.conf:1: chain: '/bin/old-hook' is not an executable file", "says so");
	problem_list_release(&p);
	hook_config_release(&c);

	char hook[PATH_MAX];
	snprintf(hook, sizeof(hook) - 16, "%s", dir);
	strcat(hook, "/bin/old-hook");
	chmod(hook, 0755);
	is_int(hook_config_load("/proc/self/exe", &c, &p), 0, "an executable chained hook");
	is_str(c.chain, "/bin/old-hook", "chain kept as written (run under the root prefix)");
	hook_config_release(&c);

	/* Same file under another name: we would call ourselves. */
	is_int(hook_config_load(hook, &c, &p), -EINVAL, "chain pointing at our own binary");
	is_str(first_problem(&p), "/etc/pve-gpu-backup-hook.conf:1: chain: '/bin/old-hook' is this hook itself; it would run itself for ever",
	       "refused as ourselves");
	problem_list_release(&p);
	hook_config_release(&c);

	/* Root reads any mode, so make the file unreadable as a directory. */
	char conf[PATH_MAX];
	snprintf(conf, sizeof(conf) - 40, "%s", dir);
	strcat(conf, "/etc/pve-gpu-backup-hook.conf");
	unlink(conf);
	mkdir(conf, 0755);
	is_int(hook_config_load(NULL, &c, &p), -EISDIR, "an unreadable file is an error, not defaults");
	is_str(first_problem(&p), "/etc/pve-gpu-backup-hook.conf:0: cannot read the file: Is a directory", "says why");
	problem_list_release(&p);
	hook_config_release(&c);
	root_set_prefix(NULL);
}

int main(void)
{
	char *dir = testdir_create("hookconf.t");
	test_grammar();
	test_load(dir);
	testdir_remove(dir);
	return tap_done();
}

#include <string.h>

#include "hookconf.h"
#include "tap.h"
#include "udiff.h"
#include "vzdumpconf.h"

#define OURS "script: " OUR_HOOK_PATH

static void test_keys(void)
{
	struct conf_file f;
	const char *s = "# c\n  script:/a b  \r\nscript : /x\n#script: /y\nmode: stop\r\nweird line\n:x: y\n\nlast: v";
	ok(conf_file_parse(&f, s, strlen(s)) == 0, "parse");
	is_int(f.n_lines, 9, "nine lines");
	ok(f.lines[0].key == NULL, "comment has no key");
	is_str(f.lines[1].key, "script", "indented key, no space after colon");
	_cleanup_free_ char *v1 = conf_line_value(&f, 1);
	is_str(v1, "/a b", "value trimmed, inner space kept, CR not in value");
	is_int(f.lines[1].eol, 2, "CRLF ending");
	ok(f.lines[2].key == NULL, "'script : x' is ignored by vzdump");
	ok(f.lines[3].key == NULL, "#script is a comment");
	is_str(f.lines[4].key, "mode", "mode key");
	ok(f.lines[5].key == NULL, "line without colon ignored");
	is_str(f.lines[6].key, ":x", "shortest non-space key before a colon");
	ok(f.lines[7].key == NULL, "blank");
	is_int(f.lines[8].eol, 0, "last line without newline");
	is_str(conf_file_eol(&f), "\n", "eol from the first line");
	conf_file_release(&f);
}

static void test_kinds(void)
{
	is_int(hook_kind_of(NULL), HOOK_NONE, "no script");
	is_int(hook_kind_of(OUR_HOOK_PATH), HOOK_OURS, "ours");
	is_int(hook_kind_of("/usr/local/bin/backup-gpu-hook.sh"), HOOK_OLD_BASH, "old bash hook");
	is_int(hook_kind_of("/root/backup-gpu-hook.sh"), HOOK_OLD_BASH, "old bash hook anywhere");
	is_int(hook_kind_of("/root/backup-gpu-hook.sh.bak"), HOOK_OTHER, "not the old hook");
	is_int(hook_kind_of("/root/x.sh"), HOOK_OTHER, "other");
	is_int(hook_kind_of("/usr/local/sbin/pve-gpu-backup-hook"), HOOK_OURS_ELSEWHERE, "ours at another path");
}

static bool plan(enum setup_action a, const char *vz, const char *hc, struct setup_plan *p)
{
	return setup_plan_make(a, vz, vz ? strlen(vz) : 0, hc, hc ? strlen(hc) : 0, p) == 0;
}

/* apply, then apply again (no change), then remove: the original bytes again. */
static void roundtrip(const char *name, const char *vz, const char *hc, bool exact)
{
	struct setup_plan a, a2, r;
	ok(plan(SETUP_APPLY, vz, hc, &a), "%s: apply planned", name);
	const char *vz1 = a.vzdump_changes ? a.new_vzdump : vz;
	const char *hc1 = a.hook_conf_changes ? a.new_hook_conf : hc;
	ok(plan(SETUP_APPLY, vz1, hc1, &a2), "%s: second apply planned", name);
	ok(!a2.vzdump_changes && !a2.hook_conf_changes, "%s: second apply changes nothing", name);
	is_int(a2.kind, HOOK_OURS, "%s: ours after apply", name);
	ok(plan(SETUP_REMOVE, vz1, hc1, &r), "%s: remove planned", name);
	if (exact) {
		is_str(r.new_vzdump, vz ? vz : "", "%s: remove gives the original vzdump.conf", name);
		const char *hc2 = r.hook_conf_changes ? r.new_hook_conf : hc1;
		if (hc)
			is_str(hc2, hc, "%s: remove gives the original hook config", name);
		else
			ok(!r.hook_conf_changes || r.hook_conf_delete, "%s: hook config goes away", name);
	}
	setup_plan_release(&a);
	setup_plan_release(&a2);
	setup_plan_release(&r);
}

static void test_apply(void)
{
	struct setup_plan p;

	ok(plan(SETUP_APPLY, "# c\n\ngarbage\nscript : /x\n  \t\nmode: stop\n", NULL, &p), "plan with ignored lines");
	is_int(p.n_ignored_lines, 2, "two lines vzdump ignores");
	if (p.n_ignored_lines == 2)
		ok(p.ignored_lines[0] == 3 && p.ignored_lines[1] == 4, "lines 3 and 4");
	setup_plan_release(&p);

	ok(plan(SETUP_APPLY, "mode: stop\n", NULL, &p), "plan none");
	is_int(p.kind, HOOK_NONE, "none found");
	is_str(p.new_vzdump, "mode: stop\n" OUR_COMMENT "\n" OURS "\n", "appended with comment");
	ok(!p.hook_conf_changes, "no hook config");
	setup_plan_release(&p);

	ok(plan(SETUP_APPLY, "mode: stop", NULL, &p), "plan no final newline");
	is_str(p.new_vzdump, "mode: stop\n" OUR_COMMENT "\n" OURS, "still no final newline");
	setup_plan_release(&p);

	ok(plan(SETUP_APPLY, "a: b\r\nc: d\r\n", NULL, &p), "plan CRLF");
	is_str(p.new_vzdump, "a: b\r\nc: d\r\n" OUR_COMMENT "\r\n" OURS "\r\n", "CRLF kept for new lines");
	setup_plan_release(&p);

	ok(plan(SETUP_APPLY, "# x\n" OURS "\n", NULL, &p), "plan ours");
	is_int(p.kind, HOOK_OURS, "ours found");
	ok(!p.vzdump_changes && !p.hook_conf_changes, "nothing to do");
	setup_plan_release(&p);

	ok(plan(SETUP_APPLY, "a: 1\nscript: /usr/local/bin/backup-gpu-hook.sh\nb: 2\n", NULL, &p), "plan old");
	is_int(p.kind, HOOK_OLD_BASH, "old hook found");
	is_str(p.new_vzdump, "a: 1\n" OURS "\nb: 2\n", "old hook replaced in place");
	ok(!p.chain && !p.hook_conf_changes, "old hook not chained");
	setup_plan_release(&p);

	ok(plan(SETUP_APPLY, "script: /usr/local/sbin/pve-gpu-backup-hook\n", NULL, &p), "plan ours elsewhere");
	is_str(p.new_vzdump, OURS "\n", "pointed at the package's path");
	ok(p.chain == NULL && !p.hook_conf_changes, "never chained to itself");
	setup_plan_release(&p);

	ok(plan(SETUP_APPLY, "  script:\t/root/x.sh  \n", NULL, &p), "plan other");
	is_int(p.kind, HOOK_OTHER, "other found");
	is_str(p.effective_script, "/root/x.sh", "effective script");
	is_str(p.chain, "/root/x.sh", "chained");
	is_str(p.new_vzdump, "  script:\t" OUR_HOOK_PATH "  \n", "only the value replaced");
	is_str(p.new_hook_conf, OUR_CHAIN_COMMENT "\nchain: /root/x.sh\n", "chain written");

	struct hook_config hc;
	struct problem_list problems = { 0 };
	hook_config_init(&hc);
	is_int(hook_config_parse(p.new_hook_conf, HOOK_CONF_PATH, &hc, &problems), 0, "the hook reads the chain we write");
	is_str(hc.chain, "/root/x.sh", "the hook sees the chained path");
	hook_config_release(&hc);
	problem_list_release(&problems);
	setup_plan_release(&p);

	ok(plan(SETUP_APPLY, "script: /root/x.sh\n", "force-stop: 1\nchain: /old\n", &p), "plan other, old chain");
	is_str(p.old_chain, "/old", "old chain reported");
	is_str(p.new_hook_conf, "force-stop: 1\nchain: /root/x.sh\n", "chain value replaced");
	setup_plan_release(&p);

	ok(plan(SETUP_APPLY, "script: /a\nmode: stop\nscript: /usr/local/bin/backup-gpu-hook.sh\n", NULL, &p), "plan several");
	is_int(p.kind, HOOK_SEVERAL, "several found");
	is_int(p.effective_kind, HOOK_OLD_BASH, "vzdump uses the last");
	is_int(p.effective_line, 3, "its line");
	is_int(p.n_dropped, 1, "one dropped");
	is_str(p.dropped[0], "/a", "the first one dropped");
	is_str(p.new_vzdump, "mode: stop\n" OURS "\n", "fixed to one; mode untouched");
	is_int(p.n_mode_lines, 1, "one mode: line counted");
	setup_plan_release(&p);

	ok(plan(SETUP_APPLY, OURS "\nscript: /b\n", NULL, &p), "plan several, ours first");
	is_str(p.new_vzdump, OURS "\n", "one line left");
	is_str(p.chain, "/b", "the effective other hook chained");
	setup_plan_release(&p);

	ok(plan(SETUP_APPLY, "script: /b\n" OURS "\n", NULL, &p), "plan several, ours last");
	is_str(p.new_vzdump, OURS "\n", "earlier line dropped");
	ok(p.chain == NULL, "nothing chained: vzdump never ran /b");
	setup_plan_release(&p);

	ok(plan(SETUP_APPLY, NULL, NULL, &p), "plan missing file");
	is_str(p.new_vzdump, OUR_COMMENT "\n" OURS "\n", "new file");
	setup_plan_release(&p);
}

static void test_remove(void)
{
	struct setup_plan p;
	ok(plan(SETUP_REMOVE, "mode: stop\n", NULL, &p), "remove without ours");
	ok(!p.vzdump_changes && !p.hook_conf_changes, "nothing to remove");
	setup_plan_release(&p);

	ok(plan(SETUP_REMOVE, "script: /usr/local/bin/backup-gpu-hook.sh\n", NULL, &p), "remove old");
	ok(!p.vzdump_changes, "someone else's hook is not ours to remove");
	setup_plan_release(&p);

	roundtrip("empty", "", NULL, true);
	roundtrip("missing", NULL, NULL, true);
	roundtrip("plain", "# vzdump default settings\n\n#script: FILENAME\nmode: snapshot\n", NULL, true);
	roundtrip("no final newline", "a: b\n#c", NULL, true);
	roundtrip("CRLF", "a: b\r\n# c\r\n", NULL, true);
	roundtrip("CRLF no final newline", "a: b\r\nc: d", NULL, true);
	roundtrip("other", "x: 1\n  script:/root/x.sh \r\ny: 2", NULL, true);
	roundtrip("other, hook config", "script: /root/x.sh\n", "force-stop: 1", true);
	roundtrip("other, hook config with chain", "script: /root/x.sh\n", "chain: /root/x.sh\n", false);
	roundtrip("old", "script: /usr/local/bin/backup-gpu-hook.sh\n", NULL, false);
	roundtrip("several", "script: /a\nscript: /b\n", NULL, false);
	roundtrip("lone CR at the end", "a: b\n\r", NULL, true);
	roundtrip("ignored lines", "garbage here\nscript : /not/a/key\n\t\n", NULL, true);
}

static void test_jobs(void)
{
	const char *s =
		"vzdump: backup-a\n\tschedule daily\n\tscript /root/h.sh\n\n"
		"# comment\n"
		"vzdump: backup-b\n        all 1\n        mode snapshot\n\n"
		"realm-sync: x\n\tscript /nope\n\n"
		"vzdump: backup-c\n        script   /usr/sbin/pve-gpu-backup-hook  \n\n"
		"vzdump: backup-d\n\tall 1\n \t\n\tscript /root/d.sh\n";
	struct backup_job *jobs;
	size_t n;
	ok(jobs_cfg_scripts(s, strlen(s), &jobs, &n) == 0, "jobs parsed");
	is_int(n, 3, "three jobs with a script");
	if (n == 3) {
		is_str(jobs[0].id, "backup-a", "first id");
		is_str(jobs[0].script, "/root/h.sh", "first script");
		is_int(jobs[0].line, 3, "first line");
		is_str(jobs[1].id, "backup-c", "space-indented job");
		is_str(jobs[1].script, OUR_HOOK_PATH, "trailing space trimmed");
		is_str(jobs[2].id, "backup-d", "a whitespace-only line does not end a section");
	}
	backup_jobs_free(jobs, n);
}

static void test_diff(void)
{
	char *d;
	ok(unified_diff("a\n", 2, "a\n", 2, "x", "x", &d) == 0, "diff equal");
	is_str(d, "", "no diff for equal text");
	free(d);

	const char *o = "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n";
	const char *n = "1\n2\n3\n4\nfive\n6\n7\n8\n9\n10\nnew\n";
	ok(unified_diff(o, strlen(o), n, strlen(n), "/etc/vzdump.conf", "/etc/vzdump.conf", &d) == 0, "diff");
	is_str(d, "--- /etc/vzdump.conf\n+++ /etc/vzdump.conf\n"
	          "@@ -2,9 +2,10 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n 9\n 10\n+new\n", "one hunk");
	free(d);

	const char *o2 = "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n";
	const char *n2 = "0\n1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12";
	ok(unified_diff(o2, strlen(o2), n2, strlen(n2), "a", "b", &d) == 0, "diff two hunks");
	is_str(d, "--- a\n+++ b\n@@ -1,3 +1,4 @@\n+0\n 1\n 2\n 3\n@@ -9,4 +10,4 @@\n 9\n 10\n 11\n-12\n+12\n"
	          "\\ No newline at end of file\n", "insert at start, newline lost at end (as GNU diff)");
	free(d);

	ok(unified_diff("", 0, "x\n", 2, "a", "b", &d) == 0, "diff from empty");
	is_str(d, "--- a\n+++ b\n@@ -0,0 +1 @@\n+x\n", "from empty");
	free(d);
}

/* Random files from a vocabulary of tricky lines: apply twice changes nothing the
 * second time; with at most one script: line, remove gives the original bytes. */
static void test_random_roundtrips(void)
{
	static const char *const vocab[] = {
		"", " ", "\t", "# c", "#script: /x", "mode: stop", "script: /root/h.sh", "  script:/root/o.sh  ",
		"script : /no", "scripts: /no", "garbage", ":", "script:", "\r", "exclude-path: /a",
		"script: /usr/local/bin/backup-gpu-hook.sh", "script: " OUR_HOOK_PATH, OUR_COMMENT,
	};
	static const char *const eols[] = { "\n", "\r\n" };
	unsigned seed = 12345, bad = 0, runs = 5000;
	char buf[2048], hc[256];
	for (unsigned it = 0; it < runs; it++) {
		size_t len = 0, n_lines;
		seed = seed * 1103515245u + 12345u;
		n_lines = (seed >> 16) % 8;
		for (size_t l = 0; l < n_lines; l++) {
			seed = seed * 1103515245u + 12345u;
			const char *line = vocab[(seed >> 16) % ELEMENTSOF(vocab)];
			const char *eol = eols[(seed >> 8) % 2];
			bool last_without = l + 1 == n_lines && (seed >> 4) % 3 == 0;
			len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s", line, last_without ? "" : eol);
		}
		seed = seed * 1103515245u + 12345u;
		snprintf(hc, sizeof(hc), "%s", (seed >> 16) % 2 ? "force-stop: 1\n" : "");

		struct setup_plan a = { 0 }, a2 = { 0 }, r = { 0 };
		if (!plan(SETUP_APPLY, buf, hc, &a)) {
			bad++;
			continue;
		}
		const char *v1 = a.vzdump_changes ? a.new_vzdump : buf;
		const char *h1 = a.hook_conf_changes ? a.new_hook_conf : hc;
		bool ok_ = plan(SETUP_APPLY, v1, h1, &a2) && !a2.vzdump_changes && !a2.hook_conf_changes;
		bool exact = a.n_script_lines == 0 || (a.n_script_lines == 1 && a.effective_kind == HOOK_OTHER);
		if (ok_ && exact) {
			ok_ = plan(SETUP_REMOVE, v1, h1, &r) && streq(r.new_vzdump, buf) &&
			      (r.hook_conf_changes ? (r.hook_conf_delete ? !*hc : streq(r.new_hook_conf, hc)) : streq(h1, hc));
		}
		if (!ok_ && bad++ < 3) {
			printf("# failed for:");
			for (const char *c = buf; *c; c++)
				printf(*c == '\n' ? "\\n" : *c == '\r' ? "\\r" : "%c", *c);
			printf(" | hook config '%s' | second apply changes %d/%d | removed:", hc,
			       a2.vzdump_changes, a2.hook_conf_changes);
			for (const char *c = r.new_vzdump; c && *c; c++)
				printf(*c == '\n' ? "\\n" : *c == '\r' ? "\\r" : "%c", *c);
			printf("\n");
		}
		setup_plan_release(&a);
		setup_plan_release(&a2);
		setup_plan_release(&r);
	}
	is_int(bad, 0, "%u random files: apply is idempotent, remove restores the bytes", runs);
}

int main(void)
{
	test_keys();
	test_kinds();
	test_apply();
	test_remove();
	test_jobs();
	test_diff();
	test_random_roundtrips();
	return tap_done();
}

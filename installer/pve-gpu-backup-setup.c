/* pve-gpu-backup-setup: shows the node's GPUs and the guests that fight over
 * them, and points vzdump at pve-gpu-backup-hook by editing /etc/vzdump.conf
 * (the package's maintainer scripts may not: it is pve-manager's conffile). */
#include <getopt.h>
#include <string.h>
#include <sys/stat.h>

#include "fileio.h"
#include "rootfs.h"
#include "setup.h"
#include "udiff.h"

enum {
	EXIT_DONE = 0,
	EXIT_DECLINED = 1,
	EXIT_ERROR = 2,
};

struct options {
	bool dry_run, yes, remove, json, no_color;
};

static void usage(void)
{
	printf("Usage: %s [OPTION]...\n"
	       "Show this node's GPUs and the guests that share them, and set up\n"
	       "pve-gpu-backup-hook as vzdump's hook script in /etc/vzdump.conf.\n"
	       "\n"
	       "Options:\n"
	       "  -n, --dry-run   show the report and the change, change nothing\n"
	       "  -y, --yes       apply without asking\n"
	       "  -r, --remove    take the hook out again (a chained hook goes back)\n"
	       "  -j, --json      print the report as JSON\n"
	       "      --no-color  no colours, even on a terminal\n"
	       "  -h, --help      show this help and exit\n"
	       "  -V, --version   show the version and exit\n"
	       "\n"
	       "Exit status: 0 done or nothing to do, 1 declined, 2 error (nothing changed).\n",
	       PROG);
}

static int parse_argv(int argc, char **argv, struct options *o)
{
	enum { OPT_NO_COLOR = 0x100 };
	static const struct option longopts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "yes", no_argument, NULL, 'y' },
		{ "remove", no_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "no-color", no_argument, NULL, OPT_NO_COLOR },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	int c;
	while ((c = getopt_long(argc, argv, "nyrjhV", longopts, NULL)) >= 0) {
		switch (c) {
		case 'n': o->dry_run = true; break;
		case 'y': o->yes = true; break;
		case 'r': o->remove = true; break;
		case 'j': o->json = true; break;
		case OPT_NO_COLOR: o->no_color = true; break;
		case 'h': usage(); return 0;
		case 'V': printf("%s %s\n", PROG, PACKAGE_VERSION); return 0;
		default:
			fprintf(stderr, "Try '%s --help' for more information.\n", PROG);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\nTry '%s --help' for more information.\n",
		        PROG, argv[optind], PROG);
		return -EINVAL;
	}
	return 1;
}

static struct style style_;

const char *c_bold(const struct style *s) { return s->color ? "\033[1m" : ""; }
const char *c_red(const struct style *s) { return s->color ? "\033[1;31m" : ""; }
const char *c_yellow(const struct style *s) { return s->color ? "\033[1;33m" : ""; }
const char *c_green(const struct style *s) { return s->color ? "\033[1;32m" : ""; }
const char *c_off(const struct style *s) { return s->color ? "\033[0m" : ""; }

/* "yes" only from a terminal; anything else declines. */
static bool ask(const struct options *o)
{
	FILE *out = o->json ? stderr : stdout;
	fprintf(out, "Apply these changes? [y/N] ");
	fflush(out);
	char line[64];
	if (!fgets(line, sizeof(line), stdin))
		return false;
	line[strcspn(line, "\r\n")] = '\0';
	return strcasecmp(line, "y") == 0 || strcasecmp(line, "yes") == 0;
}

/* vzdump fails every backup when its hook script is missing or not executable. */
static bool hook_installed(const char *path)
{
	_cleanup_free_ char *p = root_path(path);
	struct stat st;
	return p && stat(p, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111);
}

static int run(const struct options *o)
{
	enum setup_action action = o->remove ? SETUP_REMOVE : SETUP_APPLY;
	_cleanup_close_ int lock_fd = -1;
	_cleanup_free_ char *lock_path = root_path(LOCK_PATH), *target = NULL;
	_cleanup_free_ char *lr_dir = root_path("/etc/logrotate.d"), *lr = root_path(LOGROTATE_PATH);
	_cleanup_free_ char *diff_vz = NULL, *diff_hc = NULL;
	struct file_state vz = { 0 }, hc = { 0 };
	struct setup_plan plan = { 0 };
	struct json json, *j = NULL;
	FILE *out = stdout;
	int r, ret = EXIT_ERROR;
	const struct style *s = &style_;

	if (o->json) {
		json_init(&json, true);
		j = &json;
	}

	if (!o->dry_run) {
		/* Serialises wizards: taken before reading, held until written. */
		lock_fd = lock_path ? lock_file(lock_path, 0) : -ENOMEM;
		if (lock_fd == -EWOULDBLOCK) {
			fprintf(stderr, "%s: another %s is running (it holds '%s'); try again when it is done\n",
			        PROG, PROG, LOCK_PATH);
			goto out;
		}
		if (lock_fd < 0) {
			fprintf(stderr, "%s: cannot lock '%s': %s; nothing was changed\n", PROG, LOCK_PATH,
			        strerror(-lock_fd));
			goto out;
		}
	}

	r = file_state_read(&vz, VZDUMP_CONF_PATH);
	if (r == -ELOOP) {
		(void)root_readlink(VZDUMP_CONF_PATH, &target);
		fprintf(stderr, "%s: refusing to edit '%s': it is a symbolic link (to '%s'); "
		                "vzdump.conf should be a plain file\n", PROG, VZDUMP_CONF_PATH, target ? target : "?");
		goto out;
	}
	if (r < 0) {
		fprintf(stderr, "%s: cannot read '%s': %s\n", PROG, VZDUMP_CONF_PATH, strerror(-r));
		goto out;
	}
	r = file_state_read(&hc, HOOK_CONF_PATH);
	if (r < 0) {
		fprintf(stderr, "%s: cannot read '%s': %s%s\n", PROG, HOOK_CONF_PATH, strerror(-r),
		        r == -ELOOP ? " (a symbolic link; refusing to follow it)" : "");
		goto out;
	}
	r = setup_plan_make(action, vz.data, vz.len, hc.data, hc.len, &plan);
	if (r < 0) {
		fprintf(stderr, "%s: cannot plan the change: %s\n", PROG, strerror(-r));
		goto out;
	}

	struct stat st;
	bool logrotate_needed = action == SETUP_APPLY && lr_dir && lr &&
	                        stat(lr_dir, &st) == 0 && S_ISDIR(st.st_mode) && lstat(lr, &st) < 0 && errno == ENOENT;
	bool changes = plan.vzdump_changes || plan.hook_conf_changes || logrotate_needed;
	bool ours_missing = action == SETUP_APPLY && !hook_installed(OUR_HOOK_PATH);
	bool chain_missing = plan.chain && plan.chain[0] == '/' && !hook_installed(plan.chain);

	if (unified_diff(vz.data ? vz.data : "", vz.len, plan.vzdump_changes ? plan.new_vzdump : vz.data ? vz.data : "",
	                 plan.vzdump_changes ? plan.new_vzdump_len : vz.len, VZDUMP_CONF_PATH, VZDUMP_CONF_PATH, &diff_vz) < 0 ||
	    unified_diff(hc.data ? hc.data : "", hc.len,
	                 plan.hook_conf_changes ? plan.new_hook_conf : hc.data ? hc.data : "",
	                 plan.hook_conf_changes ? plan.new_hook_conf_len : hc.len,
	                 hc.exists ? HOOK_CONF_PATH : "/dev/null",
	                 plan.hook_conf_delete ? "/dev/null" : HOOK_CONF_PATH, &diff_hc) < 0) {
		fprintf(stderr, "%s: out of memory\n", PROG);
		goto out;
	}

	if (j) {
		json_object_begin(j);
		json_kv_string(j, "action", action == SETUP_APPLY ? "apply" : "remove");
		node_report(NULL, j, s);
		json_plan(j, &plan);
		json_kv_string(j, "diff", diff_vz);
		json_kv_string(j, "hook_conf_diff", diff_hc);
		json_kv_bool(j, "logrotate_missing", logrotate_needed);
		json_kv_bool(j, "hook_installed", !ours_missing);
		report_jobs(NULL, j, s);
	} else {
		node_report(out, NULL, s);
		fprintf(out, "%s%s%s\n", c_bold(s), VZDUMP_CONF_PATH, c_off(s));
		if (action == SETUP_APPLY)
			describe_apply(out, &plan, s);
		else
			describe_remove(out, &plan);
		describe_mode(out, &plan);
		if (logrotate_needed)
			fprintf(out, "  Plan: write %s (it is missing).\n", LOGROTATE_PATH);
		report_jobs(out, NULL, s);
		if (ours_missing)
			fprintf(out, "%swarning:%s %s is not installed or not executable; with it in %s\n"
			             "  vzdump fails every backup. Install the package first.\n",
			        c_yellow(s), c_off(s), OUR_HOOK_PATH, VZDUMP_CONF_PATH);
		if (chain_missing)
			fprintf(out, "%swarning:%s the hook %s does not exist or is not executable;\n"
			             "  vzdump fails every backup with it, and so would a chain: to it.\n",
			        c_yellow(s), c_off(s), plan.chain);
		if (*diff_hc || *diff_vz)
			fprintf(out, "\n%s%s", diff_hc, diff_vz);
	}

	const char *result;
	if (!changes) {
		result = "nothing-to-do";
		ret = EXIT_DONE;
	} else if (o->dry_run) {
		result = "dry-run";
		ret = EXIT_DONE;
	} else if (ours_missing) {
		fflush(out);
		fprintf(stderr, "%s: refusing to point vzdump at '%s': it is not installed or not executable; "
		                "nothing was changed\n", PROG, OUR_HOOK_PATH);
		result = "error";
		ret = EXIT_ERROR;
	} else if (action == SETUP_APPLY && plan.chain && plan.chain[0] != '/') {
		fflush(out);
		fprintf(stderr, "%s: refusing to chain '%s': not an absolute path; nothing was changed\n",
		        PROG, plan.chain);
		result = "error";
		ret = EXIT_ERROR;
	} else if (!o->yes && (!isatty(STDIN_FILENO) || !ask(o))) {
		result = "declined";
		ret = EXIT_DECLINED;
	} else {
		const char *failed = NULL;
		r = plan_write(action, &plan, &vz, &hc, logrotate_needed, &failed);
		if (r < 0) {
			fflush(out);
			fprintf(stderr, "%s: cannot write '%s': %s; nothing was changed\n", PROG, failed,
			        strerror(-r));
			result = "error";
			ret = EXIT_ERROR;
		} else {
			result = "done";
			ret = EXIT_DONE;
		}
	}

	if (j) {
		json_kv_string(j, "result", result);
		json_object_end(j);
		const char *text = json_text(j);
		if (!text) {
			fprintf(stderr, "%s: out of memory\n", PROG);
			ret = EXIT_ERROR;
		} else
			fprintf(out, "%s\n", text);
	} else if (streq(result, "nothing-to-do"))
		fprintf(out, "\nNothing to do.\n");
	else if (streq(result, "dry-run"))
		fprintf(out, "\nDry run: nothing was changed.\n");
	else if (streq(result, "declined"))
		fprintf(out, "\nNot applied%s. Run again on a terminal, or with --yes.\n",
		        isatty(STDIN_FILENO) ? "" : ": no terminal to ask on");
	else if (streq(result, "done"))
		fprintf(out, "\n%sDone.%s A copy of the old file is in %s.\n", c_green(s), c_off(s),
		        plan.vzdump_changes && vz.exists ? BACKUP_PATH : "(no old file)");
out:
	if (j)
		json_release(j);
	setup_plan_release(&plan);
	file_state_release(&vz);
	file_state_release(&hc);
	return ret;
}

int main(int argc, char **argv)
{
	struct options o = { 0 };
	int r = parse_argv(argc, argv, &o);
	if (r <= 0) {
		if (fflush(stdout) != 0 || ferror(stdout)) {
			fprintf(stderr, "%s: cannot write to standard output: %s\n", PROG, strerror(errno));
			return EXIT_ERROR;
		}
		return r < 0 ? EXIT_ERROR : EXIT_DONE;
	}
	style_.color = !o.json && !o.no_color && !getenv("NO_COLOR") && isatty(STDOUT_FILENO);

	int ret = run(&o);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "%s: cannot write to standard output: %s\n", PROG, strerror(errno));
		return EXIT_ERROR;
	}
	return ret;
}

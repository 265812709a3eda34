#include <fcntl.h>
#include <regex.h>
#include <signal.h>
#include <sys/stat.h>

#include "hooklog.h"
#include "tap.h"
#include "testdir.h"

static const char *dir;

static char *slurp_fd(int fd)
{
	static char buf[8192];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static char *slurp(const char *path)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return NULL;
	char *s = slurp_fd(fd);
	close(fd);
	return s;
}

static bool matches(const char *text, const char *re)
{
	regex_t r;
	if (regcomp(&r, re, REG_EXTENDED | REG_NOSUB | REG_NEWLINE) != 0)
		return false;
	bool m = regexec(&r, text, 0, NULL, 0) == 0;
	regfree(&r);
	return m;
}

int main(void)
{
	dir = testdir_create("hooklog.t");
	char out_path[PATH_MAX], log_path[PATH_MAX];
	snprintf(out_path, sizeof(out_path), "%s/stdout", dir);
	snprintf(log_path, sizeof(log_path), "%s/hook.log", dir);

	int out = open(out_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	struct hooklog_targets t = { .out_fd = out, .log_path = log_path, .syslog = false };
	is_int(hooklog_start(&t, "backup-start", 102), 0, "log opened");
	log_info("shutting down VM %u (holds %s)", 104, "0000:05:00.0");
	log_warning("VM %u is HA-managed; waiting for the HA stack", 104);
	log_error("two\nlines");
	is_str(slurp_fd(out), "shutting down VM 104 (holds 0000:05:00.0)\n"
			      "warning: VM 104 is HA-managed; waiting for the HA stack\n"
			      "error: two\nerror: lines\n",
	       "task log: one line per message line, levels marked, written at once");
	struct stat st;
	ok(stat(log_path, &st) == 0 && (st.st_mode & 07777) == 0640, "log file created 0640");
	char *log = slurp(log_path);
	ok(log && matches(log, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[+-][0-9]{2}:[0-9]{2} "
				"backup-start 102 \\[[0-9]+\\] info: shutting down VM 104 \\(holds 0000:05:00.0\\)$"),
	   "log file: ISO timestamp, phase, vmid, pid, level, message (%s)", log ? log : "");
	ok(log && matches(log, " backup-start 102 \\[[0-9]+\\] error: lines$"), "every line of a message in the log");
	int lines = 0;
	for (const char *p = log; p && *p; p++)
		lines += *p == '\n';
	is_int(lines, 4, "four lines in the log file");
	hooklog_close();

	is_int(hooklog_start(&t, "job-end", 0), 0, "reopened for a job phase");
	log_info("restored VM 104");
	log = slurp(log_path);
	ok(matches(log, " job-end - \\[[0-9]+\\] info: restored VM 104$"), "job phase logged without vmid, appended");
	hooklog_close();

	ftruncate(out, 0);
	lseek(out, 0, SEEK_SET);
	hooklog_start(&t, "backup-start", 102);
	hooklog_relay("VM 104 shut down", (void *)"qm: ");
	hooklog_relay("", (void *)"qm: ");
	hooklog_relay("plain", NULL);
	is_str(slurp_fd(out), "qm: VM 104 shut down\nplain\n", "child output relayed with a prefix, empty lines dropped");
	hooklog_close();

	/* A symlink planted at the log: not followed, reported once, the hook goes on. */
	char victim[PATH_MAX], link_path[PATH_MAX];
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	snprintf(link_path, sizeof(link_path), "%s/link.log", dir);
	int v = open(victim, O_WRONLY | O_CREAT, 0600);
	close(v);
	symlink(victim, link_path);
	ftruncate(out, 0);
	lseek(out, 0, SEEK_SET);
	t.log_path = link_path;
	is_int(hooklog_start(&t, "backup-start", 103), -ELOOP, "symlinked log refused");
	log_info("first");
	log_info("second");
	char want[PATH_MAX + 200];
	snprintf(want, sizeof(want), "warning: cannot open '%s': Too many levels of symbolic links; "
		 "logging to the task log and syslog only\nfirst\nsecond\n", link_path);
	is_str(slurp_fd(out), want, "reported once on the task log, messages still there");
	is_str(slurp(victim), "", "nothing written through the link");
	hooklog_close();

	/* A closed task log makes the write fail; the program learns of it. */
	int p[2];
	pipe(p);
	close(p[0]);
	signal(SIGPIPE, SIG_IGN);
	t = (struct hooklog_targets){ .out_fd = p[1] };
	hooklog_start(&t, "log-end", 102);
	is_int(hooklog_out_error(), 0, "no error before writing");
	log_info("lost");
	is_int(hooklog_out_error(), -EPIPE, "failed write of stdout reported");
	hooklog_close();
	close(p[1]);
	close(out);

	testdir_remove(dir);
	return tap_done();
}

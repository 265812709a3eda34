#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>

#include "fileio.h"
#include "subprocess.h"
#include "tap.h"
#include "testdir.h"

struct lines {
	char text[8192];
	int n;
};

static void collect(const char *line, void *userdata)
{
	struct lines *l = userdata;
	size_t len = strlen(l->text);
	snprintf(l->text + len, sizeof(l->text) - len, "%s|", line);
	l->n++;
}

/* Run /bin/sh -c script as the child, collecting its output lines. */
static int sh(const char *script, int timeout_ms, struct lines *l, struct spawn_result *r)
{
	char *argv[] = { (char *)"sh", (char *)"-c", (char *)script, NULL };
	struct spawn_opts o = { .timeout_ms = timeout_ms, .kill_grace_ms = 300, .on_line = collect, .userdata = l };
	memset(l, 0, sizeof(*l));
	return spawn_run("/bin/sh", argv, &o, r);
}

static void run_env(struct lines *l, struct spawn_result *r)
{
	char *argv[] = { (char *)"env", NULL };
	struct spawn_opts o = { .on_line = collect, .userdata = l };
	memset(l, 0, sizeof(*l));
	spawn_run("/usr/bin/env", argv, &o, r);
}

static void test_exit_and_output(void)
{
	struct lines l;
	struct spawn_result r;

	is_int(sh("exit 0", 0, &l, &r), 0, "a child that exits 0 ran");
	is_int(r.exit_code, 0, "exit code 0");
	is_int(sh("exit 3", 0, &l, &r), 0, "a failing child still ran");
	is_int(r.exit_code, 3, "exit code 3 reported");
	ok(!r.timed_out && r.signal == 0, "no timeout, no signal");

	sh("echo one; echo two >&2; echo three; printf 'no newline'", 0, &l, &r);
	is_str(l.text, "one|two|three|no newline|", "stdout and stderr relayed line by line, in order");
	is_str(r.last_line, "no newline", "last line kept as the reason");
	sh("echo 'VM 104 did it'; echo", 0, &l, &r);
	is_str(r.last_line, "VM 104 did it", "last line is the last non-empty one");
	sh("printf 'crlf\\r\\n'", 0, &l, &r);
	is_str(l.text, "crlf|", "carriage return before newline stripped");

	sh("kill -9 $$", 0, &l, &r);
	is_int(r.signal, SIGKILL, "death by signal reported");
	is_int(r.exit_code, -1, "no exit code after a signal");
	char buf[64];
	is_str(spawn_result_describe(&r, 0, buf, sizeof(buf)), "killed by signal 9 (Killed)", "signal described");
}

static void test_timeout(void)
{
	struct lines l;
	struct spawn_result r;

	long long t0 = now_ms();
	sh("echo started; exec sleep 30", 300, &l, &r);
	long long took = now_ms() - t0;
	ok(r.timed_out, "timeout reported");
	is_int(r.signal, SIGTERM, "SIGTERM ends a child that honours it");
	ok(took < 2000, "returned soon after the timeout (%lld ms)", took);
	is_str(l.text, "started|", "output before the timeout relayed");
	char buf[64];
	is_str(spawn_result_describe(&r, 300, buf, sizeof(buf)), "timed out after 1 s", "timeout described");

	t0 = now_ms();
	sh("trap '' TERM; echo stubborn; while :; do sleep 0.05; done", 300, &l, &r);
	took = now_ms() - t0;
	ok(r.timed_out, "stubborn child timed out");
	is_int(r.signal, SIGKILL, "SIGKILL after the grace period");
	ok(took >= 550 && took < 3000, "killed after timeout plus grace (%lld ms)", took);

	/* The whole process group goes: a grandchild must not survive to hold the pipe. */
	t0 = now_ms();
	sh("sleep 30 & wait", 200, &l, &r);
	took = now_ms() - t0;
	ok(r.timed_out && took < 2000, "group with a grandchild killed (%lld ms)", took);
}

static void test_grandchild_keeps_pipe(void)
{
	struct lines l;
	struct spawn_result r;
	long long t0 = now_ms();
	sh("(sleep 3) & echo parent done", 0, &l, &r);
	long long took = now_ms() - t0;
	is_int(r.exit_code, 0, "parent exited 0");
	ok(took < 1500, "a background grandchild holding the pipe does not hang us (%lld ms)", took);
	is_str(l.text, "parent done|", "parent output relayed");
}

static void test_fds_and_env(void)
{
	struct lines l;
	struct spawn_result r;

	int fd = open("/dev/null", O_RDONLY);
	ok(fd >= 0 && dup2(fd, 42) == 42, "an fd without CLOEXEC at 42");
	if (fd >= 0)
		close(fd);
	sh("if [ -e /proc/self/fd/42 ]; then echo leaked; else echo clean; fi", 0, &l, &r);
	is_str(l.text, "clean|", "the child does not inherit a stray open fd");
	sh("exec readlink /proc/self/fd/0", 0, &l, &r);
	is_str(l.text, "/dev/null|", "stdin is /dev/null");
	sh("exec readlink /proc/self/fd/1", 0, &l, &r);
	ok(strncmp(l.text, "pipe:", 5) == 0, "stdout is our pipe, never the hook's stdout (%s)", l.text);

	signal(SIGPIPE, SIG_IGN);
	sh("exec grep SigIgn /proc/self/status", 0, &l, &r);
	unsigned long long ign = strtoull(l.text + strlen("SigIgn:"), NULL, 16);
	ok(ign != ULLONG_MAX && !(ign & (1ULL << (SIGPIPE - 1))), "an ignored SIGPIPE is reset to default (%s)", l.text);
	signal(SIGPIPE, SIG_DFL);

	setenv("SECRET_FOO", "x", 1);
	setenv("PVE_GPU_BACKUP_ROOT", "/some/root", 1);
	unsetenv("LD_PRELOAD");
	run_env(&l, &r);
	is_str(l.text, "PATH=/usr/sbin:/usr/bin:/sbin:/bin|LC_ALL=C|PVE_GPU_BACKUP_ROOT=/some/root|",
	       "minimal environment plus the root prefix, nothing else");
	unsetenv("PVE_GPU_BACKUP_ROOT");
	run_env(&l, &r);
	is_str(l.text, "PATH=/usr/sbin:/usr/bin:/sbin:/bin|LC_ALL=C|", "without the root prefix set");

	char *argv[] = { (char *)"nope", NULL };
	is_int(spawn_run("/nonexistent/qm", argv, NULL, &r), -ENOENT, "a missing program is -ENOENT");
	is_int(spawn_run("bin/sh", argv, NULL, &r), -EINVAL, "a relative path is refused");
	close(42);
}

static void test_chain(const char *dir)
{
	char script[PATH_MAX], out[PATH_MAX];
	snprintf(script, sizeof(script) - 64, "%s", dir);
	strcat(script, "/chained-hook");
	snprintf(out, sizeof(out) - 64, "%s", dir);
	strcat(out, "/chained.out");
	FILE *f = fopen(script, "w");
	fprintf(f, "#!/bin/sh\n"
		   "{ for a in \"$0\" \"$@\"; do echo \"arg:$a\"; done; env | sort; "
		   "[ -e /proc/self/fd/42 ] && echo leaked; } > '%s'\nexit 7\n", out);
	fclose(f);
	chmod(script, 0755);

	int fd = open("/dev/null", O_RDONLY);
	dup2(fd, 42);
	close(fd);
	char *argv[] = { script, (char *)"backup-start", (char *)"stop", (char *)"102", NULL };
	char *envp[] = { (char *)"STOREID=local", (char *)"LC_ALL=C", (char *)"VMTYPE=qemu",
			 (char *)"LVM_SUPPRESS_FD_WARNINGS=1", NULL };
	struct spawn_result r;
	is_int(spawn_chain(script, argv, envp, &r), 0, "chained hook ran");
	is_int(r.exit_code, 7, "its exit code is reported");
	close(42);

	char *got = NULL;
	size_t len = 0;
	f = fopen(out, "r");
	ok(f && getdelim(&got, &len, '\0', f) > 0, "chained hook wrote its view");
	if (f)
		fclose(f);
	/* sh adds PWD itself; compare the rest exactly. */
	char want[PATH_MAX * 3], cwd[PATH_MAX];
	snprintf(want, sizeof(want), "arg:%s\narg:backup-start\narg:stop\narg:102\n"
		 "LC_ALL=C\nLVM_SUPPRESS_FD_WARNINGS=1\nPWD=%s\nSTOREID=local\nVMTYPE=qemu\n", script,
		 getcwd(cwd, sizeof(cwd)) ? cwd : "");
	is_str(got, want, "same argv and environment, nothing added, no stray fd");
	free(got);
}

static char *read_all(const char *path)
{
	char *got = NULL;
	size_t len = 0;
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	if (getdelim(&got, &len, '\0', f) < 0) {
		free(got);
		got = strdup("");
	}
	fclose(f);
	return got;
}

/* The chained hook's output reaches our stdout/stderr byte for byte; a child it
 * leaves behind does not keep us (or vzdump) waiting. */
static void test_chain_output(const char *dir)
{
	char script[PATH_MAX], out[PATH_MAX], err[PATH_MAX];
	snprintf(script, sizeof(script) - 64, "%s", dir);
	strcat(script, "/noisy-hook");
	snprintf(out, sizeof(out) - 64, "%s", dir);
	strcat(out, "/our-stdout");
	snprintf(err, sizeof(err) - 64, "%s", dir);
	strcat(err, "/our-stderr");
	FILE *f = fopen(script, "w");
	fputs("#!/bin/sh\nprintf 'line one\\n\\n  spaced\\tx\\r\\nno newline'\necho oops >&2\n"
	      "sleep 3 &\nexit 0\n", f);
	fclose(f);
	chmod(script, 0755);

	fflush(stdout);
	int saved_out = dup(1), saved_err = dup(2);
	int fo = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600), fe = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	dup2(fo, 1);
	dup2(fe, 2);
	close(fo);
	close(fe);
	char *argv[] = { script, (char *)"job-end", NULL };
	char *envp[] = { (char *)"LC_ALL=C", NULL };
	struct spawn_result r;
	long long t0 = now_ms();
	int rc = spawn_chain(script, argv, envp, &r);
	long long took = now_ms() - t0;
	dup2(saved_out, 1);
	dup2(saved_err, 2);
	close(saved_out);
	close(saved_err);

	is_int(rc, 0, "noisy chained hook ran");
	is_int(r.exit_code, 0, "exit code 0");
	ok(took < 1500, "a background child of the chained hook does not hold us (%lld ms)", took);
	char *got = read_all(out);
	is_str(got, "line one\n\n  spaced\tx\r\nno newline", "stdout passed through byte for byte");
	free(got);
	got = read_all(err);
	is_str(got, "oops\n", "stderr passed through to stderr");
	free(got);
}

int main(void)
{
	char *dir = testdir_create("subprocess.t");
	test_exit_and_output();
	test_timeout();
	test_grandchild_keeps_pipe();
	test_fds_and_env();
	test_chain(dir);
	test_chain_output(dir);
	testdir_remove(dir);
	return tap_done();
}

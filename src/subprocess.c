#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>

#include "fileio.h"
#include "subprocess.h"

#define SPAWN_PATH "PATH=/usr/sbin:/usr/bin:/sbin:/bin"
#define LINE_MAX_LEN 4096
/* How long to wait for EOF once the child is gone: a backgrounded grandchild
 * holding the pipe must not hang us. */
#define DRAIN_AFTER_EXIT_MS 200
#define POLL_STEP_MS 100

char **spawn_env_minimal(void)
{
	static const char *const passed[] = { "PVE_GPU_BACKUP_ROOT", "LD_PRELOAD" };
	const char *fixed[] = { SPAWN_PATH, "LC_ALL=C" };
	size_t bytes = 0, n = ELEMENTSOF(fixed);
	char *vars[ELEMENTSOF(passed)] = { 0 };

	for (size_t i = 0; i < ELEMENTSOF(fixed); i++)
		bytes += strlen(fixed[i]) + 1;
	for (size_t i = 0; i < ELEMENTSOF(passed); i++) {
		vars[i] = getenv(passed[i]);
		if (vars[i]) {
			bytes += strlen(passed[i]) + 1 + strlen(vars[i]) + 1;
			n++;
		}
	}
	char **env = malloc((n + 1) * sizeof(char *) + bytes);
	if (!env)
		return NULL;
	char *p = (char *)(env + n + 1);
	size_t k = 0;
	for (size_t i = 0; i < ELEMENTSOF(fixed); i++) {
		env[k++] = p;
		p = stpcpy(p, fixed[i]) + 1;
	}
	for (size_t i = 0; i < ELEMENTSOF(passed); i++) {
		if (!vars[i])
			continue;
		env[k++] = p;
		p = stpcpy(stpcpy(stpcpy(p, passed[i]), "="), vars[i]) + 1;
	}
	env[k] = NULL;
	return env;
}

#ifndef HAVE_POSIX_SPAWN_FILE_ACTIONS_ADDCLOSEFROM_NP
/* Without closefrom in posix_spawn, mark every inherited fd close-on-exec. */
static int cloexec_all_from(int lowfd)
{
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return -errno;
	struct dirent *de;
	while ((de = readdir(d))) {
		char *end;
		unsigned long fd = strtoul(de->d_name, &end, 10);
		if (*end || end == de->d_name || fd < (unsigned long)lowfd || (int)fd == dirfd(d))
			continue;
		int fl = fcntl((int)fd, F_GETFD);
		if (fl >= 0)
			fcntl((int)fd, F_SETFD, fl | FD_CLOEXEC);
	}
	closedir(d);
	return 0;
}
#endif

static int actions_close_rest(posix_spawn_file_actions_t *fa)
{
#ifdef HAVE_POSIX_SPAWN_FILE_ACTIONS_ADDCLOSEFROM_NP
	int r = posix_spawn_file_actions_addclosefrom_np(fa, 3);
	return r ? -r : 0;
#else
	(void)fa;
	return cloexec_all_from(3);
#endif
}

/* Default signal dispositions and an empty mask: a hook that ignores SIGPIPE must not pass that on. */
static int attr_init(posix_spawnattr_t *attr, bool own_group)
{
	sigset_t all, none;
	sigfillset(&all);
	sigemptyset(&none);
	int r = posix_spawnattr_init(attr);
	if (r)
		return -r;
	short flags = POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | (own_group ? POSIX_SPAWN_SETPGROUP : 0);
	if ((r = posix_spawnattr_setsigdefault(attr, &all)) || (r = posix_spawnattr_setsigmask(attr, &none)) ||
	    (r = posix_spawnattr_setpgroup(attr, 0)) || (r = posix_spawnattr_setflags(attr, flags))) {
		posix_spawnattr_destroy(attr);
		return -r;
	}
	return 0;
}

static void result_from_status(int status, struct spawn_result *ret)
{
	if (WIFEXITED(status)) {
		ret->exit_code = WEXITSTATUS(status);
		ret->signal = 0;
	} else {
		ret->exit_code = -1;
		ret->signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	}
}

static int wait_child(pid_t pid, int *status)
{
	while (waitpid(pid, status, 0) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

struct line_buf {
	char buf[LINE_MAX_LEN + 1];
	size_t len;
	const struct spawn_opts *opts;
	struct spawn_result *ret;
};

static void line_emit(struct line_buf *lb)
{
	lb->buf[lb->len] = '\0';
	if (lb->len > 0 && lb->buf[lb->len - 1] == '\r')
		lb->buf[--lb->len] = '\0';
	if (lb->len > 0) {
		size_t n = lb->len < SPAWN_LAST_LINE_MAX - 1 ? lb->len : SPAWN_LAST_LINE_MAX - 1;
		memcpy(lb->ret->last_line, lb->buf, n);
		lb->ret->last_line[n] = '\0';
	}
	if (lb->opts->on_line)
		lb->opts->on_line(lb->buf, lb->opts->userdata);
	lb->len = 0;
}

static void line_feed(struct line_buf *lb, const char *data, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (data[i] == '\n') {
			line_emit(lb);
			continue;
		}
		if (lb->len == LINE_MAX_LEN)
			line_emit(lb);
		lb->buf[lb->len++] = data[i];
	}
}

/* Read what is there; returns 1 at EOF, 0 when more may come, -errno on error. */
static int pipe_read(int fd, struct line_buf *lb)
{
	char chunk[4096];
	for (;;) {
		ssize_t k = read(fd, chunk, sizeof(chunk));
		if (k > 0) {
			line_feed(lb, chunk, (size_t)k);
			continue;
		}
		if (k == 0)
			return 1;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN)
			return 0;
		return -errno;
	}
}

/* Child's pid set; read its output until it is gone, enforcing the timeout. */
static int supervise(pid_t pid, int rfd, const struct spawn_opts *opts, struct spawn_result *ret)
{
	_cleanup_free_ struct line_buf *lb = calloc(1, sizeof(*lb));
	if (!lb) {
		kill(-pid, SIGKILL);
		int st;
		wait_child(pid, &st);
		return -ENOMEM;
	}
	lb->opts = opts;
	lb->ret = ret;

	int grace = opts->kill_grace_ms > 0 ? opts->kill_grace_ms : 5000;
	long long deadline = opts->timeout_ms > 0 ? now_ms() + opts->timeout_ms : -1;
	long long exited_at = -1;
	bool eof = false, term_sent = false, kill_sent = false;
	int status = 0;

	for (;;) {
		if (exited_at < 0) {
			pid_t w = waitpid(pid, &status, WNOHANG);
			if (w == pid)
				exited_at = now_ms();
			else if (w < 0 && errno != EINTR)
				return -errno;
		}
		if (exited_at >= 0 && (eof || now_ms() - exited_at >= DRAIN_AFTER_EXIT_MS))
			break;
		long long now = now_ms();
		if (exited_at < 0 && deadline >= 0 && now >= deadline) {
			if (!term_sent) {
				ret->timed_out = true;
				term_sent = true;
				kill(-pid, SIGTERM);
				deadline = now + grace;
			} else if (!kill_sent) {
				kill_sent = true;
				kill(-pid, SIGKILL);
				deadline = -1;
			}
		}
		int wait = POLL_STEP_MS;
		if (exited_at < 0 && deadline >= 0 && deadline - now < wait)
			wait = (int)(deadline - now > 0 ? deadline - now : 0);
		if (eof) {
			/* Output closed but the child lives on: only its exit and the timeout matter. */
			sleep_ms(wait > 10 ? wait / 4 : 2);
			continue;
		}
		struct pollfd p = { .fd = rfd, .events = POLLIN };
		int r = poll(&p, 1, exited_at >= 0 ? 20 : wait);
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r > 0) {
			r = pipe_read(rfd, lb);
			if (r != 0)
				eof = true;
		}
	}
	if (lb->len > 0)
		line_emit(lb);
	result_from_status(status, ret);
	return 0;
}

int spawn_run(const char *path, char *const argv[], const struct spawn_opts *opts, struct spawn_result *ret)
{
	static const struct spawn_opts no_opts;
	if (!opts)
		opts = &no_opts;
	*ret = (struct spawn_result){ .exit_code = -1 };
	if (!path || path[0] != '/' || !argv || !argv[0])
		return -EINVAL;
	/* A clear -ENOENT/-EACCES even where posix_spawn reports exec failures only as exit 127. */
	if (access(path, X_OK) < 0)
		return -errno;

	_cleanup_free_ char **env = spawn_env_minimal();
	if (!env)
		return -ENOMEM;
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -errno;
	_cleanup_close_ int rfd = pfd[0];
	_cleanup_close_ int wfd = pfd[1];
	if (fcntl(rfd, F_SETFL, O_NONBLOCK) < 0)
		return -errno;

	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	int r = posix_spawn_file_actions_init(&fa);
	if (r)
		return -r;
	r = attr_init(&attr, true);
	if (r < 0) {
		posix_spawn_file_actions_destroy(&fa);
		return r;
	}
	if ((r = -posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0)) == 0 &&
	    (r = -posix_spawn_file_actions_adddup2(&fa, wfd, 1)) == 0 &&
	    (r = -posix_spawn_file_actions_adddup2(&fa, wfd, 2)) == 0)
		r = actions_close_rest(&fa);
	pid_t pid = 0;
	if (r == 0)
		r = -posix_spawn(&pid, path, &fa, &attr, argv, env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (r < 0)
		return r;

	/* Only the child may hold the write end, or we would never see EOF. */
	close(TAKE_FD(wfd));
	return supervise(pid, rfd, opts, ret);
}

/* Copy the chained hook's output byte for byte to our own stdout and stderr
 * until it exits: through our pipes, so nothing it leaves behind holds vzdump's. */
static int relay_raw(pid_t pid, int out_fd, int err_fd, struct spawn_result *ret)
{
	struct pollfd p[2] = { { .fd = out_fd, .events = POLLIN }, { .fd = err_fd, .events = POLLIN } };
	const int to[2] = { STDOUT_FILENO, STDERR_FILENO };
	long long exited_at = -1;
	int status = 0;

	for (;;) {
		if (exited_at < 0) {
			pid_t w = waitpid(pid, &status, WNOHANG);
			if (w == pid)
				exited_at = now_ms();
			else if (w < 0 && errno != EINTR)
				return -errno;
		}
		bool open = p[0].fd >= 0 || p[1].fd >= 0;
		if (exited_at >= 0 && (!open || now_ms() - exited_at >= DRAIN_AFTER_EXIT_MS))
			break;
		int r = poll(p, 2, exited_at >= 0 ? 20 : POLL_STEP_MS);
		if (r < 0 && errno != EINTR)
			return -errno;
		for (size_t i = 0; r > 0 && i < 2; i++) {
			if (p[i].fd < 0 || !p[i].revents)
				continue;
			char chunk[4096];
			ssize_t k = read(p[i].fd, chunk, sizeof(chunk));
			if (k < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (k <= 0) {
				p[i].fd = -1;
				continue;
			}
			/* A vanished task log must not block the hook: keep draining regardless. */
			for (ssize_t done = 0, w; done < k; done += w) {
				w = write(to[i], chunk + done, (size_t)(k - done));
				if (w < 0 && errno == EINTR)
					w = 0;
				else if (w < 0)
					break;
			}
		}
	}
	result_from_status(status, ret);
	return 0;
}

int spawn_chain(const char *path, char *const argv[], char *const envp[], struct spawn_result *ret)
{
	*ret = (struct spawn_result){ .exit_code = -1 };
	if (!path || path[0] != '/' || !argv || !argv[0] || !envp)
		return -EINVAL;
	if (access(path, X_OK) < 0)
		return -errno;

	/* Our own lines must come before the chained hook's in the task log. */
	fflush(stdout);
	fflush(stderr);

	int po[2], pe[2];
	if (pipe2(po, O_CLOEXEC) < 0)
		return -errno;
	_cleanup_close_ int out_r = po[0];
	_cleanup_close_ int out_w = po[1];
	if (pipe2(pe, O_CLOEXEC) < 0)
		return -errno;
	_cleanup_close_ int err_r = pe[0];
	_cleanup_close_ int err_w = pe[1];
	if (fcntl(out_r, F_SETFL, O_NONBLOCK) < 0 || fcntl(err_r, F_SETFL, O_NONBLOCK) < 0)
		return -errno;

	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	int r = posix_spawn_file_actions_init(&fa);
	if (r)
		return -r;
	r = attr_init(&attr, false);
	if (r < 0) {
		posix_spawn_file_actions_destroy(&fa);
		return r;
	}
	if ((r = -posix_spawn_file_actions_adddup2(&fa, out_w, 1)) == 0 &&
	    (r = -posix_spawn_file_actions_adddup2(&fa, err_w, 2)) == 0)
		r = actions_close_rest(&fa);
	pid_t pid = 0;
	if (r == 0)
		r = -posix_spawn(&pid, path, &fa, &attr, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (r < 0)
		return r;

	close(TAKE_FD(out_w));
	close(TAKE_FD(err_w));
	return relay_raw(pid, out_r, err_r, ret);
}

const char *spawn_result_describe(const struct spawn_result *r, int timeout_ms, char *buf, size_t size)
{
	if (r->timed_out)
		snprintf(buf, size, "timed out after %d s", (timeout_ms + 999) / 1000);
	else if (r->signal)
		snprintf(buf, size, "killed by signal %d (%s)", r->signal, strsignal(r->signal));
	else
		snprintf(buf, size, "exit code %d", r->exit_code);
	return buf;
}

#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "hooklog.h"
#include "rootfs.h"

static struct {
	int out_fd;
	int file_fd;
	bool syslog;
	char phase[32];
	unsigned vmid;
	int out_error;
} logger = { .out_fd = -1, .file_fd = -1 };

static const char *const level_word[] = { "info", "warning", "error" };

static void write_line(int fd, const char *s, size_t len, int *error)
{
	while (len > 0) {
		ssize_t k = write(fd, s, len);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			if (error && *error == 0)
				*error = -errno;
			return;
		}
		s += k;
		len -= (size_t)k;
	}
}

/* Whole lines to the task log; no stdio buffer between us and vzdump. */
static void out_line(enum hooklog_level level, const char *msg, size_t len)
{
	if (logger.out_fd < 0)
		return;
	_cleanup_free_ char *line = NULL;
	int n = asprintf(&line, "%s%.*s\n", level == HOOKLOG_INFO ? "" : level == HOOKLOG_WARNING ? "warning: " : "error: ",
			 (int)len, msg);
	if (n > 0)
		write_line(logger.out_fd, line, (size_t)n, &logger.out_error);
}

/* ISO 8601 local time with the offset as +hh:mm. */
static void timestamp(char buf[static 32])
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	char z[8];
	strftime(z, sizeof(z), "%z", &tm);
	size_t l = strftime(buf, 26, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + l, 32 - l, "%.3s:%.2s", z, z + 3);
}

static void file_line(enum hooklog_level level, const char *msg, size_t len)
{
	if (logger.file_fd < 0)
		return;
	char ts[32], vmid[16] = "-";
	timestamp(ts);
	if (logger.vmid)
		snprintf(vmid, sizeof(vmid), "%u", logger.vmid);
	_cleanup_free_ char *line = NULL;
	int n = asprintf(&line, "%s %s %s [%ld] %s: %.*s\n", ts, logger.phase, vmid, (long)getpid(), level_word[level],
			 (int)len, msg);
	/* One write with O_APPEND: lines of concurrent hooks never interleave. */
	if (n > 0)
		write_line(logger.file_fd, line, (size_t)n, NULL);
}

static void syslog_line(enum hooklog_level level, const char *msg, size_t len)
{
	static const int prio[] = { LOG_INFO, LOG_WARNING, LOG_ERR };
	if (!logger.syslog)
		return;
	if (logger.vmid)
		syslog(prio[level], "%s %u: %.*s", logger.phase, logger.vmid, (int)len, msg);
	else
		syslog(prio[level], "%s: %.*s", logger.phase, (int)len, msg);
}

static void emit(enum hooklog_level level, const char *msg)
{
	for (const char *p = msg;;) {
		size_t len = strcspn(p, "\n");
		if (len > 0) {
			out_line(level, p, len);
			file_line(level, p, len);
			syslog_line(level, p, len);
		}
		if (!p[len])
			break;
		p += len + 1;
	}
}

void hooklog(enum hooklog_level level, const char *fmt, ...)
{
	if ((unsigned)level > HOOKLOG_ERROR)
		level = HOOKLOG_ERROR;
	_cleanup_free_ char *msg = NULL;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	/* Output of our own stdio (usage, status) must not overtake or trail our lines. */
	fflush(stdout);
	emit(level, msg);
}

void hooklog_close(void)
{
	if (logger.file_fd >= 0)
		close(logger.file_fd);
	if (logger.syslog)
		closelog();
	logger.file_fd = -1;
	logger.syslog = false;
	logger.out_fd = -1;
}

int hooklog_start(const struct hooklog_targets *t, const char *phase, unsigned vmid)
{
	hooklog_close();
	logger.out_fd = t->out_fd;
	logger.out_error = 0;
	logger.vmid = vmid;
	snprintf(logger.phase, sizeof(logger.phase), "%s", phase ? phase : "-");
	if (t->syslog) {
		openlog(HOOKLOG_IDENT, LOG_PID, LOG_DAEMON);
		logger.syslog = true;
	}
	if (!t->log_path)
		return 0;
	int fd = open(t->log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0640);
	if (fd < 0) {
		int r = -errno;
		hooklog(HOOKLOG_WARNING, "cannot open '%s': %s; logging to the task log and syslog only",
			t->log_path, strerror(-r));
		return r;
	}
	logger.file_fd = fd;
	return 0;
}

void hooklog_relay(const char *line, void *userdata)
{
	const char *prefix = userdata;
	if (!strempty(line))
		hooklog(HOOKLOG_INFO, "%s%s", prefix ? prefix : "", line);
}

int hooklog_open(const char *phase, unsigned vmid)
{
	signal(SIGPIPE, SIG_IGN);
	_cleanup_free_ char *path = root_path(HOOKLOG_PATH);
	struct hooklog_targets t = {
		.out_fd = STDOUT_FILENO,
		.log_path = path,
		.syslog = strempty(root_prefix()),
	};
	return hooklog_start(&t, phase, vmid);
}

int hooklog_out_error(void)
{
	return logger.out_error;
}

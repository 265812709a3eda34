/* Everything the hook says, in the three places an admin looks: the task log
 * (our stdout, one write per line so nothing sits in a buffer when vzdump
 * reads it), /var/log/pve-gpu-backup-hook.log with a timestamp, the phase and
 * the vmid, and syslog. The one module that emits lines; only to the targets
 * it is given. A log file that cannot be opened never fails the backup. */
#pragma once

#include <stdbool.h>

#include "macro.h"

#define HOOKLOG_PATH "/var/log/pve-gpu-backup-hook.log"
#define HOOKLOG_IDENT "pve-gpu-backup-hook"

enum hooklog_level {
	HOOKLOG_INFO,
	HOOKLOG_WARNING,
	HOOKLOG_ERROR,
};

struct hooklog_targets {
	int out_fd;              /* the task log (1 in the hook); -1 = none */
	const char *log_path;    /* full path (already under the root prefix); NULL = none */
	bool syslog;
};

/* Start logging for phase ("job-start", "backup-start", "status", ...) and
 * vmid (0 for job phases and commands). Returns 0, or -errno when the log file
 * could not be opened: that is reported once on out_fd and logging goes on
 * without it, so callers may ignore the result. */
int hooklog_start(const struct hooklog_targets *t, const char *phase, unsigned vmid);

/* The hook's targets: stdout, HOOKLOG_PATH under the root prefix, and syslog
 * (only when the root prefix is "/", so tests on a fake node stay out of it).
 * Also ignores SIGPIPE: when vzdump goes away (vzdump --stop), a park or
 * restore in progress must finish; the failed write shows in hooklog_out_error(). */
int hooklog_open(const char *phase, unsigned vmid);

/* One message; a message with newlines becomes several lines. Warnings and
 * errors are marked "warning: " / "error: " on stdout. */
void hooklog(enum hooklog_level level, const char *fmt, ...) _printf_(2, 3);
#define log_info(...) hooklog(HOOKLOG_INFO, __VA_ARGS__)
#define log_warning(...) hooklog(HOOKLOG_WARNING, __VA_ARGS__)
#define log_error(...) hooklog(HOOKLOG_ERROR, __VA_ARGS__)

/* A spawn_line_fn (subprocess.h) that logs a child's output line as info, after
 * the prefix given as userdata (a const char *, or NULL). Empty lines are dropped. */
void hooklog_relay(const char *line, void *userdata);

/* -errno of the first failed write to out_fd (e.g. -EPIPE), or 0: a failed
 * write of stdout is an error for the program. */
int hooklog_out_error(void);

/* Close the log file and syslog. */
void hooklog_close(void);

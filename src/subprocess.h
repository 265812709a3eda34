/* (Not spawn.h: that name belongs to <spawn.h>, which -Isrc would shadow.)
 * Run a program by absolute path with an argv (never a shell): stdin from
 * /dev/null, every other fd closed, a minimal explicit environment, stdout and
 * stderr captured through one pipe and handed over line by line, a timeout
 * that kills the child's process group. No child ever holds the caller's
 * stdout/stderr, so vzdump sees EOF as soon as the hook exits. */
#pragma once

#include <stdbool.h>

#include "macro.h"

/* One line of the child's output, newline stripped (never NULL, may be ""). */
typedef void (*spawn_line_fn)(const char *line, void *userdata);

struct spawn_opts {
	int timeout_ms;          /* 0 = wait for ever */
	int kill_grace_ms;       /* SIGTERM to SIGKILL after a timeout; 0 = 5000 */
	spawn_line_fn on_line;   /* NULL = output discarded */
	void *userdata;
};

#define SPAWN_LAST_LINE_MAX 512

struct spawn_result {
	int exit_code;           /* exit status when the child exited, else -1 */
	int signal;              /* terminating signal, 0 when it exited */
	bool timed_out;          /* the timeout fired and the group was killed */
	char last_line[SPAWN_LAST_LINE_MAX]; /* last non-empty output line, "" if none */
};

/* Run path (absolute) with argv (argv[0] included, NULL-terminated) and the
 * minimal environment of spawn_env_minimal(). Returns 0 when the child ran to
 * its end (see ret), or -errno when it could not be started. */
int spawn_run(const char *path, char *const argv[], const struct spawn_opts *opts, struct spawn_result *ret);

/* The chain: feature. Run path with exactly argv and envp (the caller's), stdin
 * inherited, other fds closed, no timeout (vzdump has none either). Its stdout
 * and stderr are copied byte for byte to ours through pipes until it exits, so
 * anything it leaves running in the background never holds vzdump's pipes.
 * Returns 0 and ret filled (last_line unused), or -errno when not started. */
int spawn_chain(const char *path, char *const argv[], char *const envp[], struct spawn_result *ret);

/* The environment given to children of spawn_run: PATH=/usr/sbin:/usr/bin:/sbin:/bin,
 * LC_ALL=C, and PVE_GPU_BACKUP_ROOT and LD_PRELOAD when set in ours. Returns a
 * NULL-terminated array in one allocation (free() it), or NULL on ENOMEM. */
char **spawn_env_minimal(void);

/* A readable summary for messages: "exit code 3", "killed by signal 9 (Killed)",
 * "timed out after 5 s". buf of at least 64 bytes. */
const char *spawn_result_describe(const struct spawn_result *r, int timeout_ms, char *buf, size_t size);

/* pve-gpu-backup-hook: the commands and the few helpers they share. */
#pragma once

#include <stdbool.h>

#define HOOK_PROG "pve-gpu-backup-hook"

/* Exit codes (documented in the man page). */
enum {
	HOOK_EXIT_OK = 0,
	HOOK_EXIT_FAILURE = 1,
	HOOK_EXIT_USAGE = 2,       /* bad arguments, or nothing of the node could be read */
};

/* One command: argv[0] is the command name, as for a program of its own. */
struct hook_command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;       /* one line for --help; NULL hides it (vzdump phases) */
};

int cmd_status(int argc, char **argv);

/* "pve-gpu-backup-hook: <message>[: <strerror(-err)>]" on stderr; err 0 = no errno text. */
void hook_error(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "Try 'pve-gpu-backup-hook --help' ..." and HOOK_EXIT_USAGE. */
int hook_usage_error(void);
/* Flush stdout; a failed write is an error (returns HOOK_EXIT_FAILURE after reporting). */
int hook_finish_stdout(int exit_code);

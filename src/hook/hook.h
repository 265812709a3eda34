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
int cmd_plan(int argc, char **argv);
int cmd_recover(int argc, char **argv);
int cmd_rebind(int argc, char **argv);

/* vzdump phases: argv[0] is the phase, then MODE VMID for guest phases;
 * argv[-1] is our own path (passed on to a chained hook with envp). */
int cmd_phase(int argc, char **argv, char **envp);
/* Index of a known phase name, or -1. */
int phase_lookup(const char *name);
/* Does argv (argv[0] = a word that is no command) look like a vzdump call? */
bool phase_call_shape(int argc, char **argv);

/* "pve-gpu-backup-hook: <message>[: <strerror(-err)>]" on stderr; err 0 = no errno text. */
void hook_error(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "Try 'pve-gpu-backup-hook --help' ..." and HOOK_EXIT_USAGE. */
int hook_usage_error(void);
/* Flush stdout; a failed write is an error (returns HOOK_EXIT_FAILURE after reporting). */
int hook_finish_stdout(int exit_code);

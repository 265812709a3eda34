/* The hook's optional configuration, /etc/pve-gpu-backup-hook.conf, in the
 * `key: value` format of /etc/vzdump.conf. Unlike vzdump we reject what we do
 * not understand: a typo in `protect` must not silently unprotect a guest. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "problems.h"

#define HOOKCONF_PATH "/etc/pve-gpu-backup-hook.conf"
#define HOOKCONF_SHUTDOWN_TIMEOUT_DEFAULT 180
#define HOOKCONF_SHUTDOWN_TIMEOUT_MAX 86400

enum hook_restore {
	HOOK_RESTORE_EARLY,      /* as soon as no guest being backed up needs the device */
	HOOK_RESTORE_JOB_END,    /* only at job-end / job-abort */
};

struct hook_config {
	unsigned shutdown_timeout;   /* seconds given to `qm shutdown --timeout` */
	bool force_stop;             /* power off a holder that ignores the shutdown */
	unsigned *protect;           /* guests never parked, in file order */
	size_t n_protect, cap_protect;
	enum hook_restore restore;
	char *chain;                 /* absolute path (under the root prefix) of a hook run after ours, or NULL */
	unsigned chain_line;         /* its line, for messages */
};

/* Defaults; also what a missing file means. */
void hook_config_init(struct hook_config *c);
void hook_config_release(struct hook_config *c);

/* Parse text (file is the name used in problems). Every bad line becomes a
 * problem; returns 0 when there was none, -EINVAL otherwise (c then holds the
 * good lines only and must not be used to act on guests). */
int hook_config_parse(const char *text, const char *file, struct hook_config *c, struct problem_list *problems);

/* Read HOOKCONF_PATH under the root prefix (absent = defaults, 0). Beyond the
 * grammar, chain: must name an executable file that is not this hook itself
 * (self_exe: our own binary, normally "/proc/self/exe", read as is).
 * Returns 0, -EINVAL with problems, or -errno when the file cannot be read
 * (a problem says so too). */
int hook_config_load(const char *self_exe, struct hook_config *c, struct problem_list *problems);

bool hook_config_protects(const struct hook_config *c, unsigned vmid);
const char *hook_restore_to_string(enum hook_restore r);

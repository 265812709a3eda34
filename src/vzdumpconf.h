/* /etc/vzdump.conf as vzdump reads it, and the edit the setup wizard makes to
 * it: every byte kept (CRLF, no final newline, comments, lines vzdump ignores),
 * only the script: line touched. Also the jobs in /etc/pve/jobs.cfg that set
 * their own script. No I/O here: bytes in, bytes out. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

#define VZDUMP_CONF_PATH "/etc/vzdump.conf"
#define HOOK_CONF_PATH "/etc/pve-gpu-backup-hook.conf"
#define JOBS_CFG_PATH "/etc/pve/jobs.cfg"
#define OUR_HOOK_PATH "/usr/sbin/pve-gpu-backup-hook"
/* The popular bash hook (alflewerken/proxmox-gpu-backup-hook) we replace. */
#define OLD_HOOK_NAME "backup-gpu-hook.sh"
/* The one line we write above our script: line when we append it. */
#define OUR_COMMENT "# pve-gpu-backup-setup: park guests holding a GPU while a stopped guest that needs it is backed up"
#define OUR_CHAIN_COMMENT "# pve-gpu-backup-setup: the hook that was in /etc/vzdump.conf, run after ours"

/* One line of a `key: value` file; offsets point into conf_file.data. */
struct conf_line {
	size_t start;          /* first byte of the line */
	size_t len;            /* without the line ending */
	size_t eol;            /* 0 (last line, no newline), 1 ("\n") or 2 ("\r\n") */
	char *key;             /* as vzdump's parse_config sees it, or NULL (comment, blank, ignored) */
	size_t value_start;    /* the value's bytes (trimmed), valid when key is set */
	size_t value_len;
};

struct conf_file {
	char *data;
	size_t len;
	struct conf_line *lines;
	size_t n_lines, cap_lines;
};

/* Split data (copied) into lines and find keys as vzdump does: the line is
 * trimmed, `#` starts a comment, `^(\S+?):\s*(.*)$` gives key and value. */
int conf_file_parse(struct conf_file *f, const char *data, size_t len);
void conf_file_release(struct conf_file *f);
/* The value of line i as a new string (NULL when it has no key or memory ran out). */
char *conf_line_value(const struct conf_file *f, size_t i);
/* "\r\n" when the file's first terminated line ends so, else "\n". */
const char *conf_file_eol(const struct conf_file *f);

enum hook_kind {
	HOOK_NONE,             /* no script: line */
	HOOK_OURS,             /* script: /usr/sbin/pve-gpu-backup-hook */
	HOOK_OURS_ELSEWHERE,   /* .../pve-gpu-backup-hook at another path: replaced, never chained to itself */
	HOOK_OLD_BASH,         /* script: .../backup-gpu-hook.sh (any directory) */
	HOOK_OTHER,            /* some other hook: kept working through chain: */
	HOOK_SEVERAL,          /* more than one script: line; vzdump uses the last */
};

const char *hook_kind_to_string(enum hook_kind k);
/* Kind of a single script value. */
enum hook_kind hook_kind_of(const char *script);

enum setup_action {
	SETUP_APPLY,
	SETUP_REMOVE,
};

/* What the wizard found and what it will write. */
struct setup_plan {
	enum hook_kind kind;          /* what vzdump.conf holds today */
	enum hook_kind effective_kind;/* kind of the hook vzdump runs today (NONE if none) */
	char *effective_script;       /* the script vzdump runs today, or NULL */
	unsigned effective_line;      /* its 1-based line, 0 if none */
	size_t n_script_lines;
	size_t n_mode_lines;          /* mode: lines (never touched; the old installer added one a run) */
	unsigned *ignored_lines;      /* 1-based lines vzdump ignores ("ignore config line"), kept as they are */
	size_t n_ignored_lines;
	char **dropped;               /* several: values of the script: lines taken out */
	size_t n_dropped;
	char *chain;                  /* apply: hook written as chain:; remove: hook put back */
	char *old_chain;              /* apply: a different chain: that is replaced, or NULL */
	bool vzdump_changes;
	char *new_vzdump;             /* the new bytes of vzdump.conf (set when vzdump_changes) */
	size_t new_vzdump_len;
	bool hook_conf_changes;
	bool hook_conf_delete;        /* remove: the hook config became empty and goes away */
	char *new_hook_conf;          /* new bytes of the hook config (set when hook_conf_changes) */
	size_t new_hook_conf_len;
};

/* Plan the edit. vzdump/hook_conf are the current bytes (NULL with length 0
 * when the file does not exist). Returns 0 or -errno (-ENOMEM only). */
int setup_plan_make(enum setup_action action,
                    const char *vzdump, size_t vzdump_len,
                    const char *hook_conf, size_t hook_conf_len,
                    struct setup_plan *ret);
void setup_plan_release(struct setup_plan *p);

/* A backup job of /etc/pve/jobs.cfg with its own script (it overrides vzdump.conf). */
struct backup_job {
	char *id;
	char *script;
	unsigned line;         /* line of the script property */
};

/* Parse jobs.cfg (section config: `vzdump: <id>`, indented `key value`
 * properties, a blank line ends a section); returns only the vzdump jobs
 * that set script. Returns 0 or -ENOMEM. */
int jobs_cfg_scripts(const char *data, size_t len, struct backup_job **ret, size_t *ret_n);
void backup_jobs_free(struct backup_job *jobs, size_t n);

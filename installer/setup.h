/* The setup wizard's parts: the node report, the plan, the locked write. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "json.h"
#include "vzdumpconf.h"

#define PROG "pve-gpu-backup-setup"
#define BACKUP_PATH "/etc/vzdump.conf.pve-gpu-backup-setup.bak"
#define LOCK_PATH "/etc/vzdump.conf.lock"
#define LOGROTATE_PATH "/etc/logrotate.d/pve-gpu-backup-hook"
#define OLD_HOOK_STATE "/tmp/vzdump-gpu-stopped-vms.state"

struct style {
	bool color;
};

const char *c_bold(const struct style *s);
const char *c_red(const struct style *s);
const char *c_yellow(const struct style *s);
const char *c_green(const struct style *s);
const char *c_off(const struct style *s);

/* A file as read before the edit. */
struct file_state {
	const char *path;       /* as the admin knows it, e.g. "/etc/vzdump.conf" */
	bool exists;
	char *data;
	size_t len;
	mode_t mode;
	uid_t uid;
	gid_t gid;
};

/* Read path under the root without following a link at the last component.
 * -ELOOP for a symlink; a missing file is exists=false and 0. */
int file_state_read(struct file_state *f, const char *path);
void file_state_release(struct file_state *f);

/* Write the plan: backup copy, hook config and vzdump.conf in the safe order,
 * the logrotate file when missing. On failure undoes what it wrote and sets
 * *ret_path to the file that failed. Returns 0 or -errno. */
int plan_write(enum setup_action action, const struct setup_plan *p,
               const struct file_state *vz, const struct file_state *hc,
               bool write_logrotate, const char **ret_path);

/* The plan in words (text) or as the vzdump_conf/hook_conf objects (JSON). */
void describe_apply(FILE *out, const struct setup_plan *p, const struct style *s);
void describe_remove(FILE *out, const struct setup_plan *p);
void describe_mode(FILE *out, const struct setup_plan *p);
void json_plan(struct json *j, const struct setup_plan *p);
/* Backup jobs of /etc/pve/jobs.cfg with their own script: warnings, or a JSON array. */
void report_jobs(FILE *out, struct json *j, const struct style *s);

/* The node part of the report (GPUs, guests, conflicts, old hook state,
 * cluster). Text to out, or into j when j is set. */
void node_report(FILE *out, struct json *j, const struct style *s);

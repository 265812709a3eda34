#include <string.h>

#include "rootfs.h"
#include "setup.h"

void describe_apply(FILE *out, const struct setup_plan *p, const struct style *s)
{
	if (p->kind == HOOK_SEVERAL) {
		fprintf(out, "  %s has %zu script: lines; vzdump uses only the last one (line %u: %s).\n",
		        VZDUMP_CONF_PATH, p->n_script_lines, p->effective_line,
		        strempty(p->effective_script) ? "empty" : p->effective_script);
		for (size_t i = 0; i < p->n_dropped; i++)
			fprintf(out, "  The line 'script: %s' never runs; it is taken out so that one line is left.\n",
			        p->dropped[i]);
	}
	switch (p->effective_kind) {
	case HOOK_NONE:
		if (p->n_script_lines == 0)
			fprintf(out, "  vzdump runs no hook script today.\n"
			             "  Plan: add 'script: %s' at the end of %s.\n", OUR_HOOK_PATH, VZDUMP_CONF_PATH);
		else
			fprintf(out, "  vzdump's script: line is empty, so it runs no hook today.\n"
			             "  Plan: set it to %s.\n", OUR_HOOK_PATH);
		break;
	case HOOK_OURS:
		fprintf(out, "  %svzdump already runs %s (line %u).%s\n", c_green(s), OUR_HOOK_PATH,
		        p->effective_line, c_off(s));
		break;
	case HOOK_OURS_ELSEWHERE:
		fprintf(out, "  vzdump runs %s (line %u), our hook at another path.\n"
		             "  Plan: point it at %s, the path the package installs.\n",
		        p->effective_script, p->effective_line, OUR_HOOK_PATH);
		break;
	case HOOK_OLD_BASH:
		fprintf(out, "  vzdump runs the old bash hook %s (line %u).\n"
		             "  Plan: replace it with %s, which does the same job and brings parked\n"
		             "  guests back even when a backup fails.\n",
		        p->effective_script, p->effective_line, OUR_HOOK_PATH);
		fprintf(out, "  The old script file itself stays where it is; delete it when you no longer need it.\n");
		break;
	case HOOK_OTHER:
	case HOOK_SEVERAL:
		fprintf(out, "  vzdump runs another hook script, %s (line %u).\n"
		             "  Plan: run %s instead, and keep that hook working:\n"
		             "  'chain: %s' in %s makes our hook run it\n"
		             "  after its own work, with the same arguments and environment.\n",
		        p->effective_script, p->effective_line, OUR_HOOK_PATH, p->effective_script, HOOK_CONF_PATH);
		if (p->old_chain)
			fprintf(out, "  %s chained %s so far; that is replaced.\n", HOOK_CONF_PATH, p->old_chain);
		if (p->effective_script && p->effective_script[0] != '/')
			fprintf(out, "  %swarning:%s %s is not an absolute path; %s needs one for chain:.\n"
			             "  Write its full path into %s first.\n",
			        c_yellow(s), c_off(s), p->effective_script, OUR_HOOK_PATH, VZDUMP_CONF_PATH);
		break;
	}
}

void describe_mode(FILE *out, const struct setup_plan *p)
{
	if (p->n_ignored_lines) {
		fprintf(out, "  note: vzdump ignores line%s", p->n_ignored_lines > 1 ? "s" : "");
		for (size_t i = 0; i < p->n_ignored_lines; i++)
			fprintf(out, "%s%u", i ? ", " : " ", p->ignored_lines[i]);
		fprintf(out, " of %s (no 'key: value'); kept as %s.\n", VZDUMP_CONF_PATH,
		        p->n_ignored_lines > 1 ? "they are" : "it is");
	}
	if (p->n_mode_lines > 1)
		fprintf(out, "  note: %s has %zu mode: lines (the old installer added one on every run);\n"
		             "  vzdump uses the last one. They are left as they are.\n", VZDUMP_CONF_PATH, p->n_mode_lines);
}

void describe_remove(FILE *out, const struct setup_plan *p)
{
	if (!p->vzdump_changes) {
		fprintf(out, "  %s is not set up in %s; nothing to remove.\n", OUR_HOOK_PATH, VZDUMP_CONF_PATH);
		return;
	}
	if (p->chain)
		fprintf(out, "  Plan: put the chained hook %s back as vzdump's script: in place of %s,\n"
		             "  and take 'chain:' out of %s.\n", p->chain, OUR_HOOK_PATH, HOOK_CONF_PATH);
	else
		fprintf(out, "  Plan: take 'script: %s' out of %s.\n", OUR_HOOK_PATH, VZDUMP_CONF_PATH);
}

void json_plan(struct json *j, const struct setup_plan *p)
{
	json_key(j, "vzdump_conf");
	json_object_begin(j);
	json_kv_string(j, "path", VZDUMP_CONF_PATH);
	json_kv_string(j, "found", hook_kind_to_string(p->kind));
	json_kv_int(j, "script_lines", (long long)p->n_script_lines);
	json_kv_string(j, "effective_script", p->effective_script);
	json_kv_int(j, "effective_line", p->effective_line);
	json_kv_int(j, "mode_lines", (long long)p->n_mode_lines);
	json_key(j, "ignored_lines");
	json_array_begin(j);
	for (size_t i = 0; i < p->n_ignored_lines; i++)
		json_int(j, p->ignored_lines[i]);
	json_array_end(j);
	json_key(j, "dropped");
	json_array_begin(j);
	for (size_t i = 0; i < p->n_dropped; i++)
		json_string(j, p->dropped[i]);
	json_array_end(j);
	json_kv_string(j, "chain", p->chain);
	json_kv_bool(j, "changes", p->vzdump_changes);
	json_object_end(j);
	json_key(j, "hook_conf");
	json_object_begin(j);
	json_kv_string(j, "path", HOOK_CONF_PATH);
	json_kv_bool(j, "changes", p->hook_conf_changes);
	json_kv_bool(j, "delete", p->hook_conf_delete);
	json_object_end(j);
}

void report_jobs(FILE *out, struct json *j, const struct style *s)
{
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	struct backup_job *jobs = NULL;
	size_t n = 0;
	if (root_read_file(JOBS_CFG_PATH, 0, &data, &len) == 0)
		(void)jobs_cfg_scripts(data, len, &jobs, &n);
	if (j) {
		json_key(j, "jobs_with_script");
		json_array_begin(j);
	}
	for (size_t i = 0; i < n; i++) {
		if (j) {
			json_object_begin(j);
			json_kv_string(j, "id", jobs[i].id);
			json_kv_string(j, "script", jobs[i].script);
			json_kv_int(j, "line", jobs[i].line);
			json_object_end(j);
		} else if (!streq(jobs[i].script, OUR_HOOK_PATH))
			fprintf(out, "%swarning:%s backup job '%s' sets its own script (%s, %s line %u);\n"
			             "  it overrides %s, so %s does not run for that job.\n"
			             "  Take 'script' out of the job, or set it to %s.\n",
			        c_yellow(s), c_off(s), jobs[i].id, jobs[i].script, JOBS_CFG_PATH, jobs[i].line,
			        VZDUMP_CONF_PATH, OUR_HOOK_PATH, OUR_HOOK_PATH);
	}
	if (j)
		json_array_end(j);
	backup_jobs_free(jobs, n);
}

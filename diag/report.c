/* gpu-diag output: one line per check, colour only on a terminal; or JSON. */
#include <stdio.h>
#include <string.h>

#include "report.h"

#define DOTS_COLUMN 64

static const char *const colors[] = {
	[VERDICT_PASS] = "\033[32m", [VERDICT_INFO] = "\033[36m", [VERDICT_UNKNOWN] = "\033[35m",
	[VERDICT_WARN] = "\033[33m", [VERDICT_FAIL] = "\033[31m",
};

void report_init(struct report *rp, bool json, bool quiet, bool color)
{
	*rp = (struct report) { .json = json, .quiet = quiet, .color = color && !json };
	json_init(&rp->j, true);
	if (json) {
		json_object_begin(&rp->j);
		json_kv_string(&rp->j, "program", "gpu-diag");
		json_kv_string(&rp->j, "version", PACKAGE_VERSION);
		json_key(&rp->j, "sections");
		json_array_begin(&rp->j);
	}
}

void report_release(struct report *rp)
{
	json_release(&rp->j);
	for (size_t i = 0; i < rp->n_notes; i++)
		free(rp->notes[i]);
	rp->n_notes = 0;
}

static void close_section(struct report *rp)
{
	if (rp->json && rp->checks_open)
		json_array_end(&rp->j);
	if (rp->json && rp->in_section)
		json_object_end(&rp->j);
	rp->in_section = rp->checks_open = false;
}

void report_section(struct report *rp, const char *kind, const char *label, const char *title)
{
	close_section(rp);
	snprintf(rp->label, sizeof(rp->label), "%s", label);
	rp->in_section = true;
	if (rp->json) {
		json_object_begin(&rp->j);
		json_kv_string(&rp->j, "kind", kind);
		json_kv_string(&rp->j, "label", label);
		if (title)
			json_kv_string(&rp->j, "title", title);
		return;
	}
	if (title && !rp->quiet)
		printf("\n%s%s%s\n", rp->color ? "\033[1m" : "", title, rp->color ? "\033[0m" : "");
}

void report_section_kv(struct report *rp, const char *key, const char *value)
{
	if (rp->json)
		json_kv_string(&rp->j, key, value);
}

void report_check(struct report *rp, const char *id, const struct check_result *r)
{
	rp->counts[r->verdict]++;
	if (rp->json) {
		if (!rp->checks_open) {
			json_key(&rp->j, "checks");
			json_array_begin(&rp->j);
			rp->checks_open = true;
		}
		json_object_begin(&rp->j);
		json_kv_string(&rp->j, "check", id);
		json_kv_string(&rp->j, "what", r->what);
		json_kv_string(&rp->j, "verdict", verdict_name(r->verdict));
		json_kv_string(&rp->j, "status", r->status);
		json_kv_string(&rp->j, "evidence", r->evidence);
		json_kv_string(&rp->j, "hint", r->hint[0] ? r->hint : NULL);
		json_object_end(&rp->j);
		return;
	}
	if (rp->quiet && r->verdict != VERDICT_WARN && r->verdict != VERDICT_FAIL && r->verdict != VERDICT_UNKNOWN)
		return;
	char line[256];
	int n = snprintf(line, sizeof(line), "%s: Checking %s ", rp->label, r->what);
	if (n < 0)
		return;
	fputs(line, stdout);
	for (int i = n; i < DOTS_COLUMN; i++)
		putchar('.');
	const char *name = verdict_name(r->verdict);
	printf(" %s%s%s", rp->color ? colors[r->verdict] : "", name, rp->color ? "\033[0m" : "");
	bool bad = r->verdict == VERDICT_WARN || r->verdict == VERDICT_FAIL || r->verdict == VERDICT_UNKNOWN;
	if (bad && r->hint[0])
		printf(" (%s%s%s)", r->status, r->status[0] ? ": " : "", r->hint);
	else if (r->status[0])
		printf(" (%s)", r->status);
	putchar('\n');
}

void report_note(struct report *rp, const char *text)
{
	if (rp->json) {
		if (rp->n_notes < ELEMENTSOF(rp->notes))
			rp->notes[rp->n_notes++] = strdup(text);
		return;
	}
	if (!rp->quiet)
		printf("%s\n", text);
}

int report_finish(struct report *rp, bool strict, const char *error)
{
	int status = error ? 3 : rp->counts[VERDICT_FAIL] ? 2 : (strict && rp->counts[VERDICT_WARN]) ? 1 : 0;
	if (!rp->json)
		return status;
	close_section(rp);
	json_array_end(&rp->j);
	json_key(&rp->j, "summary");
	json_object_begin(&rp->j);
	for (int v = VERDICT_PASS; v <= VERDICT_FAIL; v++) {
		char key[16];
		snprintf(key, sizeof(key), "%s", verdict_name(v));
		for (char *p = key; *p; p++)
			*p = (char) (*p - 'A' + 'a');
		json_kv_int(&rp->j, key, rp->counts[v]);
	}
	json_object_end(&rp->j);
	json_key(&rp->j, "notes");
	json_array_begin(&rp->j);
	for (size_t i = 0; i < rp->n_notes; i++)
		json_string(&rp->j, rp->notes[i]);
	json_array_end(&rp->j);
	json_kv_string(&rp->j, "error", error);
	json_kv_int(&rp->j, "exit_status", status);
	json_object_end(&rp->j);
	const char *text = json_text(&rp->j);
	if (!text)
		return 3;
	fputs(text, stdout);
	putchar('\n');
	return status;
}

/* gpu-diag output: virt-host-validate style lines, or one JSON document. */
#pragma once

#include <stdbool.h>

#include "gpucheck.h"
#include "json.h"

struct report {
	bool json, quiet, color;
	struct json j;
	unsigned counts[VERDICT_FAIL + 1];
	bool in_section, checks_open;
	char label[32];           /* prefix of the current section's lines */
	char *notes[32];          /* JSON: notes go into one top-level list */
	size_t n_notes;
};

void report_init(struct report *rp, bool json, bool quiet, bool color);
void report_release(struct report *rp);
/* A group of checks: the host, one PCI function, one guest. label is printed
 * as the line prefix; title (may be NULL) is a heading shown once in text mode. */
void report_section(struct report *rp, const char *kind, const char *label, const char *title);
/* A key/value describing the current section (JSON only). */
void report_section_kv(struct report *rp, const char *key, const char *value);
void report_check(struct report *rp, const char *id, const struct check_result *r);
/* A line of its own (text) or a note in the document (JSON). */
void report_note(struct report *rp, const char *text);
/* Close the document: JSON goes to stdout. Returns the exit status (0, 1, 2)
 * or 3 when error is set (the checks could not run). */
int report_finish(struct report *rp, bool strict, const char *error);

/* Problems found while reading a node: a bad line, an unknown mapping. The
 * library never prints; it collects these and the program reports them. */
#pragma once

#include <stddef.h>

#include "macro.h"

struct problem {
	char *file;       /* path as the admin knows it (without the root prefix), or NULL */
	unsigned line;    /* 1-based, 0 = not about one line */
	char *message;    /* lowercase, no final full stop */
};

struct problem_list {
	struct problem *items;
	size_t n, cap;
};

/* Append a problem; never fails loudly (a lost message is better than an abort). */
void problem_add(struct problem_list *l, const char *file, unsigned line, const char *fmt, ...) _printf_(4, 5);
void problem_list_release(struct problem_list *l);
/* Order by file (vmids in number order), then line; keeps the order of equal ones. */
void problem_list_sort(struct problem_list *l);

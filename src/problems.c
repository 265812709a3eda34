#include <stdarg.h>
#include <string.h>

#include "problems.h"

void problem_add(struct problem_list *l, const char *file, unsigned line, const char *fmt, ...)
{
	struct problem *p = array_push(&l->items, &l->n, &l->cap, sizeof(*p));
	if (!p)
		return;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&p->message, fmt, ap) < 0)
		p->message = NULL;
	va_end(ap);
	p->file = file ? strdup(file) : NULL;
	p->line = line;
	if (!p->message)
		l->n--;
}

void problem_list_release(struct problem_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->items[i].file);
		free(l->items[i].message);
	}
	free(l->items);
	*l = (struct problem_list){ 0 };
}

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

struct indexed_problem {
	struct problem p;
	size_t index;
};

static int cmp_problem(const void *a, const void *b)
{
	const struct indexed_problem *x = a, *y = b;
	int c = (x->p.file != NULL) - (y->p.file != NULL);
	if (c == 0 && x->p.file)
		c = strverscmp(x->p.file, y->p.file);
	if (c == 0)
		c = (x->p.line > y->p.line) - (x->p.line < y->p.line);
	if (c == 0)
		c = (x->index > y->index) - (x->index < y->index);
	return c;
}

void problem_list_sort(struct problem_list *l)
{
	if (l->n < 2)
		return;
	struct indexed_problem *v = malloc(l->n * sizeof(*v));
	if (!v)
		return;
	for (size_t i = 0; i < l->n; i++)
		v[i] = (struct indexed_problem){ l->items[i], i };
	qsort(v, l->n, sizeof(*v), cmp_problem);
	for (size_t i = 0; i < l->n; i++)
		l->items[i] = v[i].p;
	free(v);
}

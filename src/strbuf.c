#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

void strbuf_add(struct strbuf *b, const void *data, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t ncap = b->cap ? b->cap : 256;
		while (ncap < b->len + n + 1)
			ncap *= 2;
		char *p = realloc(b->p, ncap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = ncap;
	}
	if (n)
		memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void strbuf_adds(struct strbuf *b, const char *s)
{
	strbuf_add(b, s, strlen(s));
}

char *strbuf_steal(struct strbuf *b, size_t *ret_len)
{
	if (!b->oom && !b->p)
		strbuf_add(b, "", 0);
	if (b->oom) {
		strbuf_release(b);
		return NULL;
	}
	char *p = b->p;
	if (ret_len)
		*ret_len = b->len;
	*b = (struct strbuf){ 0 };
	return p;
}

void strbuf_release(struct strbuf *b)
{
	free(b->p);
	*b = (struct strbuf){ 0 };
}

/* A growing byte buffer for building file contents; remembers running out of memory. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct strbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

void strbuf_add(struct strbuf *b, const void *data, size_t n);
void strbuf_adds(struct strbuf *b, const char *s);
/* Hand the NUL-terminated bytes over (NULL on an earlier out-of-memory). */
char *strbuf_steal(struct strbuf *b, size_t *ret_len);
void strbuf_release(struct strbuf *b);

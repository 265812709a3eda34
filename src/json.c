#include <stdarg.h>
#include <string.h>

#include "json.h"

void json_init(struct json *j, bool pretty)
{
	*j = (struct json){ .pretty = pretty };
}

void json_release(struct json *j)
{
	free(j->buf);
	*j = (struct json){ 0 };
}

static void put(struct json *j, const char *s, size_t n)
{
	if (j->oom)
		return;
	if (j->len + n + 1 > j->cap) {
		size_t ncap = j->cap ? j->cap : 256;
		while (j->len + n + 1 > ncap)
			ncap *= 2;
		char *b = realloc(j->buf, ncap);
		if (!b) {
			j->oom = true;
			return;
		}
		j->buf = b;
		j->cap = ncap;
	}
	memcpy(j->buf + j->len, s, n);
	j->len += n;
	j->buf[j->len] = '\0';
}

static void puts_(struct json *j, const char *s)
{
	put(j, s, strlen(s));
}

static void newline(struct json *j)
{
	if (!j->pretty)
		return;
	puts_(j, "\n");
	for (int i = 0; i < j->depth; i++)
		puts_(j, "  ");
}

/* Before a value or key at the current depth. */
static void sep(struct json *j)
{
	if (j->depth > 0 && j->depth < JSON_MAX_DEPTH) {
		if (j->need_comma[j->depth])
			puts_(j, ",");
		j->need_comma[j->depth] = true;
		newline(j);
	}
}

static void value_prefix(struct json *j)
{
	if (j->after_key)
		j->after_key = false;
	else
		sep(j);
}

const char *json_text(struct json *j)
{
	if (!j->buf)
		put(j, "", 0);
	return j->oom ? NULL : j->buf;
}

static void open_(struct json *j, const char *c)
{
	value_prefix(j);
	puts_(j, c);
	j->depth++;
	if (j->depth < JSON_MAX_DEPTH)
		j->need_comma[j->depth] = false;
}

static void close_(struct json *j, const char *c)
{
	bool had = j->depth < JSON_MAX_DEPTH && j->need_comma[j->depth];
	j->depth--;
	if (had)
		newline(j);
	puts_(j, c);
}

void json_object_begin(struct json *j) { open_(j, "{"); }
void json_object_end(struct json *j) { close_(j, "}"); }
void json_array_begin(struct json *j) { open_(j, "["); }
void json_array_end(struct json *j) { close_(j, "]"); }

static void put_escaped(struct json *j, const char *s)
{
	puts_(j, "\"");
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		char esc[8];
		switch (*p) {
		case '"': puts_(j, "\\\""); break;
		case '\\': puts_(j, "\\\\"); break;
		case '\n': puts_(j, "\\n"); break;
		case '\r': puts_(j, "\\r"); break;
		case '\t': puts_(j, "\\t"); break;
		default:
			if (*p < 0x20 || *p == 0x7f) {
				snprintf(esc, sizeof(esc), "\\u%04x", *p);
				puts_(j, esc);
			} else
				put(j, (const char *)p, 1);
		}
	}
	puts_(j, "\"");
}

void json_key(struct json *j, const char *key)
{
	sep(j);
	put_escaped(j, key);
	puts_(j, j->pretty ? ": " : ":");
	j->after_key = true;
}

void json_string(struct json *j, const char *s)
{
	value_prefix(j);
	if (s)
		put_escaped(j, s);
	else
		puts_(j, "null");
}

void json_int(struct json *j, long long v)
{
	char b[32];
	value_prefix(j);
	snprintf(b, sizeof(b), "%lld", v);
	puts_(j, b);
}

void json_bool(struct json *j, bool v)
{
	value_prefix(j);
	puts_(j, v ? "true" : "false");
}

void json_null(struct json *j)
{
	value_prefix(j);
	puts_(j, "null");
}

void json_kv_string(struct json *j, const char *key, const char *s) { json_key(j, key); json_string(j, s); }
void json_kv_int(struct json *j, const char *key, long long v) { json_key(j, key); json_int(j, v); }
void json_kv_bool(struct json *j, const char *key, bool v) { json_key(j, key); json_bool(j, v); }

/* A small JSON writer into a growing buffer (no printing: the caller decides
 * where the text goes). Commas are placed automatically. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

#define JSON_MAX_DEPTH 32

struct json {
	char *buf;
	size_t len, cap;
	bool oom;
	int depth;
	bool need_comma[JSON_MAX_DEPTH];
	bool pretty;
	bool after_key;
};

void json_init(struct json *j, bool pretty);
void json_release(struct json *j);
/* Returns the text (owned by j) or NULL when memory ran out. */
const char *json_text(struct json *j);

void json_object_begin(struct json *j);
void json_object_end(struct json *j);
void json_array_begin(struct json *j);
void json_array_end(struct json *j);
/* Emit a key inside an object; the next value call gives its value. */
void json_key(struct json *j, const char *key);
void json_string(struct json *j, const char *s);   /* NULL gives null */
void json_int(struct json *j, long long v);
void json_bool(struct json *j, bool v);
void json_null(struct json *j);

/* Shorthands for key + value. */
void json_kv_string(struct json *j, const char *key, const char *s);
void json_kv_int(struct json *j, const char *key, long long v);
void json_kv_bool(struct json *j, const char *key, bool v);

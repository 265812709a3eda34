/* Small string helpers for the config parsers. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Proxmox booleans (JSONSchema parse_boolean): 1|on|yes|true -> 1, 0|off|no|false -> 0, else -EINVAL. */
int parse_boolean(const char *s);
/* Copy src into dst[size], cut to fit; always NUL-terminated. */
void strcpy_cut(char *dst, size_t size, const char *src);
/* Replace *dst by a copy of v (*dst is kept on -ENOMEM). */
int str_set(char **dst, const char *v);
/* Strip leading and trailing whitespace in place; returns the new start. */
char *strstrip(char *s);
/* Next line of a mutable buffer: NUL-terminates it at '\n' and advances *p; NULL at the end. */
char *next_line(char **p);
/* Does s start with prefix? */
bool startswith(const char *s, const char *prefix);
/* Unsigned decimal with full checks (no sign, no junk, no overflow past max). */
int parse_uint(const char *s, unsigned long long max, unsigned long long *ret);
/* Append a copy of s to a string array. */
int strv_push(char ***v, size_t *n, const char *s);
void strv_free(char **v, size_t n);

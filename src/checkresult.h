/* Helpers shared by the verdict files (gpucheck*.c): fixed-size text fields. */
#pragma once

#include <stddef.h>

#include "gpucheck.h"
#include "macro.h"

/* snprintf into a fixed field; fields are sized for people, a cut is fine. */
void field_printf(char *dst, size_t size, const char *fmt, ...) _printf_(3, 4);
/* Append to a fixed field, truncating silently. */
void field_append(char *dst, size_t size, const char *fmt, ...) _printf_(3, 4);
#define SET(field, ...) field_printf((field), sizeof(field), __VA_ARGS__)
#define APPEND(field, ...) field_append((field), sizeof(field), __VA_ARGS__)

/* A fresh result with its verdict and "Checking <what>". */
void check_result_init(struct check_result *r, enum verdict v, const char *what);

/* A small unified diff for line-based config files (the wizard shows its edit). */
#pragma once

#include <stddef.h>

/* `diff -u` style (3 lines of context, "\ No newline at end of file" where
 * needed) of two texts; *ret is "" when they are equal. Returns 0 or -ENOMEM. */
int unified_diff(const char *old, size_t old_len, const char *new, size_t new_len,
                 const char *old_label, const char *new_label, char **ret);

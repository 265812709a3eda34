/* Shared between the two halves of fakesys.so: fakesys.c recognises and
 * interposes the command files, fakesys-kernel.c applies a write to them. */
#pragma once

#include <limits.h>
#include <stdio.h>
#include <sys/types.h>

#define FAKESYS_HIDDEN __attribute__((visibility("hidden")))

enum cmd_kind { CMD_BIND, CMD_UNBIND, CMD_NEW_ID, CMD_REMOVE_ID, CMD_PROBE, CMD_OVERRIDE };

struct cmd {
	enum cmd_kind kind;
	char root[PATH_MAX];  /* canonical root prefix */
	char arg[256];        /* driver name, or BDF for driver_override */
	int refs;
};

/* libc's own functions, looked up past our wrappers (set before any apply). */
extern int (*real_open)(const char *, int, ...) FAKESYS_HIDDEN;
extern ssize_t (*real_write)(int, const void *, size_t) FAKESYS_HIDDEN;
extern int (*real_close)(int) FAKESYS_HIDDEN;

/* Apply one write of data to command file c as the kernel would: 0 or -errno. */
int fakesys_apply(const struct cmd *c, const char *data, size_t len) FAKESYS_HIDDEN;

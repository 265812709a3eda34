/* Every file the tools read or write sits under one root prefix, taken from
 * $PVE_GPU_BACKUP_ROOT (unset or empty = "/"), so tests can build a fake node. */
#pragma once

#include <dirent.h>
#include <stddef.h>
#include <sys/types.h>

#include "macro.h"

/* The root prefix without a trailing slash ("" for "/"). */
const char *root_prefix(void);
/* Override the prefix (tests, --root); NULL goes back to the environment. */
void root_set_prefix(const char *prefix);

/* Build "<root><path>" (path is absolute, e.g. "/etc/pve/local") into a new string. */
char *root_path(const char *path);
/* Same into a buffer; returns 0 or -ENAMETOOLONG. */
int root_path_buf(char *buf, size_t size, const char *path);

/* open(2) of root_path(path); always O_CLOEXEC; O_NOFOLLOW on the last
 * component when nofollow is set. Returns fd or -errno. */
int root_open(const char *path, int flags, mode_t mode, bool nofollow);
/* A directory stream over fd, which it closes on failure: 0 and *ret, or -errno. */
int fd_opendir(int fd, DIR **ret);
/* A directory stream of root_path(path) (O_CLOEXEC): 0 and *ret, or -errno. */
int root_opendir(const char *path, DIR **ret);

/* Read a whole file under the root (at most max bytes, 0 = 64 MiB): returns 0
 * and a NUL-terminated malloc'ed buffer, or -errno (-EFBIG when larger). */
int root_read_file(const char *path, size_t max, char **ret, size_t *ret_len);
/* Read an open file from where it stands to its end (at most max bytes, 0 = 64 MiB):
 * the same result as root_read_file, for a descriptor opened with care (O_NOFOLLOW). */
int fd_read_all(int fd, size_t max, char **ret, size_t *ret_len);
/* Read the first line of a small attribute file (sysfs/proc), newline stripped. */
int root_read_line(const char *path, char **ret);
/* readlink(2) under the root; returns 0 and a malloc'ed target, or -errno. */
int root_readlink(const char *path, char **ret);
/* access(F_OK) under the root. */
bool root_exists(const char *path);

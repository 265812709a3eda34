/* Safe writes: atomic replace (temp file in the same directory, fsync, rename,
 * fsync the directory) and advisory locks. Paths are absolute and already
 * resolved under the root prefix by the caller (see rootfs.h). */
#pragma once

#include <stddef.h>
#include <sys/types.h>

#include "macro.h"

/* Replace path with data atomically. mode/uid/gid are applied to the new file
 * (uid/gid -1 = keep the caller's). Refuses (-ELOOP) when path is a symlink
 * and (-EISDIR) when it is a directory. On any error the old file is intact
 * and no temp file is left behind. */
int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode, uid_t uid, gid_t gid);

/* Take an exclusive flock on path (created 0600, O_NOFOLLOW). With timeout_ms
 * < 0 wait forever, 0 try once (-EWOULDBLOCK when held), else poll until the
 * timeout. Returns the fd holding the lock, or -errno. */
int lock_file(const char *path, int timeout_ms);

/* mkdir -p with mode for missing components; refuses a symlink at the last one. */
int mkdir_p(const char *path, mode_t mode);

/* Monotonic clock in milliseconds. */
long long now_ms(void);
/* Sleep for ms milliseconds (poll loops; never a fixed wait for an event). */
void sleep_ms(long ms);

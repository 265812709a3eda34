/* The guests the hook has parked (shut down to free a device), kept under
 * /var/lib/pve-gpu-backup-hook/ so that a killed vzdump loses no guest. One
 * plain text file, `parked`, one record per line of key=value fields:
 *   vmid=104 type=qemu state=parked for=102 devices=0000:05:00.0 parked-at=1764000000
 *   job=UPID:pve1:... boot=<boot id> [pid=<qemu pid>] [driver=0000:05:00.0=i915 ...]
 * Replaced atomically under an flock on `lock`. Symlinks are refused (-ELOOP). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "node.h"
#include "pci_addr.h"
#include "problems.h"

#define STATE_DIR "/var/lib/pve-gpu-backup-hook"
#define STATE_FILE STATE_DIR "/parked"
#define STATE_LOCK STATE_DIR "/lock"
#define STATE_LOCK_TIMEOUT_MS 30000

enum park_state {
	PARK_PARKED,             /* shut down by us, to be started again */
	PARK_RESTORE_FAILED,     /* we tried to start it again and failed */
	PARK_STOPPING,           /* asked to shut down, still up at the timeout: it may power off later */
};

/* The host driver a container's device was bound to before a VM took it. */
struct parked_driver {
	struct pci_addr addr;
	char *driver;
};

struct parked_guest {
	unsigned vmid;
	enum guest_type type;
	enum park_state state;
	unsigned for_vmid;           /* the guest being backed up that needed the devices */
	struct pci_addr *devices;    /* the PCI functions it needed from this guest */
	size_t n_devices;
	long long parked_at;         /* epoch seconds */
	char *job;                   /* UPID of the vzdump job, or NULL when unknown */
	char *boot_id;               /* boot the guest was parked in, or NULL when unknown */
	unsigned pid;                /* PARK_STOPPING: the QEMU instance asked to shut down (0 = unknown) */
	struct parked_driver *drivers;
	size_t n_drivers;
};

struct parked_set {
	struct parked_guest *guests; /* in the order added */
	size_t n, cap;
};

/* Create STATE_DIR (0700) if absent and take the lock, waiting at most
 * timeout_ms (<0 for ever). Returns the lock fd, -EWOULDBLOCK when another
 * hook holds it, -ELOOP for a symlink, -EPERM for a directory that is not
 * ours or writable by others, or another -errno. */
int state_lock(int timeout_ms);
void state_unlock(int fd);

/* Read STATE_FILE (absent = empty set). A bad line is a problem with file and
 * line and makes the whole load fail with -EBADMSG: never act on a partial
 * set. -ELOOP when the file or the directory is a symlink. */
int state_load(struct parked_set *ret, struct problem_list *problems);
/* Write the set atomically (0600); an empty set leaves an empty file. Hold the lock. */
int state_save(const struct parked_set *s);

/* Add a deep copy of g (replacing a record of the same vmid). */
int state_add(struct parked_set *s, const struct parked_guest *g);
/* Remove vmid's record; -ENOENT when there is none. */
int state_remove(struct parked_set *s, unsigned vmid);
struct parked_guest *state_find(const struct parked_set *s, unsigned vmid);
void parked_set_release(struct parked_set *s);
void parked_guest_release(struct parked_guest *g);

/* Format one record (no newline) / parse one; used by load and save, and by tests. */
int parked_guest_format(const struct parked_guest *g, char **ret);
int parked_guest_parse(const char *line, struct parked_guest *ret, char **ret_reason);

/* The running job's UPID (first line of /var/run/vzdump.pid; -ENOENT before vzdump's lock). */
int state_read_job_upid(char **ret);
/* Does a vzdump job hold its global lock (/var/run/vzdump.lock) now? 1, 0, or -errno. */
int state_vzdump_running(void);
/* This boot's id (/proc/sys/kernel/random/boot_id). */
int state_read_boot_id(char **ret);

const char *park_state_to_string(enum park_state s);

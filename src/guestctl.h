/* Acting on guests through Proxmox's own tools, run by absolute path under the
 * root prefix (vzdump gives the hook no PATH): qm for VMs, pct for containers,
 * ha-manager. Results carry the exit code and the tool's last output line,
 * which is Proxmox's reason (e.g. "VM quit/powerdown failed - got timeout"). */
#pragma once

#include <stdbool.h>

#include "node.h"
#include "subprocess.h"

#define QM_PATH "/usr/sbin/qm"
#define PCT_PATH "/usr/sbin/pct"
#define HA_MANAGER_PATH "/usr/sbin/ha-manager"

struct guestctl_opts {
	spawn_line_fn relay;     /* each output line (the hook passes them to its log); NULL = dropped */
	void *userdata;
	int timeout_ms;          /* bound on the command itself; 0 = a default per command */
};

struct guestctl_result {
	int exit_code;           /* the tool's exit code; -1 when it was killed */
	int signal;
	bool timed_out;          /* our bound fired and the tool was killed */
	char reason[SPAWN_LAST_LINE_MAX]; /* last output line, else a description; "" on success without output */
};

/* Each returns 0 when the tool ran (success is result->exit_code == 0), -EINVAL
 * for a vmid outside 100..999999999 or a bad timeout (nothing run), or -errno
 * when the tool could not be started (-ENOENT: not installed). */

/* qm|pct shutdown <vmid> --timeout <timeout_s> [--forceStop 1]. Default bound: timeout_s + 60 s. */
int guest_shutdown(enum guest_type type, unsigned vmid, unsigned timeout_s, bool force_stop,
		   const struct guestctl_opts *opts, struct guestctl_result *ret);
/* qm|pct stop <vmid>. Default bound: 120 s. */
int guest_stop(enum guest_type type, unsigned vmid, const struct guestctl_opts *opts, struct guestctl_result *ret);
/* qm|pct start <vmid>. Default bound: 600 s (a GPU reset can be slow). */
int guest_start(enum guest_type type, unsigned vmid, const struct guestctl_opts *opts, struct guestctl_result *ret);
/* qm|pct status <vmid>: *ret_status gets the word after "status: " ("running",
 * "stopped", "prelaunch", ...). -EBADMSG when the tool succeeded without such a
 * line; NULL when the tool failed (see ret). Output is not relayed. Default bound: 30 s. */
int guest_status(enum guest_type type, unsigned vmid, const struct guestctl_opts *opts, char **ret_status,
		 struct guestctl_result *ret);
/* ha-manager set vm:<vmid>|ct:<vmid> --state <state> (started, stopped, ...). Default bound: 60 s. */
int guest_ha_set_state(enum guest_type type, unsigned vmid, const char *state, const struct guestctl_opts *opts,
		       struct guestctl_result *ret);

/* "status: running" -> "running" (a new string); NULL when line is not a status line. */
char *guest_status_parse_line(const char *line);

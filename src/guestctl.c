#include <string.h>

#include "guestctl.h"
#include "rootfs.h"

/* As Proxmox: 100..999999999 (the foundation's vmid_valid, kept local to stand alone). */
static bool vmid_ok(unsigned v)
{
	return v >= 100 && v <= 999999999;
}

static const char *tool_of(enum guest_type type)
{
	return type == GUEST_LXC ? PCT_PATH : QM_PATH;
}

static int run_tool(const char *tool, char *const argv[], const struct guestctl_opts *opts, int default_timeout_ms,
		    spawn_line_fn on_line, void *userdata, struct guestctl_result *ret)
{
	*ret = (struct guestctl_result){ .exit_code = -1 };
	_cleanup_free_ char *path = root_path(tool);
	if (!path)
		return -ENOMEM;
	struct spawn_opts so = {
		.timeout_ms = opts && opts->timeout_ms > 0 ? opts->timeout_ms : default_timeout_ms,
		.on_line = on_line,
		.userdata = userdata,
	};
	struct spawn_result sr;
	int r = spawn_run(path, argv, &so, &sr);
	if (r < 0)
		return r;
	ret->exit_code = sr.exit_code;
	ret->signal = sr.signal;
	ret->timed_out = sr.timed_out;
	if (sr.timed_out || sr.signal || (sr.exit_code != 0 && !sr.last_line[0]))
		spawn_result_describe(&sr, so.timeout_ms, ret->reason, sizeof(ret->reason));
	else
		snprintf(ret->reason, sizeof(ret->reason), "%s", sr.last_line);
	return 0;
}

static int run_guest_cmd(enum guest_type type, unsigned vmid, const char *verb, const char *const extra[],
			 const struct guestctl_opts *opts, int default_timeout_ms, struct guestctl_result *ret)
{
	*ret = (struct guestctl_result){ .exit_code = -1 };
	if (!vmid_ok(vmid))
		return -EINVAL;
	char id[16];
	snprintf(id, sizeof(id), "%u", vmid);
	const char *tool = tool_of(type);
	const char *argv[8] = { strrchr(tool, '/') + 1, verb, id };
	size_t n = 3;
	for (size_t i = 0; extra && extra[i] && n < ELEMENTSOF(argv) - 1; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	return run_tool(tool, (char *const *)argv, opts, default_timeout_ms, opts ? opts->relay : NULL,
			opts ? opts->userdata : NULL, ret);
}

int guest_shutdown(enum guest_type type, unsigned vmid, unsigned timeout_s, bool force_stop,
		   const struct guestctl_opts *opts, struct guestctl_result *ret)
{
	*ret = (struct guestctl_result){ .exit_code = -1 };
	if (timeout_s < 1 || timeout_s > 86400)
		return -EINVAL;
	char t[16];
	snprintf(t, sizeof(t), "%u", timeout_s);
	const char *extra[] = { "--timeout", t, force_stop ? "--forceStop" : NULL, "1", NULL };
	/* qm's own force stop adds SIGTERM, 10 s, SIGKILL after the timeout: leave it room. */
	return run_guest_cmd(type, vmid, "shutdown", extra, opts, (int)(timeout_s + 60) * 1000, ret);
}

int guest_stop(enum guest_type type, unsigned vmid, const struct guestctl_opts *opts, struct guestctl_result *ret)
{
	return run_guest_cmd(type, vmid, "stop", NULL, opts, 120 * 1000, ret);
}

int guest_start(enum guest_type type, unsigned vmid, const struct guestctl_opts *opts, struct guestctl_result *ret)
{
	return run_guest_cmd(type, vmid, "start", NULL, opts, 600 * 1000, ret);
}

char *guest_status_parse_line(const char *line)
{
	if (strncmp(line, "status: ", 8) != 0)
		return NULL;
	const char *w = line + 8;
	size_t n = strcspn(w, " \t\r");
	if (n == 0 || w[n])
		return NULL;
	return strndup(w, n);
}

static void status_line(const char *line, void *userdata)
{
	char **status = userdata;
	char *s = guest_status_parse_line(line);
	if (s) {
		free(*status);
		*status = s;
	}
}

int guest_status(enum guest_type type, unsigned vmid, const struct guestctl_opts *opts, char **ret_status,
		 struct guestctl_result *ret)
{
	*ret = (struct guestctl_result){ .exit_code = -1 };
	if (!vmid_ok(vmid))
		return -EINVAL;
	char id[16];
	snprintf(id, sizeof(id), "%u", vmid);
	const char *tool = tool_of(type);
	const char *argv[] = { strrchr(tool, '/') + 1, "status", id, NULL };
	_cleanup_free_ char *status = NULL;
	int r = run_tool(tool, (char *const *)argv, opts, 30 * 1000, status_line, &status, ret);
	if (r < 0)
		return r;
	if (ret->exit_code != 0) {
		*ret_status = NULL;
		return 0;
	}
	if (!status)
		return -EBADMSG;
	*ret_status = TAKE_PTR(status);
	return 0;
}

int guest_ha_set_state(enum guest_type type, unsigned vmid, const char *state, const struct guestctl_opts *opts,
		       struct guestctl_result *ret)
{
	*ret = (struct guestctl_result){ .exit_code = -1 };
	static const char *const states[] = { "started", "stopped", "disabled", "ignored" };
	bool known = false;
	for (size_t i = 0; i < ELEMENTSOF(states); i++)
		known = known || streq(state, states[i]);
	if (!vmid_ok(vmid) || !known)
		return -EINVAL;
	char sid[24];
	snprintf(sid, sizeof(sid), "%s:%u", type == GUEST_LXC ? "ct" : "vm", vmid);
	const char *argv[] = { "ha-manager", "set", sid, "--state", state, NULL };
	return run_tool(HA_MANAGER_PATH, (char *const *)argv, opts, 60 * 1000, opts ? opts->relay : NULL,
			opts ? opts->userdata : NULL, ret);
}

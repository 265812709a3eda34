#include <fcntl.h>
#include <sys/stat.h>

#include "guestctl.h"
#include "rootfs.h"
#include "tap.h"
#include "testdir.h"

static const char *root;

static char *at(const char *rel)
{
	static char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s%s", root, rel);
	return p;
}

/* A fake tool: records its argv (one per line) and runs the test's body. */
static void fake_tool(const char *rel, const char *body)
{
	char text[4096];
	snprintf(text, sizeof(text), "#!/bin/sh\nprintf '%%s\\n' \"$0\" \"$@\" > \"$PVE_GPU_BACKUP_ROOT/argv\"\n%s\n", body);
	FILE *f = fopen(at(rel), "w");
	fputs(text, f);
	fclose(f);
	chmod(at(rel), 0755);
}

static char *argv_seen(void)
{
	static char buf[1024];
	FILE *f = fopen(at("/argv"), "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	buf[n] = '\0';
	if (f)
		fclose(f);
	unlink(at("/argv"));
	for (char *p = buf; *p; p++)
		if (*p == '\n')
			*p = ' ';
	/* argv[0] is the full path: keep only what follows the root. */
	size_t rl = strlen(root);
	return strncmp(buf, root, rl) == 0 ? buf + rl : buf;
}

struct relayed {
	char text[1024];
};

static void relay(const char *line, void *userdata)
{
	struct relayed *r = userdata;
	size_t l = strlen(r->text);
	snprintf(r->text + l, sizeof(r->text) - l, "%s|", line);
}

int main(void)
{
	root = testdir_create("guestctl.t");
	setenv("PVE_GPU_BACKUP_ROOT", root, 1);
	mkdir(at("/usr"), 0755);
	mkdir(at("/usr/sbin"), 0755);

	struct relayed rl = { 0 };
	struct guestctl_opts o = { .relay = relay, .userdata = &rl };
	struct guestctl_result r;

	fake_tool("/usr/sbin/qm", "echo \"qm says $1\"; exit 0");
	fake_tool("/usr/sbin/pct", "echo \"pct says $1\"; exit 0");
	fake_tool("/usr/sbin/ha-manager", "exit 0");

	is_int(guest_shutdown(GUEST_QEMU, 104, 180, false, &o, &r), 0, "qm shutdown ran");
	is_str(argv_seen(), "/usr/sbin/qm shutdown 104 --timeout 180 ", "qm shutdown by absolute path under the root");
	is_int(r.exit_code, 0, "exit code 0");
	is_str(rl.text, "qm says shutdown|", "output relayed");
	is_str(r.reason, "qm says shutdown", "last line kept");

	guest_shutdown(GUEST_QEMU, 104, 60, true, &o, &r);
	is_str(argv_seen(), "/usr/sbin/qm shutdown 104 --timeout 60 --forceStop 1 ", "--forceStop 1 when asked");
	guest_shutdown(GUEST_LXC, 201, 30, true, &o, &r);
	is_str(argv_seen(), "/usr/sbin/pct shutdown 201 --timeout 30 --forceStop 1 ", "pct shutdown for a container");
	guest_stop(GUEST_QEMU, 104, &o, &r);
	is_str(argv_seen(), "/usr/sbin/qm stop 104 ", "qm stop");
	guest_stop(GUEST_LXC, 201, &o, &r);
	is_str(argv_seen(), "/usr/sbin/pct stop 201 ", "pct stop");
	guest_start(GUEST_QEMU, 104, &o, &r);
	is_str(argv_seen(), "/usr/sbin/qm start 104 ", "qm start");
	guest_start(GUEST_LXC, 201, NULL, &r);
	is_str(argv_seen(), "/usr/sbin/pct start 201 ", "pct start, without options");
	is_int(guest_ha_set_state(GUEST_QEMU, 104, "started", &o, &r), 0, "ha-manager ran");
	is_str(argv_seen(), "/usr/sbin/ha-manager set vm:104 --state started ", "ha-manager set vm:<id>");
	guest_ha_set_state(GUEST_LXC, 201, "stopped", &o, &r);
	is_str(argv_seen(), "/usr/sbin/ha-manager set ct:201 --state stopped ", "ha-manager set ct:<id>");
	is_int(guest_ha_set_state(GUEST_LXC, 201, "bogus", &o, &r), -EINVAL, "unknown HA state refused");

	is_int(guest_shutdown(GUEST_QEMU, 99, 180, false, &o, &r), -EINVAL, "vmid 99 refused");
	is_int(guest_start(GUEST_QEMU, 1000000000, &o, &r), -EINVAL, "vmid 1000000000 refused");
	is_int(guest_shutdown(GUEST_QEMU, 104, 0, false, &o, &r), -EINVAL, "timeout 0 refused");
	is_str(argv_seen(), "", "nothing was run for invalid arguments");

	fake_tool("/usr/sbin/qm", "echo 'trying to acquire lock...'; echo 'VM quit/powerdown failed - got timeout' >&2; exit 255");
	is_int(guest_shutdown(GUEST_QEMU, 104, 5, false, &o, &r), 0, "a failing qm still ran");
	is_int(r.exit_code, 255, "exit code 255");
	is_str(r.reason, "VM quit/powerdown failed - got timeout", "Proxmox's reason is the last line (stderr too)");

	fake_tool("/usr/sbin/qm", "exit 2");
	guest_stop(GUEST_QEMU, 104, &o, &r);
	is_str(r.reason, "exit code 2", "no output: the exit code is the reason");

	fake_tool("/usr/sbin/qm", "exec sleep 30");
	o.timeout_ms = 200;
	guest_start(GUEST_QEMU, 104, &o, &r);
	ok(r.timed_out && r.exit_code == -1, "a hanging qm is killed after our bound");
	is_str(r.reason, "timed out after 1 s", "and says so");
	o.timeout_ms = 0;

	char *st = NULL;
	fake_tool("/usr/sbin/qm", "echo 'status: running'");
	is_int(guest_status(GUEST_QEMU, 104, &o, &st, &r), 0, "qm status");
	is_str(st, "running", "running");
	free(st);
	fake_tool("/usr/sbin/pct", "echo 'status: stopped'");
	guest_status(GUEST_LXC, 201, &o, &st, &r);
	is_str(argv_seen(), "/usr/sbin/pct status 201 ", "pct status");
	is_str(st, "stopped", "stopped");
	free(st);
	fake_tool("/usr/sbin/qm", "echo 'something else'");
	is_int(guest_status(GUEST_QEMU, 104, &o, &st, &r), -EBADMSG, "no status line: -EBADMSG");
	fake_tool("/usr/sbin/qm", "echo \"Configuration file 'nodes/pve/qemu-server/104.conf' does not exist\"; exit 2");
	is_int(guest_status(GUEST_QEMU, 104, &o, &st, &r), 0, "failing qm status ran");
	ok(st == NULL && r.exit_code == 2, "no status, exit code 2");
	is_str(r.reason, "Configuration file 'nodes/pve/qemu-server/104.conf' does not exist", "reason kept");
	ok(!strstr(rl.text, "status"), "status output is not relayed");

	char *s = guest_status_parse_line("status: prelaunch");
	is_str(s, "prelaunch", "status line parsed");
	free(s);
	ok(!guest_status_parse_line("status:running") && !guest_status_parse_line("status: a b") &&
	   !guest_status_parse_line("qmpstatus: running"), "other lines are not status lines");

	unlink(at("/usr/sbin/qm"));
	is_int(guest_start(GUEST_QEMU, 104, &o, &r), -ENOENT, "no qm under the root: -ENOENT");

	testdir_remove(root);
	return tap_done();
}

#include <string.h>

#include "lxcconf.h"
#include "tap.h"
#include "fixture.h"

int main(void)
{
	struct lxc_config c;
	struct problem_list pl = { 0 };
	char *text = fixture("lxc/jellyfin-dev.conf");

	is_int(lxc_config_parse(text, 110, "/etc/pve/lxc/110.conf", &c, &pl), 0, "devN config parses");
	free(text);
	is_str(c.hostname, "jellyfin", "hostname");
	ok(c.onboot && !c.template, "onboot, no template");
	is_int(c.n_nodes, 2, "two GPU nodes; tty, pending and snapshot ignored");
	if (c.n_nodes == 2) {
		is_str(c.nodes[0].path, "/dev/dri/card0", "dev0 bare path");
		is_str(c.nodes[0].source, "dev0", "source dev0");
		is_str(c.nodes[1].path, "/dev/dri/renderD128", "dev1 path=");
		is_int(c.nodes[1].line, 3, "line of dev1");
	}
	is_int(pl.n, 1, "the empty 'tags:' line is reported");
	if (pl.n)
		is_int(pl.items[0].line, 7, "on its line");
	lxc_config_release(&c);
	problem_list_release(&pl);

	text = fixture("lxc/raw-lxc.conf");
	is_int(lxc_config_parse(text, 200, "/etc/pve/lxc/200.conf", &c, &pl), 0, "raw lxc config parses");
	free(text);
	ok(c.template, "template");
	is_int(c.n_rules, 5, "rules for 195, 226, '*' and 'a'; 509 dropped");
	if (c.n_rules == 5) {
		ok(c.rules[0].type == 'a' && c.rules[0].major == -1, "cgroup v1 'a'");
		is_str(c.rules[0].source, "lxc.cgroup.devices.allow", "v1 key");
		ok(c.rules[1].type == 'c' && c.rules[1].major == 195 && c.rules[1].minor == -1, "c 195:*");
		ok(c.rules[2].major == 226 && c.rules[2].minor == 128, "c 226:128");
		ok(c.rules[3].major == 226 && c.rules[3].minor == 0, "'=' separator");
		ok(c.rules[4].major == -1 && c.rules[4].minor == -1, "c *:*");
	}
	is_int(c.n_nodes, 4, "dri dir, nvidia0, nvidiactl, staged nvidia1");
	if (c.n_nodes == 4) {
		is_str(c.nodes[0].path, "/dev/dri", "directory bind");
		is_str(c.nodes[1].path, "/dev/nvidia0", "' = ' separator");
		is_str(c.nodes[2].path, "/dev/nvidiactl", "'=' without spaces");
		is_str(c.nodes[3].path, "/lxc/102010/devices/nvidia1", "staged device path");
		is_str(c.nodes[0].source, "lxc.mount.entry", "source");
	}
	is_int(pl.n, 1, "bad rule reported");
	if (pl.n)
		is_str(pl.items[0].message, "lxc.cgroup2.devices.allow: invalid device rule 'x 1:2 rwm'", "message");
	lxc_config_release(&c);
	problem_list_release(&pl);

	is_int(lxc_config_parse("hostname: x\nlxc.mount.entry: /dev/dri/renderD129 dev/dri/renderD129 none bind", 300, "f", &c, &pl), 0, "no final newline");
	ok(c.n_nodes == 1 && strcmp(c.nodes[0].path, "/dev/dri/renderD129") == 0, "last line read");
	lxc_config_release(&c);
	ok(!lxc_gpu_path("/dev/fb0") && !lxc_gpu_path("/dev/dri2") && lxc_gpu_path("/dev/dri/by-path/pci-0000:00:02.0-render"), "gpu paths");
	problem_list_release(&pl);
	return tap_done();
}

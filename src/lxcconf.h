/* pve-container configs, /etc/pve/lxc/<ctid>.conf: which GPU device nodes a
 * container uses (devN, cgroup device rules, lxc.mount.entry binds). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "problems.h"

struct lxc_devrule {
	char type;        /* 'c', 'b' or 'a' */
	int major;        /* -1 = '*' */
	int minor;        /* -1 = '*' */
	char *source;     /* the key, e.g. "lxc.cgroup2.devices.allow" */
};

struct lxc_devnode {
	char *path;       /* host path, e.g. "/dev/dri/renderD128", "/dev/dri" (a directory bind) */
	char *source;     /* "dev0", "lxc.mount.entry" */
	unsigned line;    /* line in the config file */
};

struct lxc_config {
	unsigned vmid;
	char *hostname;
	bool template;
	bool onboot;
	char *lock;
	struct lxc_devnode *nodes;      /* GPU-related host device paths, config order */
	size_t n_nodes;
	struct lxc_devrule *rules;      /* devices.allow rules for majors 195 and 226 (and 'a') */
	size_t n_rules;
};

int lxc_config_parse(const char *text, unsigned vmid, const char *file, struct lxc_config *ret, struct problem_list *problems);
/* Same over a mutable buffer, which it cuts into lines (no copy). */
int lxc_config_parse_buf(char *buf, unsigned vmid, const char *file, struct lxc_config *ret, struct problem_list *problems);
int lxc_config_load(unsigned vmid, struct lxc_config *ret, struct problem_list *problems);
void lxc_config_release(struct lxc_config *c);
/* Is path a host device node (or directory) that gives a GPU: /dev/dri..., nvidia*, kfd. */
bool lxc_gpu_path(const char *path);

/* The vzdump phases: `<hook> <phase>` for the job, `<hook> <phase> <mode> <vmid>`
 * for each guest (PROXMOX.md §1). Only backup-start of a stopped VM that needs
 * PCI devices, and the job's end, ever act; every other call returns at once. */
#include <string.h>
#include <sys/stat.h>

#include "gpuprobe.h"
#include "hook.h"
#include "hooklog.h"
#include "rootfs.h"
#include "run.h"
#include "subprocess.h"

enum phase_kind { PHASE_JOB, PHASE_GUEST };

static const struct {
	const char *name;
	enum phase_kind kind;
} phases[] = {
	{ "job-init", PHASE_JOB },      { "job-start", PHASE_JOB },    { "job-end", PHASE_JOB },
	{ "job-abort", PHASE_JOB },     { "backup-start", PHASE_GUEST }, { "pre-stop", PHASE_GUEST },
	{ "pre-restart", PHASE_GUEST }, { "post-restart", PHASE_GUEST }, { "backup-end", PHASE_GUEST },
	{ "backup-abort", PHASE_GUEST }, { "log-end", PHASE_GUEST },
};

static bool mode_valid(const char *m)
{
	return streq(m, "stop") || streq(m, "snapshot") || streq(m, "suspend");
}

int phase_lookup(const char *name)
{
	for (size_t i = 0; i < ELEMENTSOF(phases); i++)
		if (streq(phases[i].name, name))
			return (int)i;
	return -1;
}

bool phase_call_shape(int argc, char **argv)
{
	unsigned vmid;
	if (argc == 1)
		return true;
	return argc == 3 && mode_valid(argv[1]) && vmid_parse(argv[2], &vmid) == 0;
}

/* Is anything parked? A stat, so that the no-op path reads nothing more. */
static bool anything_parked(void)
{
	char p[4096];
	struct stat st;
	if (root_path_buf(p, sizeof(p), STATE_FILE) < 0)
		return true;
	if (lstat(p, &st) < 0)
		return errno != ENOENT;
	return !S_ISREG(st.st_mode) || st.st_size > 0;
}

/* Does this guest's next start use a PCI device at all? Reads its config only. */
static bool needs_devices(struct node *node, unsigned vmid, bool *ret_known)
{
	*ret_known = node_load_guest(node, vmid, NODE_LOAD_VMS | NODE_LOAD_CTS | NODE_LOAD_RUNNING) >= 0;
	const struct guest *g = *ret_known ? node_find_guest(node, vmid) : NULL;
	if (!g || g->type != GUEST_QEMU || g->template || g->running)
		return false;
	for (size_t u = 0; u < g->n_uses; u++)
		if (g->uses[u].next_start)
			return true;
	return false;
}

/* A card in D3cold or without any reset method is what fails at 2 a.m.: one line each. */
static void warn_card_health(const struct plan *p)
{
	for (size_t i = 0; i < p->needed.n; i++) {
		struct gpu_quick_result q;
		if (gpu_quick_check(&p->needed.addrs[i], &q) == 0 && q.problem)
			log_warning("%s", q.text);
	}
}

static int backup_start(const char *mode, unsigned vmid)
{
	/* vzdump backs up a stopped guest in mode stop whatever the job's mode:
	 * any other mode is a running guest, which keeps its own devices. */
	bool needs = false;
	if (streq(mode, "stop")) {
		struct node quick = { 0 };
		bool known;
		needs = needs_devices(&quick, vmid, &known);
		node_release(&quick);
	}
	if (!needs && !anything_parked())
		return 0;

	hooklog_open("backup-start", vmid);
	struct hook_run r;
	hook_run_init(&r, "backup-start", vmid);
	int ret = 0;

	if (hook_run_load_config(&r) < 0) {
		if (needs) {
			log_error("not backing up VM %u: fix '%s' first", vmid, HOOKCONF_PATH);
			ret = 1;
		}
		goto out;
	}
	if (hook_run_load_node(&r) < 0 || hook_run_lock_state(&r) < 0) {
		ret = needs ? 1 : 0;
		goto out;
	}

	struct plan p = { 0 };
	struct plan_policy policy = { .protect = r.conf.protect, .n_protect = r.conf.n_protect };
	int e = plan_backup_start(&r.node, vmid, &policy, &p);
	if (e < 0 && e != -ENOENT) {
		log_error("cannot decide for VM %u: %s", vmid, strerror(-e));
		ret = needs ? 1 : 0;
		goto out;
	}
	for (size_t i = 0; i < p.n_notes; i++)
		log_info("%s", p.notes[i]);
	if (p.kind != PLAN_NOTHING) {
		char list[512] = "", a[PCI_ADDR_STRLEN];
		size_t off = 0;
		for (size_t i = 0; i < p.needed.n && off < sizeof(list) - PCI_ADDR_STRLEN - 2; i++)
			off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s", i ? " " : "",
						pci_addr_format(&p.needed.addrs[i], a));
		log_info("VM %u is stopped and its backup start needs %s, held by %zu running guest%s", vmid, list,
			 p.n_holders, p.n_holders == 1 ? "" : "s");
	}

	if (state_find(&r.parked, vmid))
		log_info("VM %u was parked by this hook: it is backed up stopped and started again afterwards", vmid);
	/* Parked guests whose devices this backup does not need go back now. */
	if (r.conf.restore == HOOK_RESTORE_EARLY && r.parked.n > 0)
		restore_parked_set(&r, RESTORE_THIS_BOOT, &p.needed);

	if (p.kind == PLAN_BLOCKED) {
		for (size_t i = 0; i < p.n_holders; i++) {
			char a[PCI_ADDR_STRLEN];
			if (p.holders[i].blocked)
				log_error("%s %u holds %s and may not be touched (%s); not backing up VM %u",
					  p.holders[i].type == GUEST_QEMU ? "VM" : "CT", p.holders[i].vmid,
					  pci_addr_format(&p.holders[i].addr, a), p.holders[i].blocked, vmid);
		}
		ret = 1;
	} else if (p.kind == PLAN_PARK) {
		if (park_holders(&r, &p) < 0) {
			/* This backup will not run: give back what was parked for it. */
			restore_parked_set(&r, RESTORE_THIS_BOOT, NULL);
			ret = 1;
		}
	}
	if (ret == 0 && p.kind != PLAN_NOTHING)
		warn_card_health(&p);
	plan_release(&p);
out:
	hook_run_release(&r);
	hooklog_close();
	return ret;
}

/* Does the configuration load without a problem? Says nothing. */
static bool config_valid(void)
{
	struct hook_config conf;
	struct problem_list problems = { 0 };
	hook_config_init(&conf);
	int e = hook_config_load("/proc/self/exe", &conf, &problems);
	problem_list_release(&problems);
	hook_config_release(&conf);
	return e == 0;
}

static int job_start(void)
{
	/* The common case, a valid (or no) configuration and nothing parked, opens no log. */
	if (!anything_parked() && config_valid())
		return 0;
	hooklog_open("job-start", 0);
	struct hook_run r;
	hook_run_init(&r, "job-start", 0);
	int ret = 0;

	/* An invalid configuration fails the job before any guest is touched. */
	if (hook_run_load_config(&r) < 0) {
		log_error("fix '%s' (see pve-gpu-backup-hook.conf(5)); no guest was touched", HOOKCONF_PATH);
		ret = 1;
		goto out;
	}
	if (!anything_parked())
		goto out;
	if (hook_run_lock_state(&r) < 0) {
		ret = 1;
		goto out;
	}
	if (r.parked.n > 0) {
		(void)hook_run_load_node(&r);
		if (restore_parked_set(&r, RESTORE_EARLIER_JOBS, NULL) > 0)
			log_warning("some guests parked by an earlier job could not be restored; see above");
	}
out:
	hook_run_release(&r);
	hooklog_close();
	return ret;
}

static int job_end(const char *phase)
{
	if (!anything_parked())
		return 0;
	hooklog_open(phase, 0);
	struct hook_run r;
	hook_run_init(&r, phase, 0);
	int ret = 0;
	(void)hook_run_load_config(&r);
	if (hook_run_lock_state(&r) < 0) {
		ret = 1;
		goto out;
	}
	if (r.parked.n > 0) {
		(void)hook_run_load_node(&r);
		int failed = restore_parked_set(&r, RESTORE_THIS_BOOT, NULL);
		if (failed > 0) {
			log_error("%d parked guest%s could not be restored: run 'pve-gpu-backup-hook recover' once the cause is fixed",
				  failed, failed == 1 ? "" : "s");
			ret = 1;
		}
	}
out:
	hook_run_release(&r);
	hooklog_close();
	return ret;
}

/* A chained hook gets our argv (its own path first) and our environment untouched. */
static int run_chain(int argc, char **argv, char **envp)
{
	struct hook_config conf;
	struct problem_list problems = { 0 };
	hook_config_init(&conf);
	int e = hook_config_load("/proc/self/exe", &conf, &problems);
	if (e < 0 && conf.chain) {
		/* The admin's own hook must not be skipped in silence: vzdump fails a missing script too. */
		for (size_t i = 0; i < problems.n; i++)
			printf("error: the chained hook '%s' was not run: %s:%u: %s\n", conf.chain,
			       problems.items[i].file ? problems.items[i].file : HOOKCONF_PATH, problems.items[i].line,
			       problems.items[i].message);
		if (problems.n == 0)
			printf("error: the chained hook '%s' was not run: cannot read '%s': %s\n", conf.chain, HOOKCONF_PATH,
			       strerror(-e));
		problem_list_release(&problems);
		hook_config_release(&conf);
		return 1;
	}
	problem_list_release(&problems);
	if (e < 0 || !conf.chain) {
		hook_config_release(&conf);
		return 0;
	}
	_cleanup_free_ char *path = root_path(conf.chain);
	char **cargv = calloc((size_t)argc + 1, sizeof(char *));
	if (!path || !cargv) {
		free(cargv);
		hook_config_release(&conf);
		return 1;
	}
	cargv[0] = conf.chain;
	for (int i = 1; i < argc; i++)
		cargv[i] = argv[i];
	fflush(stdout);
	struct spawn_result res;
	e = spawn_chain(path, cargv, envp, &res);
	int ret = 0;
	if (e < 0) {
		printf("error: cannot run the chained hook '%s': %s\n", conf.chain, strerror(-e));
		ret = 1;
	} else if (res.exit_code != 0) {
		char buf[128];
		printf("error: the chained hook '%s' failed: %s\n", conf.chain, spawn_result_describe(&res, 0, buf, sizeof(buf)));
		ret = res.exit_code > 0 ? res.exit_code : 1;
	}
	fflush(stdout);
	free(cargv);
	hook_config_release(&conf);
	return ret;
}

int cmd_phase(int argc, char **argv, char **envp)
{
	/* argv[0] is the phase. */
	const char *phase = argv[0];
	int idx = phase_lookup(phase);
	unsigned vmid = 0;
	int ret = 0;

	if (idx < 0) {
		/* A phase a future vzdump may add: never fail a backup over it. */
		hooklog_open(phase, 0);
		log_info("unknown phase '%s': nothing to do", phase);
		hooklog_close();
	} else if (phases[idx].kind == PHASE_GUEST) {
		if (argc != 3 || !mode_valid(argv[1]) || vmid_parse(argv[2], &vmid) < 0) {
			hook_error(0, "phase '%s' takes MODE VMID", phase);
			return hook_usage_error();
		}
		if (streq(phase, "backup-start"))
			ret = backup_start(argv[1], vmid);
	} else {
		if (argc != 1) {
			hook_error(0, "phase '%s' takes no arguments", phase);
			return hook_usage_error();
		}
		if (streq(phase, "job-start"))
			ret = job_start();
		else if (streq(phase, "job-end") || streq(phase, "job-abort"))
			ret = job_end(phase);
		/* job-init runs outside vzdump's lock, beside a job that may be mid-backup: nothing there. */
	}
	fflush(stdout);

	/* The original argv: our path first, as vzdump called us. */
	int cret = run_chain(argc + 1, argv - 1, envp);
	if (ret == 0 && cret != 0)
		ret = cret;
	return hook_finish_stdout(ret);
}

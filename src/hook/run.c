#include <string.h>

#include "hook.h"
#include "hooklog.h"
#include "run.h"

void hook_run_init(struct hook_run *r, const char *phase, unsigned vmid)
{
	*r = (struct hook_run){ .phase = phase, .vmid = vmid, .lock_fd = -1 };
	hook_config_init(&r->conf);
}

void hook_run_release(struct hook_run *r)
{
	hook_config_release(&r->conf);
	if (r->node_loaded)
		node_release(&r->node);
	parked_set_release(&r->parked);
	if (r->lock_fd >= 0)
		state_unlock(r->lock_fd);
	free(r->upid);
	free(r->boot_id);
	pci_addr_set_release(&r->cards_failed);
	*r = (struct hook_run){ .lock_fd = -1 };
}

static void report_problems(const struct problem_list *problems, enum hooklog_level level)
{
	for (size_t i = 0; i < problems->n; i++) {
		const struct problem *p = &problems->items[i];
		if (p->file && p->line)
			hooklog(level, "%s:%u: %s", p->file, p->line, p->message);
		else if (p->file)
			hooklog(level, "%s: %s", p->file, p->message);
		else
			hooklog(level, "%s", p->message);
	}
}

int hook_run_load_config(struct hook_run *r)
{
	struct problem_list problems = { 0 };
	int e = hook_config_load("/proc/self/exe", &r->conf, &problems);
	if (e < 0) {
		report_problems(&problems, HOOKLOG_ERROR);
		if (problems.n == 0)
			log_error("cannot read '%s': %s", HOOKCONF_PATH, strerror(-e));
	}
	problem_list_release(&problems);
	return e;
}

int hook_run_load_node(struct hook_run *r)
{
	if (r->node_loaded)
		return 0;
	int e = node_load(&r->node, NODE_LOAD_ALL);
	if (e < 0) {
		log_error("cannot read this node's guests: %s", strerror(-e));
		return e;
	}
	r->node_loaded = true;
	/* Lines we could not read matter only when they are about a guest we act on;
	 * they go to the log file, not to every task log. */
	return 0;
}

int hook_run_lock_state(struct hook_run *r)
{
	if (r->lock_fd >= 0)
		return 0;
	int fd = state_lock(STATE_LOCK_TIMEOUT_MS);
	if (fd < 0) {
		if (fd == -EWOULDBLOCK)
			log_error("another pve-gpu-backup-hook holds '%s' (waited %d s)", STATE_LOCK, STATE_LOCK_TIMEOUT_MS / 1000);
		else if (fd == -ELOOP)
			log_error("refusing '%s': a symbolic link is in the way", STATE_DIR);
		else
			log_error("cannot lock '%s': %s", STATE_LOCK, strerror(-fd));
		return fd;
	}
	r->lock_fd = fd;

	struct problem_list problems = { 0 };
	int e = state_load(&r->parked, &problems);
	if (e < 0) {
		report_problems(&problems, HOOKLOG_ERROR);
		if (e == -ELOOP)
			log_error("refusing '%s': it is a symbolic link; nothing was written through it", STATE_FILE);
		else if (e == -EBADMSG)
			log_error("'%s' cannot be read as it stands: the guests it lists may still be parked; "
				  "check them, then fix or remove the file", STATE_FILE);
		else
			log_error("cannot read '%s': %s: the guests it lists may still be parked", STATE_FILE, strerror(-e));
		problem_list_release(&problems);
		return e;
	}
	problem_list_release(&problems);
	r->parked_loaded = true;

	if (!r->upid)
		(void)state_read_job_upid(&r->upid);
	if (!r->boot_id)
		(void)state_read_boot_id(&r->boot_id);
	return 0;
}

int hook_run_save_state(struct hook_run *r)
{
	int e = state_save(&r->parked);
	if (e < 0)
		log_error("cannot write '%s': %s", STATE_FILE, strerror(-e));
	return e;
}

/* Parking holders and restoring them: the only place that stops or starts guests. */
#include <string.h>
#include <time.h>

#include "fileio.h"
#include "guestctl.h"
#include "rebind.h"
#include "rootfs.h"
#include "strutil.h"
#include "hooklog.h"
#include "run.h"

#define POLL_MS 100
/* After qm/pct said the guest is down, QEMU's exit and the release of its
 * reservations (qmeventd runs `qm cleanup`) can lag a little. */
#define RELEASE_WAIT_MS 30000
#define HA_EXTRA_MS 60000
#define START_WAIT_MS 60000

static const char *kind(enum guest_type t)
{
	return t == GUEST_QEMU ? "VM" : "CT";
}

static void relay(const char *line, void *userdata)
{
	const struct parked_guest *g = userdata;
	if (*line)
		log_info("  %s %u: %s", kind(g->type), g->vmid, line);
}

static bool running_now(enum guest_type type, unsigned vmid)
{
	return type == GUEST_QEMU ? vm_running(vmid, NULL) : ct_running(vmid);
}

/* Is any reservation of vmid still a claim (its QEMU alive, or a start window open)? */
static bool reservations_held(unsigned vmid)
{
	struct reservation *res = NULL;
	size_t n = 0;
	struct problem_list problems = { 0 };
	bool held = false;
	if (reservations_load(&res, &n, &problems) < 0) {
		problem_list_release(&problems);
		return false;
	}
	for (size_t i = 0; i < n && !held; i++) {
		if (res[i].vmid != vmid)
			continue;
		held = reservation_live(NULL, &res[i], (long long)time(NULL));
	}
	free(res);
	problem_list_release(&problems);
	return held;
}

/* Poll until the guest is gone and its devices are released, at most timeout_ms. */
static bool wait_gone(enum guest_type type, unsigned vmid, long long timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	for (;;) {
		if (!running_now(type, vmid) && (type != GUEST_QEMU || !reservations_held(vmid)))
			return true;
		if (now_ms() >= deadline)
			return false;
		sleep_ms(POLL_MS);
	}
}

static bool wait_running(enum guest_type type, unsigned vmid, long long timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	for (;;) {
		if (running_now(type, vmid))
			return true;
		if (now_ms() >= deadline)
			return false;
		sleep_ms(POLL_MS);
	}
}

/* Every PCI function a holder uses now: its reservations and its live config. */
static int holder_devices(const struct hook_run *r, const struct plan_holder *h, struct pci_addr_set *ret)
{
	for (size_t i = 0; i < r->node.n_reservations; i++)
		if (r->node.reservations[i].vmid == h->vmid) {
			int e = pci_addr_set_add(ret, &r->node.reservations[i].addr);
			if (e < 0)
				return e;
		}
	const struct guest *g = node_find_guest(&r->node, h->vmid);
	for (size_t u = 0; g && u < g->n_uses; u++) {
		const struct device_use *use = &g->uses[u];
		/* A mapping's alternative shows in the reservations; a single set is certain. */
		if (!use->live || use->n_alts != 1)
			continue;
		for (size_t i = 0; i < use->alts[0].n; i++) {
			_cleanup_free_ struct pci_addr *fns = NULL;
			int n = pci_addr_expand(&use->alts[0].addrs[i], &fns);
			for (int k = 0; k < n; k++) {
				int e = pci_addr_set_add(ret, &fns[k]);
				if (e < 0)
					return e;
			}
		}
	}
	if (ret->n == 0)
		return pci_addr_set_add(ret, &h->addr);
	return 0;
}

/* The driver every needed function is bound to now: what a container needs back. */
static int record_drivers(const struct plan *p, struct parked_guest *g)
{
	for (size_t i = 0; i < p->needed.n; i++) {
		char *drv = NULL;
		if (pci_driver_of(&p->needed.addrs[i], &drv) < 0 || !drv)
			continue;
		if (streq(drv, "vfio-pci") || streq(drv, "pcieport")) {
			free(drv);
			continue;
		}
		struct parked_driver *d = reallocarray(g->drivers, g->n_drivers + 1, sizeof(*d));
		if (!d) {
			free(drv);
			return -ENOMEM;
		}
		g->drivers = d;
		g->drivers[g->n_drivers++] = (struct parked_driver){ .addr = p->needed.addrs[i], .driver = drv };
	}
	return 0;
}

/* A VM still up after its shutdown timed out got the request all the same and
 * may power off later: its record stays, marked with the QEMU instance asked,
 * so that whoever restores next starts it if it did (and forgets it if not). */
static void keep_if_stopping(struct hook_run *r, const struct plan_holder *h)
{
	struct parked_guest *g = state_find(&r->parked, h->vmid);
	pid_t pid = 0;
	if (!g || h->type != GUEST_QEMU || !vm_running(h->vmid, &pid) || pid <= 0)
		return;
	g->state = PARK_STOPPING;
	g->pid = (unsigned)pid;
	if (hook_run_save_state(r) == 0)
		log_info("VM %u got the shutdown request and may still power off; if it does, it is started again "
			 "(at job-end, the next job or 'pve-gpu-backup-hook recover')", h->vmid);
}

static int park_one(struct hook_run *r, const struct plan *p, const struct plan_holder *h)
{
	char addr[PCI_ADDR_STRLEN];
	struct pci_addr_set devs = { 0 };
	struct parked_guest rec = {
		.vmid = h->vmid,
		.type = h->type,
		.state = PARK_PARKED,
		.for_vmid = p->vmid,
		.parked_at = (long long)time(NULL),
		.job = r->upid,
		.boot_id = r->boot_id,
	};
	int e = holder_devices(r, h, &devs);
	if (e == 0 && h->type == GUEST_LXC)
		e = record_drivers(p, &rec);
	if (e < 0) {
		log_error("cannot work out what %s %u holds: %s", kind(h->type), h->vmid, strerror(-e));
		goto out;
	}
	rec.devices = devs.addrs;
	rec.n_devices = devs.n;

	/* The record goes to disk before the guest is touched: a killed job loses nobody. */
	e = state_add(&r->parked, &rec);
	if (e == 0)
		e = hook_run_save_state(r);
	if (e < 0) {
		log_error("not parking %s %u: its record could not be written", kind(h->type), h->vmid);
		state_remove(&r->parked, h->vmid);
		goto out;
	}

	unsigned timeout = r->conf.shutdown_timeout;
	/* HA shuts a VM down with forceStop (pve-ha-manager Resources/PVEVM.pm): it powers off at the timeout. */
	bool ha_forces = h->ha_managed && h->type == GUEST_QEMU;
	log_info("parking %s %u%s%s%s, which holds %s: shutdown, timeout %u s%s%s", kind(h->type), h->vmid,
		 h->name ? " (" : "", h->name ? h->name : "", h->name ? ")" : "", pci_addr_format(&h->addr, addr),
		 timeout, r->conf.force_stop ? ", then power off" : ha_forces ? ", then power off (HA does)" : "",
		 h->ha_managed ? ", through HA" : "");

	struct guestctl_opts opts = { .relay = relay, .userdata = &rec };
	struct guestctl_result res;
	long long t0 = now_ms();
	e = guest_shutdown(h->type, h->vmid, timeout, r->conf.force_stop, &opts, &res);
	if (e < 0) {
		log_error("cannot run %s for %s %u: %s", h->type == GUEST_QEMU ? QM_PATH : PCT_PATH, kind(h->type),
			  h->vmid, strerror(-e));
		goto out;
	}
	/* HA only queues the request; a plain shutdown has returned by now. */
	long long bound = h->ha_managed ? (long long)timeout * 1000 + HA_EXTRA_MS : RELEASE_WAIT_MS;
	/* qm failing before the timeout refused the request (a paused VM): nothing is pending. */
	bool refused = res.exit_code != 0 && now_ms() - t0 < (long long)timeout * 1000;
	if (res.exit_code != 0 || !wait_gone(h->type, h->vmid, bound)) {
		if (r->conf.force_stop || refused)
			log_error("%s %u holds %s and could not be %s%s%s; not backing up VM %u%s", kind(h->type), h->vmid,
				  addr, r->conf.force_stop ? "stopped" : "shut down", res.reason[0] ? ": " : "", res.reason,
				  p->vmid, r->conf.force_stop ? "" : " (set force-stop: 1 to power it off)");
		else
			log_error("%s %u holds %s and did not shut down within %u s; not backing up VM %u%s", kind(h->type),
				  h->vmid, addr, timeout, p->vmid, ha_forces ? "" : " (set force-stop: 1 to power it off)");
		if (!refused)
			keep_if_stopping(r, h);
		e = -ETIMEDOUT;
		goto out;
	}
	log_info("%s %u is down after %.1f s; its devices are free", kind(h->type), h->vmid, (now_ms() - t0) / 1000.0);
	e = 0;
out:
	for (size_t i = 0; i < rec.n_drivers; i++)
		free(rec.drivers[i].driver);
	free(rec.drivers);
	pci_addr_set_release(&devs);
	return e;
}

int park_holders(struct hook_run *r, const struct plan *p)
{
	for (size_t i = 0; i < p->n_holders; i++)
		if (park_one(r, p, &p->holders[i]) < 0)
			return -1;
	return 0;
}

/* Is one of the record's devices claimed by a running VM other than itself? */
static unsigned device_holder_now(const struct parked_guest *g, struct pci_addr *ret_addr)
{
	struct reservation *res = NULL;
	size_t n = 0;
	struct problem_list problems = { 0 };
	unsigned holder = 0;
	if (reservations_load(&res, &n, &problems) < 0)
		goto out;
	for (size_t i = 0; i < n && !holder; i++) {
		if (res[i].vmid == g->vmid)
			continue;
		bool live = reservation_live(NULL, &res[i], (long long)time(NULL));
		for (size_t d = 0; live && d < g->n_devices; d++)
			if (pci_addr_overlaps(&g->devices[d], &res[i].addr)) {
				holder = res[i].vmid;
				*ret_addr = res[i].addr;
				break;
			}
	}
out:
	free(res);
	problem_list_release(&problems);
	return holder;
}

static int mark_failed(struct hook_run *r, struct parked_guest *g)
{
	if (g->state != PARK_RESTORE_FAILED) {
		g->state = PARK_RESTORE_FAILED;
		(void)hook_run_save_state(r);
	}
	return -1;
}

static int forget(struct hook_run *r, unsigned vmid)
{
	state_remove(&r->parked, vmid);
	return hook_run_save_state(r) < 0 ? -1 : 0;
}

/* A container's GPU device nodes (card, render node, /dev/nvidiaN): what the
 * host driver creates again once the card is back on it. */
static bool per_gpu_node(const char *path)
{
	static const char *const prefixes[] = { "/dev/dri/card", "/dev/dri/renderD", "/dev/dri/by-path/pci-", "/dev/nvidia" };
	for (size_t i = 0; i < ELEMENTSOF(prefixes); i++) {
		size_t l = strlen(prefixes[i]);
		if (strncmp(path, prefixes[i], l) == 0 && path[l] >= '0' && path[l] <= '9')
			return true;
	}
	return false;
}

/* Before a parked container starts: its card back on the host drivers it was
 * bound to, and its device nodes there again. Returns 0, or -1 (reported). */
static int give_card_back(struct hook_run *r, const struct parked_guest *g)
{
	if (g->n_drivers == 0)
		return 0;
	_cleanup_free_ struct rebind_target *targets = calloc(g->n_drivers, sizeof(*targets));
	struct rebind_holder *holders = NULL;
	size_t n_holders = 0;
	int ret = 0;
	if (!targets)
		return -1;
	for (size_t i = 0; i < g->n_drivers; i++) {
		char a[PCI_ADDR_STRLEN];
		/* Containers share a card: its failure is reported once, not again per container. */
		if (pci_addr_set_contains(&r->cards_failed, &g->drivers[i].addr)) {
			log_error("CT %u stays parked: its card %s could not be handed back to the host driver (see above)",
				  g->vmid, pci_addr_format(&g->drivers[i].addr, a));
			return -1;
		}
		targets[i] = (struct rebind_target){ .addr = g->drivers[i].addr, .driver = g->drivers[i].driver };
	}
	if (r->node_loaded && rebind_holders_from_node(&r->node, &holders, &n_holders) < 0) {
		log_error("CT %u: cannot work out who holds its card", g->vmid);
		return -1;
	}
	struct rebind_options opts = {
		.holders = holders, .n_holders = n_holders, .targets = targets, .n_targets = g->n_drivers, .lock = true,
	};
	for (size_t i = 0; i < g->n_drivers && ret == 0; i++) {
		struct rebind_report rep = { 0 };
		int e = rebind_pci_group(&g->drivers[i].addr, NULL, &opts, &rep);
		for (size_t d = 0; d < rep.n_devices; d++) {
			const struct rebind_device *dev = &rep.devices[d];
			_cleanup_free_ char *line = NULL;
			if (dev->state != REBIND_REBOUND && dev->state != REBIND_FAILED && dev->state != REBIND_HELD)
				continue;
			if (rebind_device_describe(dev, &line) < 0)
				continue;
			if (dev->state == REBIND_REBOUND)
				log_info("CT %u: %s", g->vmid, line);
			else if (dev->state == REBIND_HELD)
				log_warning("CT %u: %s", g->vmid, line);
			else
				log_error("CT %u: %s", g->vmid, line);
		}
		unsigned vm = 0;
		for (size_t d = 0; d < rep.n_devices && !vm; d++)
			if (rep.devices[d].state == REBIND_HELD)
				vm = rep.devices[d].held_by;
		rebind_report_release(&rep);
		if (e == -EBUSY) {
			if (vm)
				log_warning("CT %u stays parked: VM %u holds its card's IOMMU group now; start it with "
					    "'pct start %u' once that is free", g->vmid, vm, g->vmid);
			else
				log_warning("CT %u stays parked: a running VM holds its card now", g->vmid);
			ret = -1;
		} else if (e < 0) {
			log_error("CT %u stays parked: its card could not be handed back to the host driver (%s)", g->vmid,
				  strerror(-e));
			for (size_t k = 0; k < g->n_drivers; k++)
				(void)pci_addr_set_add(&r->cards_failed, &g->drivers[k].addr);
			ret = -1;
		}
	}
	free(holders);
	if (ret < 0)
		return ret;

	/* The container's start needs its device nodes: the driver makes them on probe. */
	const struct guest *ng = r->node_loaded ? node_find_guest(&r->node, g->vmid) : NULL;
	const char *nodes[64];
	size_t n = 0;
	bool dri_dir = false;
	for (size_t i = 0; ng && i < ng->n_device_nodes && n < ELEMENTSOF(nodes); i++) {
		if (per_gpu_node(ng->device_nodes[i]))
			nodes[n++] = ng->device_nodes[i];
		else if (streq(ng->device_nodes[i], "/dev/dri") || streq(ng->device_nodes[i], "/dev/dri/by-path"))
			dri_dir = true;
	}
	/* A bind of the whole /dev/dri directory needs the card's own nodes in it. */
	char **drm = NULL;
	size_t n_drm = 0;
	for (size_t i = 0; dri_dir && i < g->n_drivers; i++) {
		char **v = NULL;
		size_t k = 0;
		if (rebind_drm_nodes(&g->drivers[i].addr, &v, &k) < 0)
			continue;
		for (size_t j = 0; j < k; j++)
			(void)strv_push(&drm, &n_drm, v[j]);
		strv_free(v, k);
	}
	for (size_t j = 0; j < n_drm && n < ELEMENTSOF(nodes); j++)
		nodes[n++] = drm[j];
	size_t missing = 0;
	int e = n > 0 ? rebind_wait_nodes(nodes, n, 10000, &missing) : 0;
	if (e < 0)
		log_error("CT %u stays parked: %s did not come back after the rebind", g->vmid, nodes[missing]);
	strv_free(drm, n_drm);
	return e < 0 ? -1 : 0;
}

/* A record of a VM whose shutdown timed out, and that same instance still runs. */
static bool still_stopping(const struct parked_guest *g)
{
	pid_t pid = 0;
	return g->state == PARK_STOPPING && g->type == GUEST_QEMU && vm_running(g->vmid, &pid) &&
	       (unsigned)pid == g->pid;
}

int restore_parked(struct hook_run *r, unsigned vmid)
{
	struct parked_guest *g = state_find(&r->parked, vmid);
	if (!g)
		return 0;
	const char *k = kind(g->type);

	if (g->state == PARK_STOPPING) {
		if (still_stopping(g)) {
			/* The instance asked to shut down still runs: nothing to start yet. */
			if (!streq(r->phase, "backup-start"))
				log_info("VM %u has not powered off since the shutdown request; left running, on record", vmid);
			return 0;
		}
		if (!running_now(g->type, vmid))
			log_info("VM %u powered off after the shutdown request for the backup of VM %u", vmid, g->for_vmid);
	}
	if (running_now(g->type, vmid)) {
		log_info("%s %u is running again: nothing to restore", k, vmid);
		return forget(r, vmid);
	}

	struct pci_addr held;
	unsigned holder = device_holder_now(g, &held);
	if (holder) {
		char a[PCI_ADDR_STRLEN];
		log_warning("%s %u stays parked: %s is held by VM %u now; start it with '%s start %u' once that is free", k,
			    vmid, pci_addr_format(&held, a), holder, g->type == GUEST_QEMU ? "qm" : "pct", vmid);
		return mark_failed(r, g);
	}

	if (g->type == GUEST_LXC && give_card_back(r, g) < 0)
		return mark_failed(r, g);

	log_info("restoring %s %u (parked for the backup of VM %u)", k, vmid, g->for_vmid);
	struct guestctl_opts opts = { .relay = relay, .userdata = g };
	struct guestctl_result res;
	int e = guest_start(g->type, vmid, &opts, &res);
	if (e < 0) {
		log_error("cannot start %s %u: %s", k, vmid, strerror(-e));
		return mark_failed(r, g);
	}
	if (res.exit_code != 0) {
		log_error("%s %u could not be started: %s", k, vmid, res.reason[0] ? res.reason : "start failed");
		return mark_failed(r, g);
	}
	const struct guest *ng = r->node_loaded ? node_find_guest(&r->node, vmid) : NULL;
	long long bound = ng && ng->ha_managed ? HA_EXTRA_MS + START_WAIT_MS : START_WAIT_MS;
	if (!wait_running(g->type, vmid, bound)) {
		log_error("%s %u was asked to start but is not running after %lld s", k, vmid, bound / 1000);
		return mark_failed(r, g);
	}
	log_info("%s %u is running again", k, vmid);
	return forget(r, vmid);
}

int restore_parked_set(struct hook_run *r, enum restore_scope scope, const struct pci_addr_set *keep)
{
	int failed = 0;
	/* Work on a snapshot of the vmids: restoring edits the set. */
	size_t n = r->parked.n;
	_cleanup_free_ unsigned *vmids = calloc(n ? n : 1, sizeof(unsigned));
	if (!vmids)
		return (int)n;
	for (size_t i = 0; i < n; i++)
		vmids[i] = r->parked.guests[i].vmid;

	for (size_t i = 0; i < n; i++) {
		struct parked_guest *g = state_find(&r->parked, vmids[i]);
		if (!g || g->vmid == r->vmid)
			continue;
		bool this_boot = g->boot_id && r->boot_id && streq(g->boot_id, r->boot_id);
		if (!this_boot && scope != RESTORE_ALL_BOOTS) {
			/* Said at job-start and job-end; not again at every guest's backup-start. */
			if (streq(r->phase, "backup-start"))
				continue;
			char when[32] = "an unknown time";
			time_t t = (time_t)g->parked_at;
			struct tm tm;
			if (localtime_r(&t, &tm))
				strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm);
			log_warning("%s %u was parked at %s before this boot: left as it is; "
				    "'pve-gpu-backup-hook recover --previous-boot' starts it if it is still down",
				    kind(g->type), g->vmid, when);
			continue;
		}
		if (scope == RESTORE_EARLIER_JOBS && g->job && r->upid && streq(g->job, r->upid))
			continue;
		/* A restore that failed is tried again at job-end and by recover, not at
		 * every backup-start (each try may wait minutes for a start). */
		if (streq(r->phase, "backup-start") && g->state == PARK_RESTORE_FAILED)
			continue;
		/* vzdump runs job-abort right after a failed job-end: a restore that
		 * just failed is not tried (and waited for) a second time. */
		if (streq(r->phase, "job-abort") && g->state == PARK_RESTORE_FAILED) {
			log_error("%s %u is still parked (its restore failed above): run 'pve-gpu-backup-hook recover' "
				  "once the cause is fixed", kind(g->type), g->vmid);
			failed++;
			continue;
		}
		/* Still up after our shutdown request: restore_parked says so; the plan parks it again if it is in the way. */
		if (still_stopping(g)) {
			if (restore_parked(r, g->vmid) < 0)
				failed++;
			continue;
		}
		if (keep && plan_addrs_overlap(keep, g->devices, g->n_devices)) {
			log_info("%s %u stays parked: VM %u needs its device", kind(g->type), g->vmid, r->vmid);
			continue;
		}
		if (scope == RESTORE_EARLIER_JOBS)
			log_info("%s %u was left parked by an earlier job (%s)", kind(g->type), g->vmid, g->job ? g->job : "unknown");
		if (restore_parked(r, g->vmid) < 0)
			failed++;
	}
	return failed;
}

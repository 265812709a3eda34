/* `recover`: start again what a killed or failed job left parked. */
#include <getopt.h>
#include <string.h>

#include "hook.h"
#include "hooklog.h"
#include "run.h"

static int usage(void)
{
	printf("Usage: %s recover [--previous-boot]\n\n"
	       "Start again the guests the hook parked and did not restore (a killed or failed\n"
	       "vzdump job). Guests parked before the last reboot are only listed, unless\n"
	       "--previous-boot is given.\n\n"
	       "Options:\n"
	       "  -p, --previous-boot  also restore guests parked before this boot\n"
	       "  -h, --help           show this help and exit\n", HOOK_PROG);
	return hook_finish_stdout(HOOK_EXIT_OK);
}

int cmd_recover(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "previous-boot", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool previous_boot = false;
	int c;
	while ((c = getopt_long(argc, argv, "ph", opts, NULL)) >= 0) {
		switch (c) {
		case 'p':
			previous_boot = true;
			break;
		case 'h':
			return usage();
		default:
			return hook_usage_error();
		}
	}
	if (optind != argc) {
		hook_error(0, "recover takes no arguments");
		return hook_usage_error();
	}

	hooklog_open("recover", 0);
	struct hook_run r;
	hook_run_init(&r, "recover", 0);
	int ret = HOOK_EXIT_OK;
	(void)hook_run_load_config(&r);
	if (hook_run_lock_state(&r) < 0) {
		ret = HOOK_EXIT_FAILURE;
		goto out;
	}
	if (r.parked.n == 0) {
		log_info("no guest is parked");
		goto out;
	}
	/* A running job may need a parked guest's device right now, and restores what it parked itself. */
	if (state_vzdump_running() > 0) {
		log_error("a vzdump job is running (%s); it restores what it parked itself: run '%s recover' once it has ended",
			  r.upid ? r.upid : "UPID unknown", HOOK_PROG);
		ret = HOOK_EXIT_FAILURE;
		goto out;
	}
	(void)hook_run_load_node(&r);
	int failed = restore_parked_set(&r, previous_boot ? RESTORE_ALL_BOOTS : RESTORE_THIS_BOOT, NULL);
	if (failed > 0) {
		log_error("%d guest%s could not be restored", failed, failed == 1 ? "" : "s");
		ret = HOOK_EXIT_FAILURE;
	}
out:
	hook_run_release(&r);
	hooklog_close();
	return hook_finish_stdout(ret);
}

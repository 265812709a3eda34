/* pve-gpu-backup-hook: a thin dispatcher over the commands. vzdump calls it
 * as `<hook> <phase> [<mode> <vmid>]`; an admin calls `status`, `--help`... */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hook.h"
#include "macro.h"

/* Add a command here: its name as typed, its function, a line for --help. */
static const struct hook_command commands[] = {
	{ "status", cmd_status, "show which guest uses which PCI device, who holds it, and the conflicts" },
	{ "plan", cmd_plan, "show what backup-start would do for a guest, changing nothing" },
	{ "recover", cmd_recover, "start again the guests a killed or failed job left parked" },
	{ "rebind", cmd_rebind, "hand a card back from vfio-pci to its host driver" },
};

void hook_error(int err, const char *fmt, ...)
{
	va_list ap;
	fflush(stdout);
	fputs(HOOK_PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (err)
		fprintf(stderr, ": %s", strerror(err < 0 ? -err : err));
	fputc('\n', stderr);
}

int hook_usage_error(void)
{
	fprintf(stderr, "Try '%s --help' for more information.\n", HOOK_PROG);
	return HOOK_EXIT_USAGE;
}

int hook_finish_stdout(int exit_code)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		hook_error(errno ? errno : EIO, "cannot write to standard output");
		return HOOK_EXIT_FAILURE;
	}
	return exit_code;
}

static bool phase_looks_like(const char *word)
{
	static const char *const prefixes[] = { "job-", "backup-", "pre-", "post-", "log-" };
	for (size_t i = 0; i < ELEMENTSOF(prefixes); i++)
		if (strncmp(word, prefixes[i], strlen(prefixes[i])) == 0)
			return true;
	return false;
}

static int usage(void)
{
	printf("Usage: %s COMMAND [OPTION]...\n"
	       "       %s PHASE [MODE VMID]   (called by vzdump as its hook script)\n\n"
	       "Parks the guests holding a GPU while a stopped VM that needs it is backed up,\n"
	       "and restores them afterwards.\n\nCommands:\n", HOOK_PROG, HOOK_PROG);
	for (size_t i = 0; i < ELEMENTSOF(commands); i++)
		if (commands[i].summary)
			printf("  %-10s %s\n", commands[i].name, commands[i].summary);
	printf("\nOptions:\n"
	       "  -h, --help     show this help and exit\n"
	       "  -V, --version  show the version and exit\n\n"
	       "Run '%s COMMAND --help' for a command's options.\n", HOOK_PROG);
	return hook_finish_stdout(HOOK_EXIT_OK);
}

int main(int argc, char **argv, char **envp)
{
	if (argc < 2) {
		hook_error(0, "missing command");
		return hook_usage_error();
	}
	const char *cmd = argv[1];
	if (streq(cmd, "-h") || streq(cmd, "--help"))
		return usage();
	if (streq(cmd, "-V") || streq(cmd, "--version")) {
		printf("%s %s\n", HOOK_PROG, PACKAGE_VERSION);
		return hook_finish_stdout(HOOK_EXIT_OK);
	}
	for (size_t i = 0; i < ELEMENTSOF(commands); i++)
		if (streq(commands[i].name, cmd))
			return commands[i].run(argc - 1, argv + 1);
	/* vzdump: `<hook> <phase>` or `<hook> <phase> <mode> <vmid>`. A word we do not
	 * know in that shape is a phase of a newer vzdump: it must not fail a backup.
	 * Alone, a word must look like a phase; with a mode and a vmid, any word does. */
	bool guest_shape = argc == 4 && phase_call_shape(argc - 1, argv + 1);
	if (phase_lookup(cmd) >= 0 ||
	    (cmd[0] != '-' && (guest_shape || (phase_looks_like(cmd) && phase_call_shape(argc - 1, argv + 1)))))
		return cmd_phase(argc - 1, argv + 1, envp);
	if (cmd[0] == '-')
		hook_error(0, "unrecognized option '%s'", cmd);
	else
		hook_error(0, "unknown command '%s'", cmd);
	return hook_usage_error();
}

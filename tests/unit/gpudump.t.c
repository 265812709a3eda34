/* Config-space facts read through libpci's dump method from real lspci dumps
 * ($SHARED_DIR/fixtures/lspci), checked against the lspci -vvv text in the same file. */
#include <fcntl.h>
#include <pci/pci.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gpuprobe.h"
#include "macro.h"
#include "tap.h"

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return NULL;
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	char chunk[4096];
	size_t n;
	while (m && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		fwrite(chunk, 1, n, m);
	fclose(f);
	if (m)
		fclose(m);
	return buf;
}

/* The lspci -vvv block of device bb:dd.f (up to the next device line), or NULL. */
static char *text_block(const char *text, const char *bdf)
{
	size_t l = strlen(bdf);
	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (strncmp(p, bdf, l) != 0 || p[l] != ' ')
			continue;
		const char *end = p + 1;
		for (;;) {
			end = strchr(end, '\n');
			if (!end || (end[1] && end[1] != '\t' && end[1] != ' ' && end[1] != '\n' && strchr(end + 1, ':') &&
				     end[3] == ':' && end[6] == '.'))
				break;
			end++;
		}
		return end ? strndup(p, (size_t) (end - p)) : strdup(p);
	}
	return NULL;
}

/* "+" / "-" after word in block: 1, 0, or -1 when absent. */
static int flag(const char *block, const char *word)
{
	const char *p = strstr(block, word);
	if (!p)
		return -1;
	p += strlen(word);
	return *p == '+' ? 1 : *p == '-' ? 0 : -1;
}

static unsigned speed_code(const char *s)
{
	static const char *const speeds[] = { "2.5GT/s", "5GT/s", "8GT/s", "16GT/s", "32GT/s", "64GT/s" };
	for (unsigned i = 0; i < ELEMENTSOF(speeds); i++)
		if (strncmp(s, speeds[i], strlen(speeds[i])) == 0)
			return i + 1;
	return 0;
}

/* From "LnkCap:\t... Speed 8GT/s, Width x4" read the speed code and width. */
static bool link_of(const char *block, const char *label, unsigned *speed, unsigned *width)
{
	const char *p = strstr(block, label);
	if (!p)
		return false;
	const char *s = strstr(p, "Speed "), *w = strstr(p, "Width x"), *eol = strchr(p, '\n');
	if (!s || !w || (eol && (s > eol || w > eol)))
		return false;
	*speed = speed_code(s + 6);
	*width = (unsigned) strtoul(w + 7, NULL, 10);
	return true;
}

/* `lspci -F path -vvv` for dumps that carry hex only: lspci decodes the capabilities itself. */
static char *lspci_text(const char *path)
{
	int fds[2];
	if (pipe(fds) < 0)
		return NULL;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		close(fds[1]);
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (null >= 0)
			dup2(null, STDERR_FILENO);
		execlp("lspci", "lspci", "-F", path, "-vvv", (char *) NULL);
		_exit(127);
	}
	close(fds[1]);
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	char chunk[4096];
	ssize_t n;
	while (m && (n = read(fds[0], chunk, sizeof(chunk))) > 0)
		fwrite(chunk, 1, (size_t) n, m);
	close(fds[0]);
	if (m)
		fclose(m);
	int status;
	if (pid > 0)
		waitpid(pid, &status, 0);
	if (pid < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static void check_file(const char *dir, const char *name)
{
	_cleanup_free_ char *path = NULL;
	if (asprintf(&path, "%s/%s", dir, name) < 0)
		return;
	_cleanup_free_ char *text = slurp(path);
	if (text && !strstr(text, "\tControl:"))
		free(TAKE_PTR(text)), text = lspci_text(path);
	struct pci_access *pacc = NULL;
	_cleanup_free_ char *err = NULL;
	ok(text && gpu_pci_open(path, &pacc, &err) == 0, "%s: libpci opens the dump%s%s", name, err ? ": " : "", err ? err : "");
	if (!pacc || !text)
		return;
	unsigned checked = 0;
	for (struct pci_dev *d = pacc->devices; d; d = d->next) {
		struct pci_addr a = { .domain = (uint32_t) d->domain, .bus = d->bus, .slot = d->dev, .func = d->func, .has_func = true };
		struct config_facts c;
		char bdf[16];
		snprintf(bdf, sizeof(bdf), "%02x:%02x.%d", d->bus, d->dev, d->func);
		if (config_facts_read(pacc, &a, &c) < 0 || !c.readable) {
			ok(0, "%s %s: config readable", name, bdf);
			continue;
		}
		_cleanup_free_ char *block = text_block(text, bdf);
		if (!block)
			continue;
		int flr = flag(block, "FLReset"), nosoft = flag(block, "NoSoftRst");
		if (flr >= 0) {
			is_int(c.flr, flr, "%s %s: FLR %s as lspci says", name, bdf, flr ? "+" : "-");
			checked++;
		}
		if (nosoft >= 0) {
			is_int(c.pm_no_soft_reset, nosoft, "%s %s: NoSoftRst%s as lspci says", name, bdf, nosoft ? "+" : "-");
			checked++;
		}
		if (strstr(block, "AFCap:")) {
			ok(c.has_af && c.af_tp == (flag(block, "AFCap: TP") == 1) && c.af_flr == (flag(block, " FLR") == 1),
			   "%s %s: Advanced Features TP/FLR as lspci says", name, bdf);
			checked++;
		}
		unsigned sp, w;
		if (c.is_pcie && link_of(block, "LnkCap:", &sp, &w)) {
			ok(c.link_speed_cap == sp && c.link_width_cap == w, "%s %s: LnkCap speed %u width x%u (got %u x%u)",
			   name, bdf, sp, w, c.link_speed_cap, c.link_width_cap);
			checked++;
		}
		if (c.is_pcie && link_of(block, "LnkSta:", &sp, &w)) {
			ok(c.link_speed_sta == sp && c.link_width_sta == w, "%s %s: LnkSta speed %u width x%u", name, bdf, sp, w);
			checked++;
		}
	}
	ok(checked > 0, "%s: %u facts compared with the lspci text", name, checked);
	gpu_pci_close(pacc);
}

/* The RTX 3080 file holds two states of the same functions: feed one at a time. */
static void check_rtx3080(const char *dir)
{
	char tmpdir[] = "/tmp/gpudump.XXXXXX";
	_cleanup_free_ char *path = NULL;
	if (asprintf(&path, "%s/nvidia-ga102-rtx3080lhr-normal-and-offbus.lspci-xx", dir) < 0)
		return;
	_cleanup_free_ char *text = slurp(path);
	ok(text && mkdtemp(tmpdir), "RTX 3080 dump read");
	if (!text)
		return;
	char *state2 = strstr(text, "# --- state 2");
	char *state1 = strstr(text, "# --- state 1");
	ok(state1 && state2, "RTX 3080 dump has both states");
	if (!state1 || !state2)
		return;
	*state2 = '\0';
	const char *states[] = { state1, state2 + 1 };
	for (int s = 0; s < 2; s++) {
		char file[4200];
		snprintf(file, sizeof(file), "%s/state%d", tmpdir, s + 1);
		FILE *out = fopen(file, "we");
		for (const char *p = strchr(states[s], '\n'); out && p; ) {   /* skip the "# ---" line */
			p++;
			const char *e = strchr(p, '\n');
			if (*p != '#')
				fwrite(p, 1, e ? (size_t) (e - p + 1) : strlen(p), out);
			p = e;
		}
		if (out)
			fclose(out);
		struct pci_access *pacc = NULL;
		struct config_facts c = { 0 };
		struct pci_addr gpu = { .bus = 1, .has_func = true };
		ok(gpu_pci_open(file, &pacc, NULL) == 0 && config_facts_read(pacc, &gpu, &c) == 0, "RTX 3080 state %d: 01:00.0 read", s + 1);
		if (s == 0) {
			ok(c.readable && !c.all_ff && c.vendor == 0x10de && c.device == 0x2216, "working card: 10de:2216, not all ff");
			ok(!c.caps_readable, "a 64-byte dump shows no capabilities (as without root)");
		} else {
			ok(c.readable && c.all_ff, "card off the bus: config reads all ff");
			struct gpu_function f = { .addr = gpu, .cfg = c };
			struct check_result r;
			check_alive(&f, &r);
			is_int(r.verdict, VERDICT_FAIL, "alive check fails for the off-bus state");
		}
		gpu_pci_close(pacc);
		unlink(file);
	}
	rmdir(tmpdir);
}

int main(void)
{
	const char *shared = getenv("SHARED_DIR");
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s/fixtures/lspci", shared ? shared : "../shared");
	/* libpci's default error handler exits the process: ours returns an error instead. */
	struct pci_access *pacc = NULL;
	_cleanup_free_ char *err = NULL;
	is_int(gpu_pci_open("/nonexistent/dump", &pacc, &err), -EIO, "a missing dump file is an error, not an exit");
	ok(err && strstr(err, "/nonexistent/dump"), "libpci's message is kept: %s", err ? err : "(none)");
	if (access(dir, R_OK) != 0) {
		printf("ok %d # SKIP no real-hardware dumps in %s\n", ++tap_n, dir);
		return tap_done();
	}
	static const char *const files[] = {
		"intel-pci-af-flr.lspci", "nvidia-gp108m-mx150-and-bridges.lspci", "intel-skylake-igpu.lspci",
		"tree-asus-p6t6-nvidia-gt218-with-audio.lspci", "amd-fiji-r9-fury-rebar.lspci-xxxx",
	};
	for (size_t i = 0; i < ELEMENTSOF(files); i++)
		check_file(dir, files[i]);
	check_rtx3080(dir);
	return tap_done();
}

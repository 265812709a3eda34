#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "fileio.h"
#include "rootfs.h"
#include "state.h"
#include "tap.h"
#include "testdir.h"

static char root[PATH_MAX - 256];

static char *at(const char *rel)
{
	static char p[4][PATH_MAX];
	static int i;
	i = (i + 1) % 4;
	snprintf(p[i], sizeof(p[i]), "%s%s", root, rel);
	return p[i];
}

static char *slurp(const char *path)
{
	char *s = NULL;
	size_t n = 0;
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	if (getdelim(&s, &n, '\0', f) < 0) {
		free(s);
		s = strdup("");
	}
	fclose(f);
	return s;
}

static void spew(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static struct parked_guest sample(unsigned vmid, enum guest_type type)
{
	static struct pci_addr devs[2];
	static struct parked_driver drv;
	pci_addr_parse("0000:05:00.0", false, &devs[0]);
	pci_addr_parse("0000:05:00.1", false, &devs[1]);
	drv.addr = devs[0];
	drv.driver = (char *)"i915";
	return (struct parked_guest){
		.vmid = vmid, .type = type, .state = PARK_PARKED, .for_vmid = 102,
		.devices = devs, .n_devices = 2, .parked_at = 1764000000,
		.job = (char *)"UPID:pve1:00001234:00005678:6745A1B2:vzdump::root@pam:",
		.boot_id = (char *)"0f3c2d9e-1111-2222-3333-444455556666",
		.drivers = type == GUEST_LXC ? &drv : NULL, .n_drivers = type == GUEST_LXC ? 1 : 0,
	};
}

static void test_records(void)
{
	struct parked_guest g = sample(104, GUEST_QEMU), back;
	char *line = NULL, *why = NULL;

	is_int(parked_guest_format(&g, &line), 0, "format a VM record");
	is_str(line, "vmid=104 type=qemu state=parked for=102 devices=0000:05:00.0,0000:05:00.1 parked-at=1764000000 "
		     "job=UPID:pve1:00001234:00005678:6745A1B2:vzdump::root@pam: boot=0f3c2d9e-1111-2222-3333-444455556666",
	       "one readable line");
	is_int(parked_guest_parse(line, &back, &why), 0, "and back");
	ok(back.vmid == 104 && back.type == GUEST_QEMU && back.for_vmid == 102 && back.n_devices == 2 &&
	   back.parked_at == 1764000000 && streq(back.job, g.job) && streq(back.boot_id, g.boot_id),
	   "every field survives");
	parked_guest_release(&back);
	free(line);

	g = sample(201, GUEST_LXC);
	g.state = PARK_RESTORE_FAILED;
	parked_guest_format(&g, &line);
	ok(strstr(line, " type=lxc state=restore-failed ") && strstr(line, " driver=0000:05:00.0=i915"),
	   "container record with its host driver (%s)", line);
	is_int(parked_guest_parse(line, &back, &why), 0, "container record parses");
	ok(back.n_drivers == 1 && streq(back.drivers[0].driver, "i915") && back.state == PARK_RESTORE_FAILED,
	   "driver and state back");
	parked_guest_release(&back);
	free(line);

	struct { const char *line, *why; } bad[] = {
		{ "vmid=104 type=qemu state=parked", "vmid, type, state or parked-at missing" },
		{ "vmid=99 type=qemu state=parked parked-at=1", "bad value in 'vmid'" },
		{ "vmid=104 type=kvm state=parked parked-at=1", "bad value in 'type'" },
		{ "vmid=104 type=qemu state=gone parked-at=1", "bad value in 'state'" },
		{ "vmid=104 type=qemu state=parked parked-at=-1", "bad value in 'parked-at'" },
		{ "vmid=104 type=qemu state=parked parked-at=1 devices=05:00.0,zz", "bad value in 'devices'" },
		{ "vmid=104 type=qemu state=parked parked-at=1 driver=05:00.0", "bad value in 'driver'" },
		{ "vmid=104 vmid=105 type=qemu state=parked parked-at=1", "field given twice in 'vmid'" },
		{ "vmid=104 type=qemu state=parked parked-at=1 colour=red", "unknown field in 'colour'" },
		{ "vmid=104 type=qemu state=parked parked-at=1 junk", "not key=value in 'junk'" },
	};
	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		why = NULL;
		is_int(parked_guest_parse(bad[i].line, &back, &why), -EINVAL, "bad record refused: %s", bad[i].why);
		is_str(why, bad[i].why, "reason given");
		free(why);
	}

	struct parked_set s = { 0 };
	g = sample(104, GUEST_QEMU);
	is_int(state_add(&s, &g), 0, "add 104");
	g = sample(105, GUEST_QEMU);
	state_add(&s, &g);
	g.for_vmid = 103;
	is_int(state_add(&s, &g), 0, "adding 105 again replaces its record");
	ok(s.n == 2 && state_find(&s, 105)->for_vmid == 103, "two records, 105 updated");
	is_int(state_remove(&s, 104), 0, "remove 104");
	is_int(state_remove(&s, 104), -ENOENT, "removing it twice is -ENOENT");
	ok(s.n == 1 && s.guests[0].vmid == 105, "105 left");
	g.job = (char *)"has space";
	is_int(state_add(&s, &g), -EINVAL, "a job id with a space would break the line: refused");
	g = sample(42, GUEST_QEMU);
	is_int(state_add(&s, &g), -EINVAL, "an invalid vmid is refused");
	parked_set_release(&s);
}

static void test_files(void)
{
	struct parked_set s = { 0 }, got;
	struct problem_list p = { 0 };
	struct stat st;

	is_int(state_load(&got, &p), 0, "no directory yet: empty set");
	is_int(got.n, 0, "nothing parked");
	ok(!root_exists(STATE_DIR), "loading creates nothing");

	int lock = state_lock(1000);
	ok(lock >= 0, "lock taken, directory created");
	ok(stat(at(STATE_DIR), &st) == 0 && (st.st_mode & 07777) == 0700, "directory is 0700");

	struct parked_guest g = sample(104, GUEST_QEMU);
	state_add(&s, &g);
	g = sample(201, GUEST_LXC);
	state_add(&s, &g);
	is_int(state_save(&s), 0, "saved");
	ok(stat(at(STATE_FILE), &st) == 0 && (st.st_mode & 07777) == 0600, "file is 0600");
	char *text = slurp(at(STATE_FILE));
	ok(text && strncmp(text, "# guests parked", 15) == 0 && strstr(text, "\nvmid=104 type=qemu") &&
	   strstr(text, "\nvmid=201 type=lxc"), "plain text, a comment and one line per guest");
	free(text);
	is_int(state_load(&got, &p), 0, "loaded back");
	ok(got.n == 2 && got.guests[0].vmid == 104 && got.guests[1].n_drivers == 1, "same records in the same order");
	parked_set_release(&got);
	state_unlock(lock);

	/* A corrupt line: the load fails and says where; nothing is treated as empty. */
	char *good = slurp(at(STATE_FILE));
	FILE *f = fopen(at(STATE_FILE), "a");
	fputs("vmid=106 type=qemu state=parked\n", f);
	fclose(f);
	is_int(state_load(&got, &p), -EBADMSG, "corrupt file: -EBADMSG");
	ok(p.n == 1 && p.items[0].line == 4 && streq(p.items[0].file, STATE_FILE), "problem names file and line 4");
	is_str(p.n ? p.items[0].message : NULL, "bad record: vmid, type, state or parked-at missing", "and the reason");
	ok(got.n == 0 && !got.guests, "no partial set returned");
	problem_list_release(&p);

	spew(at(STATE_FILE), "vmid=104 type=qemu state=parked parked-at=1\nvmid=104 type=qemu state=parked parked-at=2\n");
	is_int(state_load(&got, &p), -EBADMSG, "two records of one guest are corrupt too");
	problem_list_release(&p);
	spew(at(STATE_FILE), good);

	/* Unreadable: a directory where the file should be. */
	rename(at(STATE_FILE), at(STATE_DIR "/parked.saved"));
	mkdir(at(STATE_FILE), 0700);
	is_int(state_load(&got, &p), -EINVAL, "not a regular file: refused");
	rmdir(at(STATE_FILE));
	rename(at(STATE_DIR "/parked.saved"), at(STATE_FILE));

	/* Symlink at the state file: nothing read or written through it. */
	spew(at("/victim"), "precious\n");
	rename(at(STATE_FILE), at(STATE_DIR "/parked.saved"));
	symlink(at("/victim"), at(STATE_FILE));
	is_int(state_load(&got, &p), -ELOOP, "load refuses a symlink at the state file");
	is_int(state_save(&s), -ELOOP, "save refuses it too");
	text = slurp(at("/victim"));
	is_str(text, "precious\n", "the link's target is untouched");
	free(text);
	unlink(at(STATE_FILE));
	rename(at(STATE_DIR "/parked.saved"), at(STATE_FILE));

	symlink(at("/victim"), at(STATE_DIR "/lock.new"));
	unlink(at(STATE_LOCK));
	rename(at(STATE_DIR "/lock.new"), at(STATE_LOCK));
	is_int(state_lock(0), -ELOOP, "a symlink at the lock file is refused");
	unlink(at(STATE_LOCK));

	/* Symlink at the directory. */
	mkdir(at("/elsewhere"), 0700);
	rename(at(STATE_DIR), at("/var/lib/saved"));
	symlink(at("/elsewhere"), at(STATE_DIR));
	is_int(state_lock(0), -ELOOP, "lock refuses a symlinked directory");
	is_int(state_load(&got, &p), -ELOOP, "load refuses it");
	is_int(state_save(&s), -ELOOP, "save refuses it");
	ok(!root_exists("/elsewhere/parked") && !root_exists("/elsewhere/lock"), "nothing written through the link");
	unlink(at(STATE_DIR));
	rename(at("/var/lib/saved"), at(STATE_DIR));

	chmod(at(STATE_DIR), 0777);
	is_int(state_lock(0), -EPERM, "a directory writable by others is refused");
	chmod(at(STATE_DIR), 0700);
	if (geteuid() == 0) {
		chown(at(STATE_DIR), 12345, 12345);
		is_int(state_load(&got, &p), -EPERM, "a directory owned by somebody else is refused");
		chown(at(STATE_DIR), 0, 0);
		chown(at(STATE_FILE), 12345, 12345);
		is_int(state_load(&got, &p), -EPERM, "a state file owned by somebody else is refused");
		chown(at(STATE_FILE), 0, 0);
	}
	is_int(state_load(&got, &p), 0, "back to normal");
	parked_set_release(&got);
	free(good);
	parked_set_release(&s);
}

static void test_lock_contention(void)
{
	int to_child[2], to_parent[2];
	char c;
	if (pipe(to_child) < 0 || pipe(to_parent) < 0)
		abort();
	pid_t pid = fork();
	if (pid == 0) {
		int fd = state_lock(1000);
		c = fd >= 0 ? 'y' : 'n';
		write(to_parent[1], &c, 1);
		read(to_child[0], &c, 1);
		_exit(0);
	}
	ok(read(to_parent[0], &c, 1) == 1 && c == 'y', "another process holds the lock");
	long long t0 = now_ms();
	is_int(state_lock(300), -EWOULDBLOCK, "we give up after the bounded wait");
	long long took = now_ms() - t0;
	ok(took >= 300 && took < 1500, "waited about 300 ms (%lld ms)", took);
	write(to_child[1], "x", 1);
	int fd = state_lock(5000);
	ok(fd >= 0, "lock taken once the holder lets go");
	state_unlock(fd);
	waitpid(pid, NULL, 0);
}

/* A reader never sees a half-written file while a writer keeps replacing it. */
static void test_atomic(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		struct parked_set a = { 0 }, b = { 0 };
		for (unsigned v = 100; v < 160; v++) {
			struct parked_guest g = sample(v, GUEST_QEMU);
			state_add(&a, &g);
			if (v < 130)
				state_add(&b, &g);
		}
		for (int i = 0; i < 200; i++)
			if (state_save(i % 2 ? &a : &b) < 0)
				_exit(1);
		_exit(0);
	}
	int loads = 0, torn = 0;
	int status = 0;
	while (waitpid(pid, &status, WNOHANG) == 0) {
		struct parked_set got;
		struct problem_list p = { 0 };
		if (state_load(&got, &p) != 0 || (got.n != 60 && got.n != 30 && got.n != 2))
			torn++;
		loads++;
		parked_set_release(&got);
		problem_list_release(&p);
	}
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "writer saved 200 times");
	is_int(torn, 0, "%d loads during the writes, none saw a partial file", loads);
	int temps = 0;
	DIR *d = opendir(at(STATE_DIR));
	for (struct dirent *de; d && (de = readdir(d));)
		temps += strncmp(de->d_name, "parked.tmp", 10) == 0;
	if (d)
		closedir(d);
	ok(d && temps == 0, "no temp file left");
}

static void test_ids(void)
{
	char *s = NULL;
	is_int(state_read_job_upid(&s), -ENOENT, "no vzdump.pid: -ENOENT");
	mkdir(at("/var/run"), 0755);
	spew(at("/var/run/vzdump.pid"), "UPID:pve1:000A1B2C:0123ABCD:6745A1B2:vzdump::root@pam:\n");
	is_int(state_read_job_upid(&s), 0, "job UPID read");
	is_str(s, "UPID:pve1:000A1B2C:0123ABCD:6745A1B2:vzdump::root@pam:", "first line");
	free(s);
	mkdir(at("/proc"), 0755);
	mkdir(at("/proc/sys"), 0755);
	mkdir(at("/proc/sys/kernel"), 0755);
	mkdir(at("/proc/sys/kernel/random"), 0755);
	spew(at("/proc/sys/kernel/random/boot_id"), "0f3c2d9e-1111-2222-3333-444455556666\n");
	is_int(state_read_boot_id(&s), 0, "boot id read");
	is_str(s, "0f3c2d9e-1111-2222-3333-444455556666", "as written");
	free(s);
	spew(at("/var/run/vzdump.pid"), "two words\n");
	is_int(state_read_job_upid(&s), -EBADMSG, "a garbled pid file is refused");
}

int main(void)
{
	char *dir = testdir_create("state.t");
	snprintf(root, sizeof(root), "%s", dir);
	root_set_prefix(root);
	test_records();
	test_files();
	test_lock_contention();
	test_atomic();
	test_ids();
	root_set_prefix(NULL);
	testdir_remove(dir);
	return tap_done();
}

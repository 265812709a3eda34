#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "fileio.h"
#include "rootfs.h"
#include "setup.h"

/* The package ships this file; a source install gets it once, never overwritten. */
static const char logrotate_text[] =
	"/var/log/pve-gpu-backup-hook.log {\n"
	"\tweekly\n"
	"\trotate 8\n"
	"\tcompress\n"
	"\tdelaycompress\n"
	"\tmissingok\n"
	"\tnotifempty\n"
	"\tcreate 0640 root adm\n"
	"}\n";

int file_state_read(struct file_state *f, const char *path)
{
	/* a new file gets 0644 and the caller's owner (root when run as intended) */
	*f = (struct file_state){ .path = path, .mode = 0644, .uid = (uid_t)-1, .gid = (gid_t)-1 };
	_cleanup_close_ int fd = root_open(path, O_RDONLY | O_NOCTTY, 0, true);
	if (fd == -ENOENT)
		return 0;
	if (fd < 0)
		return fd;
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
	f->exists = true;
	f->mode = st.st_mode & 07777;
	f->uid = st.st_uid;
	f->gid = st.st_gid;
	/* read the descriptor opened without following links, not the path again */
	return fd_read_all(fd, 16u << 20, &f->data, &f->len);
}

void file_state_release(struct file_state *f)
{
	free(f->data);
	f->data = NULL;
}

static int write_under_root(const char *path, const void *data, size_t len, mode_t mode, uid_t uid, gid_t gid)
{
	_cleanup_free_ char *p = root_path(path);
	if (!p)
		return -ENOMEM;
	return write_file_atomic(p, data, len, mode, uid, gid);
}

static int unlink_under_root(const char *path)
{
	_cleanup_free_ char *p = root_path(path);
	if (!p)
		return -ENOMEM;
	return unlink(p) < 0 && errno != ENOENT ? -errno : 0;
}

/* Put a file back as it was before (best effort: the error being reported is the first one). */
static void restore(const struct file_state *f)
{
	if (f->exists)
		(void)write_under_root(f->path, f->data, f->len, f->mode, f->uid, f->gid);
	else
		(void)unlink_under_root(f->path);
}

static int write_hook_conf(const struct setup_plan *p, const struct file_state *hc)
{
	if (p->hook_conf_delete)
		return unlink_under_root(hc->path);
	return write_under_root(hc->path, p->new_hook_conf, p->new_hook_conf_len,
	                        hc->exists ? hc->mode : 0644, hc->uid, hc->gid);
}

int plan_write(enum setup_action action, const struct setup_plan *p,
               const struct file_state *vz, const struct file_state *hc,
               bool write_logrotate, const char **ret_path)
{
	int r;
	bool wrote_logrotate = false, wrote_hc = false;

	if (write_logrotate) {
		r = write_under_root(LOGROTATE_PATH, logrotate_text, sizeof(logrotate_text) - 1, 0644,
		                     (uid_t)-1, (gid_t)-1);
		if (r < 0) {
			*ret_path = LOGROTATE_PATH;
			return r;
		}
		wrote_logrotate = true;
	}
	if (p->vzdump_changes && vz->exists) {
		r = write_under_root(BACKUP_PATH, vz->data, vz->len, vz->mode, vz->uid, vz->gid);
		if (r < 0) {
			*ret_path = BACKUP_PATH;
			goto fail;
		}
	}
	/* apply: the chain first, so that the other hook never stops running;
	 * remove: vzdump.conf first, so that the other hook runs again before the chain goes. */
	if (action == SETUP_APPLY && p->hook_conf_changes) {
		r = write_hook_conf(p, hc);
		if (r < 0) {
			*ret_path = hc->path;
			goto fail;
		}
		wrote_hc = true;
	}
	if (p->vzdump_changes) {
		r = write_under_root(vz->path, p->new_vzdump, p->new_vzdump_len, vz->mode, vz->uid, vz->gid);
		if (r < 0) {
			*ret_path = vz->path;
			goto fail;
		}
	}
	if (action == SETUP_REMOVE && p->hook_conf_changes) {
		r = write_hook_conf(p, hc);
		if (r < 0) {
			*ret_path = hc->path;
			if (p->vzdump_changes)
				restore(vz);
			goto fail;
		}
	}
	return 0;
fail:
	if (wrote_hc)
		restore(hc);
	if (wrote_logrotate)
		(void)unlink_under_root(LOGROTATE_PATH);
	return r;
}

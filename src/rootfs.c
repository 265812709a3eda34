#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rootfs.h"

static char *prefix_override;
static bool prefix_overridden;

void root_set_prefix(const char *prefix)
{
	free(prefix_override);
	prefix_override = prefix ? strdup(prefix) : NULL;
	prefix_overridden = prefix != NULL;
	if (prefix_override) {
		size_t l = strlen(prefix_override);
		while (l > 0 && prefix_override[l - 1] == '/')
			prefix_override[--l] = '\0';
	}
}

const char *root_prefix(void)
{
	static char env_copy[PATH_MAX];
	static bool env_read;

	if (prefix_overridden)
		return prefix_override ? prefix_override : "";
	if (!env_read) {
		const char *e = getenv("PVE_GPU_BACKUP_ROOT");
		env_read = true;
		if (e && strlen(e) < sizeof(env_copy)) {
			strcpy(env_copy, e);
			size_t l = strlen(env_copy);
			while (l > 0 && env_copy[l - 1] == '/')
				env_copy[--l] = '\0';
		}
	}
	return env_copy;
}

int root_path_buf(char *buf, size_t size, const char *path)
{
	int r = snprintf(buf, size, "%s%s", root_prefix(), path);
	if (r < 0 || (size_t)r >= size)
		return -ENAMETOOLONG;
	return 0;
}

char *root_path(const char *path)
{
	size_t l = strlen(root_prefix()) + strlen(path) + 1;
	char *p = malloc(l);
	if (p)
		snprintf(p, l, "%s%s", root_prefix(), path);
	return p;
}

int root_open(const char *path, int flags, mode_t mode, bool nofollow)
{
	char p[PATH_MAX];
	int r = root_path_buf(p, sizeof(p), path);
	if (r < 0)
		return r;
	int fd = open(p, flags | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0), mode);
	return fd < 0 ? -errno : fd;
}

int fd_opendir(int fd, DIR **ret)
{
	if (fd < 0)
		return fd;
	DIR *d = fdopendir(fd);
	if (!d) {
		int r = -errno;
		close(fd);
		return r;
	}
	*ret = d;
	return 0;
}

int root_opendir(const char *path, DIR **ret)
{
	return fd_opendir(root_open(path, O_RDONLY | O_DIRECTORY, 0, false), ret);
}

int fd_read_all(int fd, size_t max, char **ret, size_t *ret_len)
{
	if (max == 0)
		max = 64u << 20;
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	size_t cap = S_ISREG(st.st_mode) && st.st_size > 0 ? (size_t)st.st_size + 1 : 4096, len = 0;
	if (cap > max + 1)
		cap = max + 1;
	_cleanup_free_ char *buf = malloc(cap + 1);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (len == cap) {
			if (cap > max)
				return -EFBIG;
			size_t ncap = cap * 2 > max + 1 ? max + 1 : cap * 2;
			char *n = realloc(buf, ncap + 1);
			if (!n)
				return -ENOMEM;
			buf = n;
			cap = ncap;
		}
		ssize_t k = read(fd, buf + len, cap - len);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (k == 0)
			break;
		len += (size_t)k;
	}
	if (len > max)
		return -EFBIG;
	buf[len] = '\0';
	if (ret_len)
		*ret_len = len;
	*ret = TAKE_PTR(buf);
	return 0;
}

int root_read_file(const char *path, size_t max, char **ret, size_t *ret_len)
{
	_cleanup_close_ int fd = root_open(path, O_RDONLY | O_NOCTTY, 0, false);
	if (fd < 0)
		return fd;
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;

	return fd_read_all(fd, max, ret, ret_len);
}

int root_read_line(const char *path, char **ret)
{
	char *s;
	int r = root_read_file(path, 65536, &s, NULL);
	if (r < 0)
		return r;
	s[strcspn(s, "\n")] = '\0';
	*ret = s;
	return 0;
}

int root_readlink(const char *path, char **ret)
{
	char p[PATH_MAX], t[PATH_MAX];
	int r = root_path_buf(p, sizeof(p), path);
	if (r < 0)
		return r;
	ssize_t k = readlink(p, t, sizeof(t) - 1);
	if (k < 0)
		return -errno;
	t[k] = '\0';
	*ret = strdup(t);
	return *ret ? 0 : -ENOMEM;
}

bool root_exists(const char *path)
{
	char p[PATH_MAX];
	if (root_path_buf(p, sizeof(p), path) < 0)
		return false;
	return access(p, F_OK) == 0;
}

/* A scratch directory under the build tree (never /tmp) for one unit test. */
#pragma once

#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int testdir_rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(p);
}

/* Create ./<name>.XXXXXX in the current directory (the build dir) and return its absolute path. */
static inline char *testdir_create(const char *name)
{
	static char path[PATH_MAX - 64];
	char cwd[PATH_MAX - 128];
	if (!getcwd(cwd, sizeof(cwd)))
		abort();
	snprintf(path, sizeof(path), "%s/%s.XXXXXX", cwd, name);
	if (!mkdtemp(path)) {
		perror("mkdtemp");
		abort();
	}
	return path;
}

static inline void testdir_remove(const char *path)
{
	nftw(path, testdir_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

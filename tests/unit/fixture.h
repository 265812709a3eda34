/* Read a fixture file of tests/fixtures for the unit tests. */
#pragma once

#include <stdio.h>
#include <stdlib.h>

static inline char *fixture(const char *name)
{
	const char *top = getenv("top_srcdir");
	char path[4096];
	snprintf(path, sizeof(path), "%s/tests/fixtures/%s", top ? top : ".", name);
	FILE *f = fopen(path, "re");
	if (!f) {
		printf("Bail out! cannot open fixture '%s'\n", path);
		exit(1);
	}
	static char buf[65536];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	char *copy = malloc(n + 1);
	if (!copy)
		exit(1);
	memcpy(copy, buf, n + 1);
	return copy;
}

#include <string.h>

#include "macro.h"

void *array_push(void *array_p, size_t *n, size_t *cap, size_t sz)
{
	void **array = array_p;

	if (*n >= *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		void *p = reallocarray(*array, ncap, sz);
		if (!p)
			return NULL;
		*array = p;
		*cap = ncap;
	}
	void *slot = (char *)*array + *n * sz;
	memset(slot, 0, sz);
	(*n)++;
	return slot;
}

/* array: growing a heap array by doubling (see array.h). Must never let a size overflow. */
#include "lib/array.h"
#include <stdint.h>
#include <stdlib.h>

void *array_reserve(void *v, size_t n, size_t *cap, size_t elem, size_t first)
{
	if (n < *cap)
		return v;
	size_t want = *cap ? 2 * *cap : first;
	if (want <= *cap || elem == 0 || want > SIZE_MAX / elem)
		return NULL;
	void *p = realloc(v, want * elem);
	if (p)
		*cap = want;
	return p;
}

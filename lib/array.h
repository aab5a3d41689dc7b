/* array: growing a heap array by doubling, the one copy of that loop: bounds the byte size
 * against overflow before realloc. Knows nothing of what the elements are. */
#ifndef COFFER_ARRAY_H
#define COFFER_ARRAY_H
#include <stddef.h>

/* Room for one more element in v (n used, *cap allocated, elem bytes each; first is the
 * capacity of an empty array): the array to use from now on (v itself while there is room), or
 * NULL with v and *cap unchanged when memory runs out. */
void *array_reserve(void *v, size_t n, size_t *cap, size_t elem, size_t first);

#endif

/* reserve: CACHE_RESERVE bytes held in the cache's file "reserve" so that a cache whose disk is
 * full can still commit the deletions that free it.
 * Must never fail a mount or a commit by itself: filling it is best effort. */
#ifndef COFFER_CACHE_RESERVE_H
#define COFFER_CACHE_RESERVE_H
#include <stddef.h>
#include "cache/store.h"

#define CACHE_RESERVE ((size_t)8 << 20)

/* (Re)creates the reserve when missing or short, best effort. */
int cache_reserve_fill(struct store *s);
/* Gives the reserve up: 0 when it was there, -ENOENT when not. */
int cache_reserve_release(struct store *s);

#endif

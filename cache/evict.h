/* evict: measuring the cache's objects and evicting them to a size cap, least recently used
 * first. Which objects may go is the caller's knowledge (a predicate): cache/ knows no sync.
 * Must never remove an object the predicate did not allow, nor one marked kept (store_obj_keep). */
#ifndef COFFER_CACHE_EVICT_H
#define COFFER_CACHE_EVICT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "cache/store.h"

/* Bytes on disk that the cache's copies of these objects take (missing ones count 0). */
uint64_t cache_bytes_of(struct store *s, const struct oname *names, size_t n);
/* Measures objects/; when cap is not 0 and they take more, unlinks the objects may_evict allows,
 * least recently used first, until they take at most 90% of cap. *bytes gets what they take
 * afterwards (what could be measured, even on an error). */
int cache_evict(struct store *s, uint64_t cap, bool (*may_evict)(const struct oname *n, void *arg),
		void *arg, uint64_t *bytes);

#endif

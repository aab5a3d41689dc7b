/* known: the cache's `known` journal: the objects this device knows to be in the vault (it
 * uploaded them, or fetched and authenticated them), which alone decide what may be evicted and
 * what need not be uploaded; a listing of the vault never does. Records: format/known.h.
 * Appends are not synced one by one: cache_known_sync makes them durable before anything
 * relies on them (eviction). Must never follow a symlink at `known`. */
#ifndef COFFER_CACHE_KNOWN_H
#define COFFER_CACHE_KNOWN_H
#include <stdbool.h>
#include <stddef.h>
#include "cache/store.h"

/* Calls fn with each record in order; *records gets their count. -ENOENT without a journal,
 * -EBADMSG when its header is wrong (a torn last record is cut off). */
int cache_known_load(struct store *s, int (*fn)(const struct oname *n, bool add, void *arg),
		     void *arg, size_t *records);
/* Appends one record (creating the journal with its header when missing). */
int cache_known_append(struct store *s, const struct oname *n, bool add);
/* Makes the appended records durable. 0 without a journal. */
int cache_known_sync(struct store *s);
/* Atomically replaces the journal with one add record per name (compaction). */
int cache_known_rewrite(struct store *s, const struct oname *names, size_t n);

#endif

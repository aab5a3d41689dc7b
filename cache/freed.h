/* freed: the cache's freed.log: per commit, the objects its root stopped naming, for deletion on
 * the remote once no retained root names them (records: see format/freed.h).
 * Must never lose a record of a commit that reached its commit point. */
#ifndef COFFER_CACHE_FREED_H
#define COFFER_CACHE_FREED_H
#include <stddef.h>
#include <stdint.h>
#include "cache/store.h"

/* Appends and fdatasyncs one record. */
int cache_freed_append(struct store *s, uint64_t gen, const struct oname *names, size_t n);
/* Drops records past max_gen (commits that never reached their commit point). */
int cache_freed_trim(struct store *s, uint64_t max_gen);
/* Calls fn for each name in records with generation <= upto. */
int cache_freed_each(struct store *s, uint64_t upto, int (*fn)(const struct oname *n, void *arg),
		     void *arg);
/* Removes the records with generation <= upto. */
int cache_freed_drop(struct store *s, uint64_t upto);

#endif

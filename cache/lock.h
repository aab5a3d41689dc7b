/* lock: the mount lock of a cache folder (flock of its file "lock"): the daemon holds it
 * exclusively while it serves the cache; `coffer umount` watches it to learn when it is done.
 * Must never let two daemons serve one cache at once. */
#ifndef COFFER_CACHE_LOCK_H
#define COFFER_CACHE_LOCK_H
#include <stdbool.h>
#include "cache/store.h"

/* Takes the exclusive mount lock, held until store_close; -EBUSY when another live process
 * holds it. */
int cache_lock_take(struct store *s);
/* For a process that waits for the daemon: opens the lock file without creating or taking it;
 * -ENOENT when no daemon ever served this cache. */
int cache_lock_watch(struct store *s);
/* After cache_lock_watch: whether a daemon still holds the lock. */
bool cache_lock_held(struct store *s);

#endif

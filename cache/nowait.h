/* nowait: the cache's "nowait" flag: `coffer umount --no-wait` sets it so that the daemon stops
 * waiting for the upload at unmount (the rest uploads at the next mount).
 * Must never carry over to a later mount: the mount and the umount clear it. */
#ifndef COFFER_CACHE_NOWAIT_H
#define COFFER_CACHE_NOWAIT_H
#include <stdbool.h>
#include "cache/store.h"

int cache_nowait_set(struct store *s);
bool cache_nowait_isset(struct store *s);
void cache_nowait_clear(struct store *s);

#endif

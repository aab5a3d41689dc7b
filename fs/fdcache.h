/* fdcache: open descriptors of recently used chunk objects, so that small reads and writes do
 * not pay a path lookup and an open/close per request (fio 4 KiB random I/O). A descriptor whose
 * object left the store (evicted, deleted, replaced: no link left) is dropped when next asked
 * for, so the cache answers as the store's folder would; a damaged object is forgotten at once,
 * before its good copy is fetched.
 * The slots form sets of FDCACHE_WAYS; an object is cached only in the set its name picks, so a
 * lookup compares FDCACHE_WAYS names whatever the cache's size. The number of sets follows the
 * process's descriptor limit (RLIMIT_NOFILE, whose soft value fdcache_new raises to the hard
 * one): a random reader of a large file keeps a descriptor per chunk it touches.
 * Never closes a descriptor that a caller still uses, and never holds more than FDCACHE_WAYS
 * per set (FDCACHE_MAX_SETS sets at most). */
#ifndef COFFER_FDCACHE_H
#define COFFER_FDCACHE_H
#include <stdbool.h>
#include "cache/store.h"
#include "format/format.h"

#define FDCACHE_WAYS	 8
#define FDCACHE_MAX_SETS 512 /* 4,096 descriptors: 4 GiB of chunks */

struct fdcache;
struct fdref {
	int fd;
	int slot; /* -1: not cached, fdcache_put closes fd */
};

/* NULL when out of memory (every call then opens per request). With st, the cache watches it
 * (store_watch_gone) and forgets each object st removes at once, so that an idle descriptor
 * never keeps a deleted or evicted object's space. */
struct fdcache *fdcache_new(struct store *st);
/* Stops watching, closes every descriptor (none may be in use any more) and frees the cache;
 * NULL is fine. */
void fdcache_free(struct fdcache *c);
/* A descriptor of object n of st, opened O_RDWR when writable (else O_RDONLY): 0 or -errno
 * (from openat: -ENOENT when the object is not in st). Give it back with fdcache_put. A NULL
 * cache opens one for the caller alone. */
int fdcache_get(struct fdcache *c, struct store *st, const struct oname *n, bool writable,
		struct fdref *out);
void fdcache_put(struct fdcache *c, const struct fdref *r);
/* Keeps fd, just opened O_RDWR on the new object n, for the coming writes (or closes it). */
void fdcache_adopt(struct fdcache *c, const struct oname *n, int fd);
/* Whether a descriptor of n is held (the object's bytes are then at hand). A hint that costs
 * no system call: the object may have left the store since, which fdcache_get then finds. */
bool fdcache_has(struct fdcache *c, const struct oname *n);
/* Drops n (damaged, or deleted): later gets open it again by name. */
void fdcache_forget(struct fdcache *c, const struct oname *n);

#endif

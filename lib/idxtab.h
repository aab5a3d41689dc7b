/* idxtab: an index of the entries of the caller's own array, by key: an open-addressing table of
 * 4-byte entry positions, the keys staying in the caller's entries (a key_of callback gives an
 * entry's key). Built for directories: a name costs an 8-byte slot (times 4/3 to 8/3) instead of
 * a hash table's 24-byte one. Hashing is keyed SipHash with a seed of the table's own, so
 * crafted names cannot flood a slot run. Never locks: callers serialize access. */
#ifndef COFFER_IDXTAB_H
#define COFFER_IDXTAB_H
#include <stddef.h>
#include <stdint.h>

/* The key of entry pos of the caller's array (one that is in the table). */
typedef void (*idxtab_key_fn)(const void *ctx, uint32_t pos, const void **key, size_t *len);

struct idxslot {
	uint32_t pos;  /* the entry's position + 1; 0: empty */
	uint32_t hash; /* the low bits of its key's hash */
};

struct idxtab {
	struct idxslot *slot;
	uint32_t cap, count; /* cap: 0 or a power of two */
	unsigned char seed[16];
	idxtab_key_fn key_of;
	const void *ctx;
};

void idxtab_init(struct idxtab *t, idxtab_key_fn key_of, const void *ctx);
void idxtab_free(struct idxtab *t);
/* The caller's array moved (ctx is where it is now). */
static inline void idxtab_rebase(struct idxtab *t, const void *ctx)
{
	t->ctx = ctx;
}
/* The position of the entry whose key is key, or -1. */
int64_t idxtab_find(const struct idxtab *t, const void *key, size_t len);
/* Adds entry pos, whose key (as key_of gives it) no entry of the table has: 0 or -ENOMEM. */
int idxtab_add(struct idxtab *t, uint32_t pos);
/* Takes out the entry whose key is key: its position, or -1 when absent. */
int64_t idxtab_del(struct idxtab *t, const void *key, size_t len);
/* Forgets every entry (the slots stay allocated until idxtab_free). */
void idxtab_clear(struct idxtab *t);

#endif

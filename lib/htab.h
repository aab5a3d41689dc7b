/* htab: a hash table from byte-string keys to pointers, open addressing (linear probing, deletion
 * by backward shift: no tombstones), so an entry costs one 24-byte slot and no allocation of its
 * own, and an empty table holds no slots at all.
 * Keys are not copied: the caller keeps each key alive (and at the same address) while it is in
 * the table (usually the key lives inside the value); a key is never NULL. Hashing is keyed
 * SipHash, so crafted names cannot pile up in one run. Never locks: callers serialize access. */
#ifndef COFFER_HTAB_H
#define COFFER_HTAB_H
#include <stddef.h>
#include <stdint.h>

struct htab;

struct htab *htab_new(void);
void htab_free(struct htab *t);
void *htab_get(const struct htab *t, const void *key, size_t len);
/* Inserts or replaces; returns 0, -ENOMEM, or -EINVAL for a NULL key or one of 4 GiB or more. */
int htab_put(struct htab *t, const void *key, size_t len, void *val);
/* Removes and returns the value, or NULL when absent. */
void *htab_del(struct htab *t, const void *key, size_t len);
size_t htab_count(const struct htab *t);
/* Calls fn for every value; fn must not modify the table. */
void htab_each(const struct htab *t, void (*fn)(void *val, void *arg), void *arg);

#endif

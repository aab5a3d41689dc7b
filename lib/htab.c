/* htab: open-addressing hash table keyed by byte strings (see htab.h). The slot array is a power
 * of two, at most 3/4 full (fuller only when growing fails, never full); a slot keeps the low 32
 * bits of the key's hash, which pick its home slot and spare most key comparisons. It halves
 * when less than 1/8 full.
 * Must never copy or free keys or values: ownership stays with the caller. */
#include "lib/htab.h"
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "crypto/crypto.h"

struct slot {
	const void *key; /* NULL: empty */
	void *val;
	uint32_t hash, len;
};

struct htab {
	struct slot *slots;
	size_t cap, count; /* cap: 0 or a power of two of at most 2^32 */
	unsigned char seed[SHORTHASH_KEY_BYTES];
};

#define FIRST_CAP 8
#define MAX_CAP	  ((size_t)1 << 32) /* the stored hash addresses no more slots */

struct htab *htab_new(void)
{
	struct htab *t = calloc(1, sizeof(*t));
	if (t)
		random_bytes(t->seed, sizeof(t->seed));
	return t;
}

void htab_free(struct htab *t)
{
	if (!t)
		return;
	free(t->slots);
	free(t);
}

static uint32_t hash_key(const struct htab *t, const void *key, size_t len)
{
	return (uint32_t)shorthash(key, len, t->seed);
}

/* The slot that holds key, or the empty slot where it would go; the table has an empty slot. */
static size_t find(const struct htab *t, const void *key, uint32_t len, uint32_t h)
{
	size_t mask = t->cap - 1, k = h & mask;
	for (;; k = (k + 1) & mask) {
		const struct slot *s = &t->slots[k];
		if (!s->key || (s->hash == h && s->len == len && memcmp(s->key, key, len) == 0))
			return k;
	}
}

void *htab_get(const struct htab *t, const void *key, size_t len)
{
	if (!t->count || len > UINT32_MAX)
		return NULL;
	struct slot *s = &t->slots[find(t, key, (uint32_t)len, hash_key(t, key, len))];
	return s->key ? s->val : NULL;
}

/* Moves every entry into a slot array of cap slots; -ENOMEM leaves the table as it was. */
static int resize(struct htab *t, size_t cap)
{
	struct slot *old = t->slots, *v = calloc(cap, sizeof(*v));
	if (!v)
		return -ENOMEM;
	size_t oldcap = t->cap;
	t->slots = v;
	t->cap = cap;
	for (size_t k = 0; k < oldcap; k++)
		if (old[k].key)
			t->slots[find(t, old[k].key, old[k].len, old[k].hash)] = old[k];
	free(old);
	return 0;
}

/* Room for one more entry: grows at 3/4 full; a failed growth is fine while a slot stays empty
 * after the insert (lookups end at an empty slot). */
static int room_for_one(struct htab *t)
{
	if (t->count + 1 <= t->cap / 4 * 3)
		return 0;
	size_t cap = t->cap ? t->cap * 2 : FIRST_CAP;
	if (cap <= MAX_CAP && resize(t, cap) == 0)
		return 0;
	return t->count + 1 < t->cap ? 0 : -ENOMEM;
}

int htab_put(struct htab *t, const void *key, size_t len, void *val)
{
	if (!key || len > UINT32_MAX)
		return -EINVAL;
	uint32_t h = hash_key(t, key, len);
	if (t->count) {
		struct slot *s = &t->slots[find(t, key, (uint32_t)len, h)];
		if (s->key) {
			s->key = key;
			s->val = val;
			return 0;
		}
	}
	int err = room_for_one(t);
	if (err)
		return err;
	t->slots[find(t, key, (uint32_t)len, h)] =
		(struct slot){.key = key, .val = val, .hash = h, .len = (uint32_t)len};
	t->count++;
	return 0;
}

/* Whether home lies cyclically in (hole, at]: then the entry at `at` must stay where it is. */
static bool stays(size_t hole, size_t at, size_t home)
{
	return hole <= at ? hole < home && home <= at : hole < home || home <= at;
}

/* Empties slot k and shifts the entries after it back, so that no lookup stops short. */
static void remove_at(struct htab *t, size_t k)
{
	size_t mask = t->cap - 1;
	for (size_t j = k;;) {
		t->slots[k].key = NULL;
		do {
			j = (j + 1) & mask;
			if (!t->slots[j].key)
				return;
		} while (stays(k, j, t->slots[j].hash & mask));
		t->slots[k] = t->slots[j];
		k = j;
	}
}

void *htab_del(struct htab *t, const void *key, size_t len)
{
	if (!t->count || len > UINT32_MAX)
		return NULL;
	size_t k = find(t, key, (uint32_t)len, hash_key(t, key, len));
	if (!t->slots[k].key)
		return NULL;
	void *val = t->slots[k].val;
	remove_at(t, k);
	if (--t->count < t->cap / 8 && t->cap > FIRST_CAP)
		resize(t, t->cap / 2); /* a table that emptied gives memory back; failing is fine */
	return val;
}

size_t htab_count(const struct htab *t)
{
	return t->count;
}

void htab_each(const struct htab *t, void (*fn)(void *val, void *arg), void *arg)
{
	for (size_t k = 0; k < t->cap; k++)
		if (t->slots[k].key)
			fn(t->slots[k].val, arg);
}

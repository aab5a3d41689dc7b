/* idxtab: the positional index (see idxtab.h). Linear probing in a power-of-two slot array at
 * most 3/4 full; deletion shifts the following run back (no tombstones), so a lookup stops at
 * the first empty slot. A slot keeps the entry's position and the low 32 bits of its key's hash,
 * which pick its home slot (growing and deleting need no key) and spare most key comparisons.
 * Must never copy, keep or free keys: they live in the caller's entries. */
#include "lib/idxtab.h"
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "crypto/crypto.h"

#define FIRST_CAP 8u
#define MAX_CAP	  (1u << 31)

void idxtab_init(struct idxtab *t, idxtab_key_fn key_of, const void *ctx)
{
	*t = (struct idxtab){.key_of = key_of, .ctx = ctx};
	random_bytes(t->seed, sizeof(t->seed));
}

void idxtab_free(struct idxtab *t)
{
	free(t->slot);
	t->slot = NULL;
	t->cap = t->count = 0;
}

void idxtab_clear(struct idxtab *t)
{
	if (t->slot)
		memset(t->slot, 0, (size_t)t->cap * sizeof(*t->slot));
	t->count = 0;
}

static uint32_t hash_of(const struct idxtab *t, const void *key, size_t len)
{
	return (uint32_t)shorthash(key, len, t->seed);
}

static bool same(const struct idxtab *t, uint32_t pos, const void *key, size_t len)
{
	const void *k;
	size_t n;
	t->key_of(t->ctx, pos, &k, &n);
	return n == len && memcmp(k, key, len) == 0;
}

/* The slot that holds key, or the empty slot that ends its run. */
static uint32_t find(const struct idxtab *t, const void *key, size_t len)
{
	uint32_t h = hash_of(t, key, len), mask = t->cap - 1, k = h & mask;
	while (t->slot[k].pos && (t->slot[k].hash != h || !same(t, t->slot[k].pos - 1, key, len)))
		k = (k + 1) & mask;
	return k;
}

int64_t idxtab_find(const struct idxtab *t, const void *key, size_t len)
{
	if (!t->count)
		return -1;
	uint32_t k = find(t, key, len);
	return t->slot[k].pos ? (int64_t)t->slot[k].pos - 1 : -1;
}

static void put(struct idxtab *t, struct idxslot e)
{
	uint32_t mask = t->cap - 1, k = e.hash & mask;
	while (t->slot[k].pos)
		k = (k + 1) & mask;
	t->slot[k] = e;
}

static int resize(struct idxtab *t, uint32_t cap)
{
	struct idxslot *old = t->slot;
	uint32_t ocap = t->cap;
	struct idxslot *v = calloc(cap, sizeof(*v));
	if (!v)
		return -ENOMEM;
	t->slot = v;
	t->cap = cap;
	for (uint32_t k = 0; k < ocap; k++)
		if (old[k].pos)
			put(t, old[k]);
	free(old);
	return 0;
}

int idxtab_add(struct idxtab *t, uint32_t pos)
{
	if (pos >= UINT32_MAX)
		return -ENOMEM;
	if ((uint64_t)(t->count + 1) * 4 > (uint64_t)t->cap * 3) {
		if (t->cap >= MAX_CAP || resize(t, t->cap ? t->cap * 2 : FIRST_CAP))
			if (t->count + 1 >= t->cap)
				return -ENOMEM; /* never full: a lookup needs an empty slot */
	}
	const void *key;
	size_t len;
	t->key_of(t->ctx, pos, &key, &len);
	put(t, (struct idxslot){.pos = pos + 1, .hash = hash_of(t, key, len)});
	t->count++;
	return 0;
}

/* Backward-shift deletion: the entries after slot k in its run move back where their home
 * allows, so that no lookup stops early at the hole. */
static void remove_at(struct idxtab *t, uint32_t k)
{
	uint32_t mask = t->cap - 1, j = k;
	for (;;) {
		t->slot[k] = (struct idxslot){0};
		for (;;) {
			j = (j + 1) & mask;
			if (!t->slot[j].pos)
				return;
			uint32_t h = t->slot[j].hash & mask;
			/* the entry at j may move to k unless its home lies cyclically in (k, j] */
			if (k <= j ? (h <= k || h > j) : (h <= k && h > j))
				break;
		}
		t->slot[k] = t->slot[j];
		k = j;
	}
}

int64_t idxtab_del(struct idxtab *t, const void *key, size_t len)
{
	if (!t->count)
		return -1;
	uint32_t k = find(t, key, len);
	if (!t->slot[k].pos)
		return -1;
	int64_t pos = (int64_t)t->slot[k].pos - 1;
	remove_at(t, k);
	t->count--;
	if (t->cap > FIRST_CAP && (uint64_t)t->count * 8 < t->cap)
		resize(t, t->cap / 2); /* a failure keeps the larger table */
	return pos;
}

/* htab: chained hash table keyed by byte strings (see htab.h).
 * Must never copy or free keys or values: ownership stays with the caller. */
#include "lib/htab.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "crypto/crypto.h"

struct hnode {
	struct hnode *next;
	uint64_t hash;
	const void *key;
	size_t len;
	void *val;
};

struct htab {
	struct hnode **slots;
	size_t nslots, count;
	unsigned char seed[SHORTHASH_KEY_BYTES];
};

static uint64_t hash_key(const struct htab *t, const void *key, size_t len)
{
	return shorthash(key, len, t->seed);
}

struct htab *htab_new(void)
{
	struct htab *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->nslots = 64;
	t->slots = calloc(t->nslots, sizeof(*t->slots));
	if (!t->slots) {
		free(t);
		return NULL;
	}
	random_bytes(t->seed, sizeof(t->seed));
	return t;
}

void htab_free(struct htab *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nslots; i++) {
		struct hnode *n = t->slots[i], *next;
		for (; n; n = next) {
			next = n->next;
			free(n);
		}
	}
	free(t->slots);
	free(t);
}

static struct hnode **find(const struct htab *t, const void *key, size_t len, uint64_t h)
{
	struct hnode **p = &t->slots[h & (t->nslots - 1)];
	for (; *p; p = &(*p)->next)
		if ((*p)->hash == h && (*p)->len == len && memcmp((*p)->key, key, len) == 0)
			return p;
	return p;
}

void *htab_get(const struct htab *t, const void *key, size_t len)
{
	struct hnode **p = find(t, key, len, hash_key(t, key, len));
	return *p ? (*p)->val : NULL;
}

static void grow(struct htab *t)
{
	size_t n = t->nslots * 2;
	struct hnode **slots = calloc(n, sizeof(*slots));
	if (!slots)
		return; /* keep working with longer chains */
	for (size_t i = 0; i < t->nslots; i++) {
		struct hnode *e = t->slots[i], *next;
		for (; e; e = next) {
			next = e->next;
			e->next = slots[e->hash & (n - 1)];
			slots[e->hash & (n - 1)] = e;
		}
	}
	free(t->slots);
	t->slots = slots;
	t->nslots = n;
}

int htab_put(struct htab *t, const void *key, size_t len, void *val)
{
	uint64_t h = hash_key(t, key, len);
	struct hnode **p = find(t, key, len, h);
	if (*p) {
		(*p)->key = key;
		(*p)->val = val;
		return 0;
	}
	struct hnode *n = malloc(sizeof(*n));
	if (!n)
		return -ENOMEM;
	*n = (struct hnode){.next = NULL, .hash = h, .key = key, .len = len, .val = val};
	*p = n;
	if (++t->count > t->nslots)
		grow(t);
	return 0;
}

void *htab_del(struct htab *t, const void *key, size_t len)
{
	struct hnode **p = find(t, key, len, hash_key(t, key, len));
	struct hnode *n = *p;
	if (!n)
		return NULL;
	void *val = n->val;
	*p = n->next;
	free(n);
	t->count--;
	return val;
}

size_t htab_count(const struct htab *t)
{
	return t->count;
}

void htab_each(const struct htab *t, void (*fn)(void *val, void *arg), void *arg)
{
	for (size_t i = 0; i < t->nslots; i++)
		for (struct hnode *n = t->slots[i]; n; n = n->next)
			fn(n->val, arg);
}

/* dir: one directory's entries: a name index plus an insertion-ordered array whose index is the
 * stable readdir offset. Removed entries leave holes until enough pile up to compact. A split
 * directory also keeps which of its buckets and tables a commit must rewrite, and grows by
 * linear hashing (one more bucket, two rewritten) as its entries grow.
 * Must never hand out an entry whose name is not exactly the one looked up, and never change an
 * entry of a split directory without marking its bucket dirty. */
#include "fs/fs.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "format/dirbucket.h"

/* The index's view of entry pos: its name (only entries with a name are in the index). */
static void name_of(const void *ctx, uint32_t pos, const void **key, size_t *len)
{
	const struct dir *d = ctx;
	*key = d->v[pos].name;
	*len = d->v[pos].len;
}

struct dir *dir_new(void)
{
	struct dir *d = calloc(1, sizeof(*d));
	if (d)
		idxtab_init(&d->idx, name_of, d);
	return d;
}

void dir_split_drop(struct dir *d)
{
	if (!d->split)
		return;
	free(d->split->b);
	free(d->split->t);
	free(d->split);
	d->split = NULL;
}

void dir_clear(struct dir *d)
{
	idxtab_clear(&d->idx);
	for (size_t i = 0; i < d->n; i++)
		free(d->v[i].name);
	d->n = d->live = 0;
	d->bytes = 0;
}

void dir_free(struct dir *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++)
		free(d->v[i].name);
	free(d->v);
	idxtab_free(&d->idx);
	dir_split_drop(d);
	free(d);
}

bool dir_bad(const struct dir *d)
{
	return d->split && d->split->bad;
}

struct dent *dir_find(struct dir *d, const char *name, size_t len)
{
	int64_t k = idxtab_find(&d->idx, name, len);
	return k >= 0 ? &d->v[k] : NULL;
}

uint32_t dir_bucket(const struct dir *d, const struct dent *e)
{
	return dirbucket_of(e->hash, d->split->n);
}

static void mark(struct dsplit *s, uint32_t k)
{
	struct dobj *t = &s->t[k / NAMETAB_MAX];
	if (!s->b[k].dirty) {
		s->b[k].dirty = 1;
		s->ndirty++;
	}
	if (!t->dirty) {
		t->dirty = 1;
		s->ndirty++;
	}
}

void dir_touch(struct dir *d, const struct dent *e)
{
	if (d->split)
		mark(d->split, dir_bucket(d, e));
}

/* Room for n buckets and their tables; new ones are zero (no object, clean). */
static int grow(struct dsplit *s, uint32_t n)
{
	if (n <= s->cap)
		return 0;
	uint32_t cap = s->cap ? s->cap : 1;
	while (cap < n)
		cap *= 2;
	uint32_t tcap = (cap + NAMETAB_MAX - 1) / NAMETAB_MAX,
		 told = s->cap ? (s->cap + NAMETAB_MAX - 1) / NAMETAB_MAX : 0;
	struct dobj *b = realloc(s->b, (size_t)cap * sizeof(*b));
	if (b)
		s->b = b;
	struct dobj *t = b ? realloc(s->t, (size_t)tcap * sizeof(*t)) : NULL;
	if (!t)
		return -ENOMEM;
	s->t = t;
	memset(b + s->cap, 0, (size_t)(cap - s->cap) * sizeof(*b));
	memset(t + told, 0, (size_t)(tcap - told) * sizeof(*t));
	s->cap = cap;
	return 0;
}

int dir_split_init(struct dir *d, uint32_t n)
{
	if (n == 0 || n > DIR_BUCKETS_MAX)
		return -EINVAL;
	struct dsplit *s = calloc(1, sizeof(*s));
	if (!s || grow(s, n)) {
		if (s)
			free(s->b);
		free(s);
		return -ENOMEM;
	}
	s->n = n;
	s->epoch = ++d->splits;
	dir_split_drop(d);
	d->split = s;
	return 0;
}

/* Linear hashing: bucket s = n - 2^L splits into s and n; both are rewritten. */
static int split_one(struct dir *d)
{
	struct dsplit *s = d->split;
	if (s->n >= DIR_BUCKETS_MAX || grow(s, s->n + 1))
		return -ENOMEM;
	uint32_t from = s->n - (1u << (31u - (unsigned)__builtin_clz(s->n)));
	s->n++;
	mark(s, from);
	mark(s, s->n - 1);
	return 0;
}

/* An inline directory past DIR_INLINE_MAX splits into one bucket (every entry hashed now);
 * a split one gains buckets while its entries average more than DIR_BUCKET_TARGET each. A
 * failure leaves a consistent directory that only splits later. */
static void rebalance(struct dir *d)
{
	if (!d->split) {
		if (d->bytes <= DIR_INLINE_MAX || dir_split_init(d, 1))
			return;
		for (size_t i = 0; i < d->n; i++)
			if (d->v[i].name)
				d->v[i].hash = (uint32_t)dirbucket_hash(d->v[i].name, d->v[i].len);
		mark(d->split, 0);
	}
	while (d->bytes > (uint64_t)d->split->n * DIR_BUCKET_TARGET && !split_one(d))
		;
}

/* Drops the holes. Readdir offsets change, so only done when holes outnumber entries 4:1. The
 * index is rebuilt in place: it holds fewer entries than before, so it needs no memory. */
static void compact(struct dir *d)
{
	size_t j = 0;
	idxtab_clear(&d->idx);
	for (size_t i = 0; i < d->n; i++) {
		if (!d->v[i].name)
			continue;
		d->v[j] = d->v[i];
		idxtab_add(&d->idx, (uint32_t)j);
		j++;
	}
	d->n = j;
}

int dir_load_add(struct dir *d, const char *name, size_t len, uint64_t ino, uint8_t type,
		 uint32_t hash)
{
	if (d->n - d->live > 4 * d->live + 1024)
		compact(d);
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 8;
		struct dent *v = realloc(d->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		d->v = v;
		d->cap = cap;
	}
	char *copy = d->n < UINT32_MAX - 1 ? malloc(len + 1) : NULL;
	if (!copy)
		return -ENOMEM;
	memcpy(copy, name, len);
	copy[len] = 0;
	d->v[d->n] = (struct dent){.name = copy,
				   .ino = ino,
				   .len = (uint16_t)len,
				   .type = type,
				   .hash = hash};
	if (idxtab_add(&d->idx, (uint32_t)d->n)) {
		free(copy);
		d->v[d->n].name = NULL;
		return -ENOMEM;
	}
	d->n++;
	d->live++;
	d->bytes += DIR_DENT_BYTES(len);
	return 0;
}

int dir_add(struct dir *d, const char *name, size_t len, uint64_t ino, uint8_t type)
{
	uint32_t hash = d->split ? (uint32_t)dirbucket_hash(name, len) : 0;
	int err = dir_load_add(d, name, len, ino, type, hash);
	if (!err && d->split)
		mark(d->split, dirbucket_of(hash, d->split->n));
	if (!err)
		rebalance(d);
	return err;
}

void dir_remove(struct dir *d, const char *name, size_t len)
{
	int64_t k = idxtab_del(&d->idx, name, len);
	if (k < 0)
		return;
	struct dent *e = &d->v[k];
	dir_touch(d, e);
	d->bytes -= DIR_DENT_BYTES(e->len);
	free(e->name);
	e->name = NULL;
	d->live--;
	if (!d->split)
		rebalance(d); /* an inline directory read from an old page may be past the limit */
}

struct dent *dir_next(struct dir *d, size_t *pos)
{
	while (*pos < d->n) {
		struct dent *e = &d->v[(*pos)++];
		if (e->name)
			return e;
	}
	return NULL;
}

/* dir: one directory's entries: a name index plus an insertion-ordered array whose index is the
 * stable readdir offset. Removed entries leave holes until enough pile up to compact.
 * Must never hand out an entry whose name is not exactly the one looked up. */
#include "fs/fs.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct dir *dir_new(void)
{
	struct dir *d = calloc(1, sizeof(*d));
	if (d && !(d->idx = htab_new())) {
		free(d);
		d = NULL;
	}
	return d;
}

void dir_free(struct dir *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++)
		free(d->v[i].name);
	free(d->v);
	htab_free(d->idx);
	free(d);
}

struct dent *dir_find(struct dir *d, const char *name, size_t len)
{
	uintptr_t k = (uintptr_t)htab_get(d->idx, name, len);
	return k ? &d->v[k - 1] : NULL;
}

/* Drops the holes. Readdir offsets change, so only done when holes outnumber entries 4:1. */
static void compact(struct dir *d)
{
	size_t j = 0;
	for (size_t i = 0; i < d->n; i++) {
		if (!d->v[i].name)
			continue;
		d->v[j] = d->v[i];
		htab_put(d->idx, d->v[j].name, d->v[j].len, (void *)(uintptr_t)(j + 1));
		j++;
	}
	d->n = j;
}

int dir_add(struct dir *d, const char *name, size_t len, uint64_t ino, uint8_t type)
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
	char *copy = malloc(len + 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, name, len);
	copy[len] = 0;
	if (htab_put(d->idx, copy, len, (void *)(uintptr_t)(d->n + 1))) {
		free(copy);
		return -ENOMEM;
	}
	d->v[d->n++] = (struct dent){.name = copy, .ino = ino, .len = (uint16_t)len, .type = type};
	d->live++;
	return 0;
}

void dir_remove(struct dir *d, const char *name, size_t len)
{
	uintptr_t k = (uintptr_t)htab_del(d->idx, name, len);
	if (!k)
		return;
	free(d->v[k - 1].name);
	d->v[k - 1].name = NULL;
	d->live--;
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

/* inode: the in-memory inode table (inodes by number, in blocks of one inode page each), the
 * striped data locks, xattr lists, object release and path names for logs.
 * Must never free an object that a durable root may still reference: sealed objects wait in
 * pending_free until the next commit point. */
#include "fs/fs.h"
#include "fs/pack.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <syslog.h>
#include "lib/log.h"

int namelist_add(struct namelist *l, const struct oname *n)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct oname *v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = *n;
	return 0;
}

void namelist_free(struct namelist *l)
{
	free(l->v);
	*l = (struct namelist){0};
}

int needlist_add(struct needlist *l, const struct oname *n, const struct obj_want *w)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct oname *v = realloc(l->v, cap * sizeof(*v));
		if (v)
			l->v = v;
		struct obj_want *b = v ? realloc(l->want, cap * sizeof(*b)) : NULL;
		if (!b)
			return -ENOMEM;
		l->want = b;
		l->cap = cap;
	}
	l->v[l->n] = *n;
	l->want[l->n++] = *w;
	return 0;
}

void needlist_free(struct needlist *l)
{
	free(l->v);
	free(l->want);
	*l = (struct needlist){0};
}

struct inode *inode_new(uint64_t ino, uint32_t mode)
{
	struct inode *i = calloc(1, sizeof(*i));
	if (!i)
		return NULL;
	i->ino = ino;
	i->mode = mode;
	if (S_ISDIR(mode) && !(i->dir = dir_new())) {
		free(i);
		return NULL;
	}
	return i;
}

void inode_free(struct inode *i)
{
	for (size_t k = 0; k < i->nxa; k++) {
		free(i->xa[k].name);
		free(i->xa[k].val);
	}
	free(i->xa);
	free(i->target);
	free(i->ch);
	dir_free(i->dir);
	free(i);
}

/* The inodes of one inode page's numbers, and how many of them are in use. */
struct inode_block {
	uint32_t live;
	struct inode *v[PAGE_INODES];
};

struct inode_table {
	struct inode_block **blk; /* by ino / PAGE_INODES; NULL: no inode there */
	size_t nblk, count;
};

struct inode_table *inode_table_new(void)
{
	return calloc(1, sizeof(struct inode_table));
}

void inode_table_free(struct inode_table *t)
{
	if (!t)
		return;
	for (size_t b = 0; b < t->nblk; b++) {
		for (size_t k = 0; t->blk[b] && k < PAGE_INODES; k++)
			if (t->blk[b]->v[k])
				inode_free(t->blk[b]->v[k]);
		free(t->blk[b]);
	}
	free(t->blk);
	free(t);
}

/* The slot of ino, or NULL when its block does not exist. */
static struct inode **slot_of(const struct inode_table *t, uint64_t ino)
{
	uint64_t b = ino / PAGE_INODES;
	return b < t->nblk && t->blk[b] ? &t->blk[b]->v[ino % PAGE_INODES] : NULL;
}

struct inode *inode_peek(const struct fs *fs, uint64_t ino)
{
	struct inode **s = slot_of(fs->inodes, ino);
	return s ? *s : NULL;
}

/* Makes block b exist: the block array grows to cover it (doubling), the block is zeroed. */
static int block_make(struct inode_table *t, uint64_t b)
{
	if (b >= t->nblk) {
		size_t n = t->nblk ? t->nblk : 16;
		while (n <= b && n <= SIZE_MAX / 2 / sizeof(*t->blk))
			n *= 2;
		struct inode_block **v = n > b ? realloc(t->blk, n * sizeof(*v)) : NULL;
		if (!v)
			return -ENOMEM;
		memset(v + t->nblk, 0, (n - t->nblk) * sizeof(*v));
		t->blk = v;
		t->nblk = n;
	}
	if (!t->blk[b] && !(t->blk[b] = calloc(1, sizeof(struct inode_block))))
		return -ENOMEM;
	return 0;
}

int inode_insert(struct fs *fs, struct inode *i)
{
	struct inode_table *t = fs->inodes;
	int err = block_make(t, i->ino / PAGE_INODES);
	if (err)
		return err;
	struct inode_block *blk = t->blk[i->ino / PAGE_INODES];
	if (blk->v[i->ino % PAGE_INODES])
		return -EEXIST;
	blk->v[i->ino % PAGE_INODES] = i;
	blk->live++;
	t->count++;
	return 0;
}

struct inode *inode_remove(struct fs *fs, uint64_t ino)
{
	struct inode_table *t = fs->inodes;
	struct inode **s = slot_of(t, ino), *i = s ? *s : NULL;
	if (!i)
		return NULL;
	*s = NULL;
	t->count--;
	struct inode_block **blk = &t->blk[ino / PAGE_INODES];
	if (--(*blk)->live == 0) {
		free(*blk);
		*blk = NULL;
	}
	return i;
}

size_t inode_count(const struct fs *fs)
{
	return fs->inodes->count;
}

void inode_each(const struct inode_table *t, void (*fn)(void *inode, void *arg), void *arg)
{
	for (size_t b = 0; b < t->nblk; b++)
		for (size_t k = 0; t->blk[b] && k < PAGE_INODES; k++)
			if (t->blk[b]->v[k])
				fn(t->blk[b]->v[k], arg);
}

pthread_rwlock_t *inode_io(struct fs *fs, uint64_t ino)
{
	return &fs->io[ino % IO_STRIPES];
}

void inode_io_init(struct fs *fs)
{
	for (size_t k = 0; k < IO_STRIPES; k++)
		pthread_rwlock_init(&fs->io[k], NULL);
}

void inode_io_destroy(struct fs *fs)
{
	for (size_t k = 0; k < IO_STRIPES; k++)
		pthread_rwlock_destroy(&fs->io[k]);
}

void inode_touch_page(struct fs *fs, uint64_t ino)
{
	size_t p = (size_t)(ino / PAGE_INODES);
	if (p >= fs->npages) {
		struct page *v = realloc(fs->pages, (p + 1) * sizeof(*v));
		if (!v)
			abort(); /* cannot record the change: never commit a wrong tree */
		memset(v + fs->npages, 0, (p + 1 - fs->npages) * sizeof(*v));
		fs->pages = v;
		fs->npages = p + 1;
	}
	if (!fs->pages[p].resident && !oname_is_zero(&fs->pages[p].name)) {
		/* a change to a page whose other inodes are not in memory: committing it would
		 * drop them; every change reaches its inode through inode_get, so this is a bug */
		log_msg(LOG_CRIT, "inode page %zu changed while not in memory", p);
		abort();
	}
	fs->ndirty += !fs->pages[p].dirty;
	fs->pages[p].dirty = fs->pages[p].resident = true;
	fs->dirty = true;
}

struct xattr *inode_xattr_find(struct inode *i, const char *name)
{
	for (size_t k = 0; k < i->nxa; k++)
		if (strcmp(i->xa[k].name, name) == 0)
			return &i->xa[k];
	return NULL;
}

int inode_xattr_set(struct inode *i, const char *name, const void *val, size_t len)
{
	unsigned char *copy = malloc(len ? len : 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, val, len);
	struct xattr *x = inode_xattr_find(i, name);
	if (!x && i->nxa == UINT32_MAX) {
		free(copy);
		return -ENOSPC;
	}
	if (!x) {
		struct xattr *v = realloc(i->xa, ((size_t)i->nxa + 1) * sizeof(*v));
		char *n = strdup(name);
		if (!v || !n) {
			free(copy);
			free(n);
			if (v)
				i->xa = v;
			return -ENOMEM;
		}
		i->xa = v;
		x = &i->xa[i->nxa++];
		*x = (struct xattr){.name = n};
	}
	free(x->val);
	x->val = copy;
	x->len = len;
	return 0;
}

int inode_xattr_remove(struct inode *i, const char *name)
{
	struct xattr *x = inode_xattr_find(i, name);
	if (!x)
		return -ENODATA;
	free(x->name);
	free(x->val);
	*x = i->xa[--i->nxa];
	return 0;
}

void fs_release_object(struct fs *fs, struct chunk *c)
{
	if (!oname_is_zero(&c->pack))
		pack_release(fs, c); /* the pack is freed with its last live block */
	else if (c->state == CH_STAGING)
		store_obj_unlink(fs->st, &c->name); /* no root has ever named it */
	else if (c->state == CH_SEALED && namelist_add(&fs->pending_free, &c->name))
		log_msg(LOG_WARNING, "out of memory: an unused object stays in the cache");
	*c = (struct chunk){0};
}

void inode_drop_chunks(struct fs *fs, struct inode *i, size_t from)
{
	pthread_mutex_lock(&fs->mu);
	while (i->nch && i->ch[i->nch - 1].index >= from)
		fs_release_object(fs, &i->ch[--i->nch]);
	pthread_mutex_unlock(&fs->mu);
}

void inode_adopt_children(struct fs *fs, const struct inode *d)
{
	size_t pos = 0;
	struct dent *e;
	while (d->dir && (e = dir_next(d->dir, &pos))) {
		struct inode *c = inode_peek(fs, e->ino);
		if (c && !c->parent)
			c->parent = d->ino;
	}
}

/* Writes "/a/b/c" for ino into out by following parent links as far as they are in memory
 * (a log line must not read pages); called with mu held. */
size_t inode_path(struct fs *fs, uint64_t ino, char *out, size_t cap)
{
	const char *parts[64];
	size_t lens[64], n = 0;
	for (uint64_t cur = ino; cur != ROOT_INO && n < 64;) {
		struct inode *c = inode_peek(fs, cur), *p = c ? inode_peek(fs, c->parent) : NULL;
		if (!p || !p->dir)
			break;
		size_t pos = 0;
		struct dent *e;
		while ((e = dir_next(p->dir, &pos)) && e->ino != cur)
			;
		if (!e)
			break;
		parts[n] = e->name;
		lens[n++] = e->len;
		cur = p->ino;
	}
	size_t len = 0;
	out[0] = 0;
	while (n--)
		len += (size_t)snprintf(out + len, len < cap ? cap - len : 0, "/%.*s", (int)lens[n],
					parts[n]);
	if (len == 0)
		snprintf(out, cap, "/");
	return len;
}

void fs_log_integrity(struct fs *fs, uint64_t ino, const char *what)
{
	pthread_mutex_lock(&fs->mu);
	fs_log_integrity_locked(fs, ino, what);
	pthread_mutex_unlock(&fs->mu);
}

void fs_log_integrity_locked(struct fs *fs, uint64_t ino, const char *what)
{
	char path[4096];
	inode_path(fs, ino, path, sizeof(path));
	log_msg(LOG_ERR, "integrity error: %s (inode %llu): %s", path, (unsigned long long)ino,
		what);
}

/* dirsplit: split directories: buckets and their tables to and from objects. A commit encodes
 * the dirty buckets of a directory in one pass over its entries, then the tables listing them;
 * the old objects are freed once the new root is durable. A load (with its inode page: at
 * mount, fetching what is missing with no lock held; later from the cache only) checks every
 * table and bucket against the directory's record before it fills the entries.
 * Must never install half a directory (a bad object leaves it empty and EIO), never accept an
 * entry in a bucket its hash does not map to, and never free an object a durable root names. */
#include "fs/dirsplit.h"
#include "fs/metaobj.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include "format/dirbucket.h"
#include "format/meta.h"
#include "format/nametab.h"
#include "lib/array.h"
#include "lib/log.h"

static uint32_t ntables(uint32_t n)
{
	return (n + NAMETAB_MAX - 1) / NAMETAB_MAX;
}

/* The name an object will have once the commit being captured is durable. */
static struct oname cur_name(const struct dobj *o)
{
	return o->inflight ? o->next : o->name;
}

struct oname dirsplit_table_name(const struct dsplit *s, uint32_t t)
{
	return cur_name(&s->t[t]);
}

static struct dsplit_item *item_add(struct dsplit_commit *dc, const struct inode *i, uint32_t k,
				    uint8_t table, const struct oname *old)
{
	struct dsplit_item *v = array_reserve(dc->v, dc->n, &dc->cap, sizeof(*v), 16);
	if (!v)
		return NULL;
	dc->v = v;
	struct dsplit_item *it = &dc->v[dc->n++];
	*it = (struct dsplit_item){.ino = i->ino,
				   .epoch = i->dir->split->epoch,
				   .index = k,
				   .table = table,
				   .old = *old};
	return it;
}

/* The item's object gets name (zero: none) after this commit. */
static void set_next(struct dsplit *s, struct dobj *o, struct dsplit_item *it, bool nonempty)
{
	if (nonempty)
		oname_new(&it->name);
	o->next = it->name;
	o->inflight = 1;
	o->dirty = 0;
	s->ndirty--;
}

/* An empty split directory goes back inline: every object it held is freed. */
static int capture_unsplit(struct dsplit_commit *dc, struct inode *i)
{
	struct dsplit *s = i->dir->split;
	for (uint32_t k = 0; k < s->n + ntables(s->n); k++) {
		bool table = k >= s->n;
		const struct dobj *o = table ? &s->t[k - s->n] : &s->b[k];
		if (!oname_is_zero(&o->name) &&
		    !item_add(dc, i, table ? k - s->n : k, table, &o->name))
			return -ENOMEM;
	}
	dir_split_drop(i->dir);
	return 0;
}

struct blist {
	struct page_dent *v;
	size_t n, cap;
};

static int blist_add(struct blist *l, const struct dent *e)
{
	struct page_dent *v = array_reserve(l->v, l->n, &l->cap, sizeof(*v), 64);
	if (!v)
		return -ENOMEM;
	l->v = v;
	l->v[l->n++] = (struct page_dent){e->ino, e->name, e->len, e->type};
	return 0;
}

/* One pass over the entries sorts those of dirty buckets into per-bucket lists (slot[k]: the
 * list of bucket k, UINT32_MAX for a clean one). */
static int sort_entries(struct dir *d, const uint32_t *slot, struct blist *l)
{
	size_t pos = 0;
	struct dent *e;
	while ((e = dir_next(d, &pos))) {
		uint32_t k = slot[dir_bucket(d, e)];
		if (k != UINT32_MAX && blist_add(&l[k], e))
			return -ENOMEM;
	}
	return 0;
}

static int encode_buckets(struct dsplit_commit *dc, struct inode *i, const uint32_t *slot,
			  const struct blist *l)
{
	struct dsplit *s = i->dir->split;
	for (uint32_t k = 0; k < s->n; k++) {
		if (slot[k] == UINT32_MAX)
			continue;
		const struct blist *b = &l[slot[k]];
		struct dsplit_item *it = item_add(dc, i, k, 0, &s->b[k].name);
		if (!it)
			return -ENOMEM;
		struct dirbucket_plain p = {.dir = i->ino,
					    .index = k,
					    .nbuckets = s->n,
					    .count = (uint32_t)b->n,
					    .dent = b->v};
		if (b->n)
			dirbucket_encode(&p, &it->plain);
		if (it->plain.err)
			return -ENOMEM;
		set_next(s, &s->b[k], it, b->n > 0);
	}
	return 0;
}

static int capture_buckets(struct dsplit_commit *dc, struct inode *i)
{
	struct dsplit *s = i->dir->split;
	uint32_t *slot = malloc((size_t)s->n * sizeof(*slot)), m = 0;
	if (!slot)
		return -ENOMEM;
	for (uint32_t k = 0; k < s->n; k++)
		slot[k] = s->b[k].dirty ? m++ : UINT32_MAX;
	struct blist *l = calloc(m ? m : 1, sizeof(*l));
	int err = l ? sort_entries(i->dir, slot, l) : -ENOMEM;
	if (!err)
		err = encode_buckets(dc, i, slot, l);
	for (uint32_t k = 0; l && k < m; k++)
		free(l[k].v);
	free(l);
	free(slot);
	return err;
}

static int capture_tables(struct dsplit_commit *dc, struct inode *i)
{
	struct dsplit *s = i->dir->split;
	struct nametab_plain tp = {.kind = NAMETAB_BUCKETS, .owner = i->ino};
	for (uint32_t t = 0; t < ntables(s->n); t++) {
		if (!s->t[t].dirty)
			continue;
		tp.first = (uint64_t)t * NAMETAB_MAX;
		tp.count = s->n - (uint32_t)tp.first < NAMETAB_MAX ? s->n - (uint32_t)tp.first
								   : NAMETAB_MAX;
		bool any = false;
		for (uint32_t j = 0; j < tp.count; j++) {
			tp.names[j] = cur_name(&s->b[tp.first + j]);
			any |= !oname_is_zero(&tp.names[j]);
		}
		struct dsplit_item *it = item_add(dc, i, t, 1, &s->t[t].name);
		if (!it)
			return -ENOMEM;
		if (any)
			nametab_encode(&tp, &it->plain);
		if (it->plain.err)
			return -ENOMEM;
		set_next(s, &s->t[t], it, any);
	}
	return 0;
}

static int capture_dir(struct dsplit_commit *dc, struct inode *i)
{
	struct dsplit *s = i->dir->split;
	if (s->bad)
		return 0; /* its record stays exactly as loaded */
	if (i->dir->live == 0)
		return capture_unsplit(dc, i);
	if (s->ndirty == 0)
		return 0;
	int err = capture_buckets(dc, i);
	return err ? err : capture_tables(dc, i);
}

int dirsplit_capture(struct fs *fs, struct dsplit_commit *dc)
{
	int err = 0;
	for (size_t p = 0; !err && p < fs->npages; p++) {
		for (uint64_t ino = p * PAGE_INODES;
		     fs->pages[p].dirty && !err && ino < (p + 1) * PAGE_INODES; ino++) {
			struct inode *i = inode_peek(fs, ino);
			if (i && i->nlink && i->dir && i->dir->split)
				err = capture_dir(dc, i);
		}
	}
	return err;
}

int dirsplit_write(struct fs *fs, struct dsplit_commit *dc)
{
	_Static_assert(DIRBUCKET_AAD_BYTES == PAGE_AAD_BYTES && NAMETAB_AAD_BYTES == PAGE_AAD_BYTES,
		       "one AAD size for every metadata object");
	int err = 0;
	for (size_t k = 0; !err && k < dc->n; k++) {
		const struct dsplit_item *it = &dc->v[k];
		if (!oname_is_zero(&it->name))
			err = commit_write_meta(fs, &it->name,
						it->table ? nametab_aad : dirbucket_aad,
						&it->plain);
	}
	return err;
}

int dirsplit_lists(const struct dsplit_commit *dc, struct namelist *added, struct namelist *freed,
		   size_t *nolds)
{
	int err = 0;
	for (size_t k = 0; !err && k < dc->n; k++) {
		const struct dsplit_item *it = &dc->v[k];
		if (!oname_is_zero(&it->name))
			err = namelist_add(added, &it->name);
		if (!err && !oname_is_zero(&it->old) && !(err = namelist_add(freed, &it->old)))
			(*nolds)++;
	}
	return err;
}

/* The split state an item was captured from, if its directory still has it (same split). */
static struct dsplit *item_split(struct fs *fs, const struct dsplit_item *it)
{
	struct inode *i = inode_peek(fs, it->ino);
	struct dsplit *s = i && i->dir ? i->dir->split : NULL;
	return s && s->epoch == it->epoch ? s : NULL;
}

static void keep_free(struct fs *fs, const struct oname *n)
{
	if (!oname_is_zero(n) && namelist_add(&fs->pending_free, n))
		log_msg(LOG_WARNING, "out of memory: an unused object stays in the cache");
}

/* A committed item: its directory now holds the new name; a failed one: the old name, dirty. */
static void settle(struct fs *fs, const struct dsplit_item *it, int err)
{
	struct dsplit *s = item_split(fs, it);
	struct dobj *o = !s ? NULL : it->table ? &s->t[it->index] : &s->b[it->index];
	if (err && !oname_is_zero(&it->name))
		store_obj_unlink(fs->st, &it->name);
	if (!o) {
		keep_free(fs, err ? &it->old : &it->name); /* no directory holds it any more */
		return;
	}
	o->inflight = 0;
	if (!err)
		o->name = it->name;
	else if (!o->dirty) {
		o->dirty = 1;
		s->ndirty++;
	}
}

void dirsplit_finish(struct fs *fs, struct dsplit_commit *dc, int err)
{
	for (size_t k = 0; k < dc->n; k++) {
		settle(fs, &dc->v[k], err);
		if (dc->v[k].plain.data)
			wipe(dc->v[k].plain.data, dc->v[k].plain.cap);
		buf_free(&dc->v[k].plain);
	}
	free(dc->v);
	*dc = (struct dsplit_commit){0};
}

void dirsplit_release(struct fs *fs, struct dir *d)
{
	struct dsplit *s = d->split;
	for (uint32_t k = 0; s && k < s->n + ntables(s->n); k++) {
		const struct dobj *o = k < s->n ? &s->b[k] : &s->t[k - s->n];
		if (!o->inflight) /* an inflight one is the commit's to free (finish) */
			keep_free(fs, &o->name);
	}
}

/* Table t of directory i: the names of its buckets into s->b. */
static int load_table(struct fs *fs, struct inode *i, uint32_t t, bool fetch, char *why, size_t cap)
{
	struct dsplit *s = i->dir->split;
	struct buf plain = {0};
	struct nametab_plain tp;
	int err = metaobj_open(fs, &s->t[t].name, OBJ_TABLE, fetch, &plain, NULL);
	if (!err && (nametab_decode(plain.data, plain.len, &tp) ||
		     nametab_bind(&tp, NAMETAB_BUCKETS, i->ino, t, s->n)))
		err = -EINVAL;
	for (uint32_t j = 0; !err && j < tp.count; j++)
		s->b[tp.first + j].name = tp.names[j];
	metaobj_free(&plain);
	if (err)
		snprintf(why, cap, "its bucket table %u is %s", t,
			 err == -ENOENT ? "missing" : "damaged");
	return err;
}

/* The entries of bucket b (k of n) into the directory, each checked to hash to k. */
static int fill_bucket(struct dir *d, const struct dirbucket_plain *b, uint64_t ino, uint32_t k)
{
	uint32_t n = d->split->n;
	if (b->dir != ino || b->index != k || b->nbuckets <= k || b->nbuckets > n)
		return -EINVAL;
	for (uint32_t j = 0; j < b->count; j++) {
		const struct page_dent *e = &b->dent[j];
		uint64_t h = dirbucket_hash(e->name, e->len);
		if (dirbucket_of(h, n) != k || dir_find(d, e->name, e->len))
			return -EINVAL;
		int err = dir_load_add(d, e->name, e->len, e->ino, e->type, (uint32_t)h);
		if (err)
			return err;
	}
	return 0;
}

static int load_bucket(struct fs *fs, struct inode *i, uint32_t k, bool fetch, char *why,
		       size_t cap)
{
	struct buf plain = {0};
	struct dirbucket_plain b = {0};
	const struct oname *n = &i->dir->split->b[k].name;
	int err = metaobj_open(fs, n, OBJ_BUCKET, fetch, &plain, NULL);
	if (!err && dirbucket_decode(plain.data, plain.len, &b))
		err = -EINVAL;
	if (!err)
		err = fill_bucket(i->dir, &b, i->ino, k);
	dirbucket_plain_free(&b);
	metaobj_free(&plain);
	if (err) {
		char hex[2 * NAME_BYTES + 1];
		oname_hex(n, hex);
		snprintf(why, cap, "its bucket %u (object %s) is %s", k, hex,
			 err == -ENOENT ? "missing" : "damaged");
	}
	return err;
}

static int load_dir(struct fs *fs, struct inode *i, bool fetch, char *why, size_t cap)
{
	struct dsplit *s = i->dir->split;
	int err = 0;
	for (uint32_t t = 0; !err && t < ntables(s->n); t++)
		if (!oname_is_zero(&s->t[t].name))
			err = load_table(fs, i, t, fetch, why, cap);
	for (uint32_t k = 0; !err && k < s->n; k++)
		if (!oname_is_zero(&s->b[k].name))
			err = load_bucket(fs, i, k, fetch, why, cap);
	if (!err && i->dir->live != s->nentries) {
		snprintf(why, cap, "its buckets hold %zu entries, its record says %llu",
			 i->dir->live, (unsigned long long)s->nentries);
		err = -EINVAL;
	}
	return err;
}

void dirsplit_load_page(struct fs *fs, size_t p, bool fetch)
{
	for (uint64_t ino = (uint64_t)p * PAGE_INODES; ino < (uint64_t)(p + 1) * PAGE_INODES;
	     ino++) {
		struct inode *i = inode_peek(fs, ino);
		if (!i || !i->dir || !i->dir->split)
			continue;
		char why[200], what[320];
		if (load_dir(fs, i, fetch, why, sizeof(why)) == 0) {
			inode_adopt_children(fs, i);
			continue;
		}
		dir_clear(i->dir);
		i->dir->split->bad = true;
		snprintf(what, sizeof(what), "this directory cannot be read: %s", why);
		fs_log_integrity_locked(fs, i->ino, what);
	}
}

int dirsplit_objects(const struct inode *i, int (*fn)(const struct oname *n, void *arg), void *arg,
		     bool *bad)
{
	const struct dsplit *s = i->dir && i->nlink ? i->dir->split : NULL;
	int err = 0;
	if (s && s->bad && bad)
		*bad = true;
	for (uint32_t k = 0; s && fn && !err && k < s->n + ntables(s->n); k++) {
		const struct dobj *o = k < s->n ? &s->b[k] : &s->t[k - s->n];
		if (!oname_is_zero(&o->name))
			err = fn(&o->name, arg);
	}
	return err;
}

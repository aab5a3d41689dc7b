/* page: the in-memory side of inode pages and roots: builds the plain records of format/page.h
 * from the inode table and back (a split directory's record names its bucket tables; the buckets
 * are dirsplit.c's), and a sealed root's summary (root_peek); the root's own fields and page
 * tables are ptable.c's.
 * Never touches bytes itself (the codecs do) and never half-loads a page: all or nothing. */
#include "fs/fs.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "format/page.h"
#include "format/root.h"
#include "fs/dirsplit.h"
#include "lib/buf.h"

static int dents_of(struct dir *d, struct page_record *r)
{
	if (!(r->dent = calloc(d->live ? d->live : 1, sizeof(*r->dent))))
		return -ENOMEM;
	size_t pos = 0;
	for (struct dent *e; r->ndent < d->live && (e = dir_next(d, &pos));)
		r->dent[r->ndent++] = (struct page_dent){e->ino, e->name, e->len, e->type};
	return 0;
}

/* A split directory's record: its bucket count, entry count and tables as this commit leaves
 * them (a bad one's exactly as loaded). */
static int split_of(const struct dir *d, struct page_record *r)
{
	const struct dsplit *s = d->split;
	r->split = 1;
	r->nbuckets = s->n;
	r->nentries = s->bad ? s->nentries : d->live;
	r->ntables = (s->n + NAMETAB_MAX - 1) / NAMETAB_MAX;
	if (!(r->tables = calloc(r->ntables, sizeof(*r->tables))))
		return -ENOMEM;
	for (uint32_t t = 0; t < r->ntables; t++)
		r->tables[t] = dirsplit_table_name(s, t);
	return 0;
}

/* A chunk's reference in a page, with its pack location (if packed). */
static struct page_chunk chunk_ref(const struct chunk *c)
{
	return (struct page_chunk){.index = c->index,
				   .name = c->name,
				   .nblocks = c->nblocks,
				   .pack = c->pack,
				   .first = c->first};
}

static int record_of(const struct inode *i, struct page_record *r)
{
	*r = (struct page_record){.ino = i->ino,
				  .mode = i->mode,
				  .uid = i->uid,
				  .gid = i->gid,
				  .nlink = i->nlink,
				  .size = i->size,
				  .rdev = i->rdev,
				  .atime = i->atime,
				  .mtime = i->mtime,
				  .ctime = i->ctime};
	if (!(r->xa = calloc(i->nxa ? i->nxa : 1, sizeof(*r->xa))))
		return -ENOMEM;
	r->nxa = (uint32_t)i->nxa;
	for (size_t k = 0; k < i->nxa; k++)
		r->xa[k] = (struct page_xattr){.name = i->xa[k].name,
					       .name_len = (uint16_t)strlen(i->xa[k].name),
					       .val = i->xa[k].val,
					       .len = (uint32_t)i->xa[k].len};
	if (S_ISLNK(i->mode)) {
		r->target = i->target;
		r->target_len = (uint32_t)strlen(i->target);
	} else if (S_ISREG(i->mode)) {
		if (!(r->ch = calloc(i->nch ? i->nch : 1, sizeof(*r->ch))))
			return -ENOMEM;
		for (size_t k = 0; k < i->nch; k++) /* an empty chunk reads as a hole: none */
			if (i->ch[k].nblocks)
				r->ch[r->nch++] = chunk_ref(&i->ch[k]);
	} else if (S_ISDIR(i->mode)) {
		return i->dir->split ? split_of(i->dir, r) : dents_of(i->dir, r);
	}
	return 0;
}

void page_serialize(struct fs *fs, size_t page, struct buf *out)
{
	struct page_plain *p = calloc(1, sizeof(*p));
	int err = p ? 0 : -ENOMEM;
	uint64_t first = (uint64_t)page * PAGE_INODES;
	for (uint64_t ino = first; !err && ino < first + PAGE_INODES; ino++) {
		struct inode *i = inode_peek(fs, ino);
		if (i && i->nlink > 0)
			err = record_of(i, &p->rec[p->count++]);
	}
	if (!err) {
		p->index = page;
		page_encode(p, out);
	} else {
		out->err = -ENOMEM;
	}
	if (p)
		page_plain_free(p);
	free(p);
}

static char *dup_str(const char *s, size_t len)
{
	char *d = malloc(len + 1);
	if (d) {
		memcpy(d, s, len);
		d[len] = 0;
	}
	return d;
}

static int fill_xattrs(struct inode *i, const struct page_record *r)
{
	int err = 0;
	for (uint32_t k = 0; !err && k < r->nxa; k++) {
		char *name = dup_str(r->xa[k].name, r->xa[k].name_len);
		err = name ? inode_xattr_set(i, name, r->xa[k].val, r->xa[k].len) : -ENOMEM;
		free(name);
	}
	return err;
}

/* A split record: the bucket count and table names; dirsplit_load fills the entries. */
static int fill_split(struct dir *d, const struct page_record *r)
{
	int err = dir_split_init(d, r->nbuckets);
	if (err)
		return err;
	d->split->nentries = r->nentries;
	for (uint32_t t = 0; t < r->ntables; t++)
		d->split->t[t].name = r->tables[t];
	return 0;
}

/* A stored chunk as the page holds it, with its pack location (if packed). */
static struct chunk chunk_of_ref(const struct page_chunk *r)
{
	return (struct chunk){.index = r->index,
			      .name = r->name,
			      .nblocks = r->nblocks,
			      .state = CH_SEALED,
			      .pack = r->pack,
			      .first = r->first};
}

static int fill_body(struct inode *i, const struct page_record *r)
{
	if (S_ISLNK(i->mode))
		return (i->target = dup_str(r->target, r->target_len)) ? 0 : -ENOMEM;
	if (S_ISREG(i->mode)) {
		if (r->nch && !(i->ch = calloc(r->nch, sizeof(*i->ch))))
			return -ENOMEM; /* an empty file has no chunk array */
		i->chcap = i->nch = r->nch;
		for (uint32_t k = 0; k < r->nch; k++)
			i->ch[k] = chunk_of_ref(&r->ch[k]);
		return 0;
	}
	if (S_ISDIR(i->mode) && r->split)
		return fill_split(i->dir, r);
	for (uint32_t k = 0; S_ISDIR(i->mode) && k < r->ndent; k++) {
		const struct page_dent *e = &r->dent[k];
		if (dir_find(i->dir, e->name, e->len) ||
		    dir_load_add(i->dir, e->name, e->len, e->ino, e->type, 0))
			return -EINVAL; /* a name twice */
	}
	return 0;
}

static struct inode *inode_of(const struct page_record *r)
{
	struct inode *i = inode_new(r->ino, r->mode);
	if (!i)
		return NULL;
	i->uid = r->uid;
	i->gid = r->gid;
	i->nlink = r->nlink;
	i->size = r->size;
	i->rdev = r->rdev;
	i->atime = r->atime;
	i->mtime = r->mtime;
	i->ctime = r->ctime;
	if (fill_xattrs(i, r) || fill_body(i, r)) {
		inode_free(i);
		return NULL;
	}
	return i;
}

int page_deserialize(struct fs *fs, size_t page, const unsigned char *p, size_t len)
{
	struct page_plain *pp = malloc(sizeof(*pp));
	if (!pp)
		return -ENOMEM;
	int err = page_decode(p, len, pp);
	if (!err && pp->index != page)
		err = -EINVAL;
	uint32_t n = 0;
	for (; !err && n < pp->count; n++) {
		struct inode *i = inode_of(&pp->rec[n]);
		if (!i || inode_peek(fs, i->ino) || inode_insert(fs, i)) {
			if (i)
				inode_free(i);
			err = -EINVAL;
			break;
		}
	}
	while (err && n--)
		inode_free(inode_remove(fs, pp->rec[n].ino));
	page_plain_free(pp);
	free(pp);
	return err;
}

int root_peek(const struct keyring *keys, const uint8_t vault_id[VAULT_ID_BYTES],
	      const void *sealed, size_t len, struct root_info *out)
{
	struct root_plain r;
	if (root_unseal(keys->root, vault_id, sealed, len, &r))
		return -EBADMSG;
	*out = (struct root_info){.gen = r.gen,
				  .time_ns = r.time_ns,
				  .inodes = r.live_inodes,
				  .bytes = r.live_bytes};
	root_plain_free(&r);
	return 0;
}

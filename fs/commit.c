/* commit: turning the in-memory state into a durable root. The rename of root.tmp over root is
 * the one commit point: everything the new root names (chunks, inode pages, the page tables of
 * ptable.c) is fsynced before it, and nothing the old root names is deleted before it. Loading a
 * root back is load.c's.
 * Must never delete an object that the durable root names, never write a root whose objects
 * are not all durable, and never free a page's or root's plaintext unwiped. */
#include "fs/fs.h"
#include "fs/dirsplit.h"
#include "fs/pack.h"
#include "cache/files.h"
#include "cache/freed.h"
#include "cache/reserve.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include "format/meta.h"
#include "format/nametab.h"
#include "format/page.h"
#include "format/root.h"
#include "lib/log.h"
#include "lib/buf.h"

#define SYNC_ONE_BY_ONE 8

/* A metadata object the commit writes (an inode page or a page table) in place of old. */
struct new_obj {
	size_t idx;
	struct oname name; /* zero when it names nothing any more: no object */
	struct oname old;  /* the name it replaces (zero: none) */
	struct buf plain;
};

/* The new objects of one kind, and the additional data they are sealed with. */
struct objset {
	struct new_obj *v;
	size_t n;
	void (*aad)(const struct oname *n, uint8_t aad[PAGE_AAD_BYTES]);
};

struct commit {
	uint64_t gen;
	struct objset pages;  /* inode pages */
	struct objset tables; /* page tables */
	struct namelist sync; /* staging chunks frozen by this commit */
	struct namelist free; /* objects the new root no longer names: deleted once it is durable */
	struct namelist added;	   /* objects the new root names and the old one did not */
	struct dsplit_commit dirs; /* split directories' buckets and tables (dirsplit.c) */
	struct pack_commit packs;  /* small files packed, sparse packs repacked (pack.c) */
	struct buf root;	   /* root plaintext, then the sealed root */
	size_t nolds;		   /* replaced page and table names at the end of free */
};

_Static_assert(PAGE_AAD_BYTES == NAMETAB_AAD_BYTES, "one AAD size for every metadata object");

/* Frees a buffer of plaintext (a page or root before sealing), wiped first. */
static void wipe_buf(struct buf *b)
{
	if (b->data)
		wipe(b->data, b->cap);
	buf_free(b);
}

/* A page's plaintext waits in memory until the commit seals it: keep it at its size, not the
 * doubled capacity (a third of it unused: 44 MB over the 15,625 pages of a million new files).
 * A shrink stays in place, so no unwiped copy is left behind. */
static void fit_buf(struct buf *b)
{
	unsigned char *d = b->len && b->len < b->cap ? realloc(b->data, b->len) : NULL;
	if (d) {
		b->data = d;
		b->cap = b->len;
	}
}

static void move_list(struct namelist *dst, struct namelist *src)
{
	for (size_t k = 0; k < src->n; k++)
		if (namelist_add(dst, &src->v[k]))
			log_msg(LOG_WARNING, "out of memory: an unused object stays in the cache");
	namelist_free(src);
}

static int freeze_page_chunks(struct fs *fs, size_t page, struct commit *c)
{
	for (uint64_t ino = page * PAGE_INODES; ino < (page + 1) * PAGE_INODES; ino++) {
		struct inode *i = inode_peek(fs, ino);
		for (size_t k = 0; i && i->nlink && k < i->nch; k++)
			if (i->ch[k].state == CH_STAGING) {
				/* a chunk going into a pack: the pack is synced instead */
				bool packed = !oname_is_zero(&i->ch[k].pack);
				if (!packed && namelist_add(&c->sync, &i->ch[k].name))
					return -ENOMEM;
				i->ch[k].state = CH_SEALED;
			}
	}
	return 0;
}

/* Room for n new objects sealed with aad; -ENOMEM. */
static int objset_init(struct objset *s, size_t n,
		       void (*aad)(const struct oname *n, uint8_t aad[PAGE_AAD_BYTES]))
{
	s->aad = aad;
	return (s->v = calloc(n ? n : 1, sizeof(*s->v))) ? 0 : -ENOMEM;
}

/* The dirty pages, serialized: their new names into names[]; chunks they freeze to c->sync. */
static int capture_pages(struct fs *fs, struct commit *c, struct oname *names)
{
	size_t n = 0;
	for (size_t p = 0; p < fs->npages; p++)
		n += fs->pages[p].dirty;
	if (objset_init(&c->pages, n, page_aad))
		return -ENOMEM;
	for (size_t p = 0; p < fs->npages; p++) {
		names[p] = fs->pages[p].name;
		if (!fs->pages[p].dirty)
			continue;
		struct new_obj *np = &c->pages.v[c->pages.n++];
		np->idx = p;
		np->old = fs->pages[p].name;
		page_serialize(fs, p, &np->plain);
		page_count(fs, p);
		fit_buf(&np->plain);
		if (page_record_count(np->plain.data, np->plain.len) > 0)
			oname_new(&np->name);
		names[p] = np->name;
		if (np->plain.err || freeze_page_chunks(fs, p, c))
			return -ENOMEM;
	}
	return 0;
}

/* The dirty page tables (ptables_capture marked those of the dirty pages), serialized from the
 * new page names: their new names into tnames[]. */
static int capture_tables(struct fs *fs, struct commit *c, const struct oname *names,
			  struct oname *tnames)
{
	size_t n = 0;
	for (size_t t = 0; t < fs->ntables; t++)
		n += fs->tables[t].dirty;
	if (objset_init(&c->tables, n, nametab_aad))
		return -ENOMEM;
	for (size_t t = 0; t < fs->ntables; t++) {
		tnames[t] = fs->tables[t].name;
		if (!fs->tables[t].dirty)
			continue;
		struct new_obj *nt = &c->tables.v[c->tables.n++];
		nt->idx = t;
		nt->old = fs->tables[t].name;
		if (ptable_encode(fs, t, names, &nt->plain) > 0)
			oname_new(&nt->name);
		tnames[t] = nt->name;
		if (nt->plain.err)
			return -ENOMEM;
	}
	return 0;
}

/* The root of the captured state (a new generation, now), into c->root. */
static int capture_root(struct fs *fs, struct commit *c, const struct oname *tnames)
{
	c->gen = ++fs->gen;
	fs->live_inodes = fs->live_bytes = 0;
	for (size_t p = 0; p < fs->npages; p++) { /* the dirty pages were counted by the capture */
		fs->live_inodes += fs->pages[p].live;
		fs->live_bytes += fs->pages[p].bytes;
	}
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	fs->root_time = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
	ptables_root_encode(fs, tnames, &c->root);
	return c->root.err ? -ENOMEM : 0;
}

static int capture_tree(struct fs *fs, struct commit *c)
{
	int err = ptables_capture(fs);
	struct oname *names = calloc(fs->npages ? fs->npages : 1, sizeof(*names));
	struct oname *tnames = calloc(fs->ntables ? fs->ntables : 1, sizeof(*tnames));
	if (!err && (!names || !tnames))
		err = -ENOMEM;
	if (!err)
		err = dirsplit_capture(fs, &c->dirs); /* before the pages: their records name it */
	if (!err)
		err = capture_pages(fs, c, names);
	if (!err)
		err = capture_tables(fs, c, names, tnames);
	if (!err)
		err = capture_root(fs, c, tnames);
	free(names);
	free(tnames);
	if (err)
		return err;
	for (size_t k = 0; k < c->pages.n; k++)
		fs->pages[c->pages.v[k].idx].dirty = false;
	fs->ndirty = 0;
	for (size_t k = 0; k < c->tables.n; k++)
		fs->tables[c->tables.v[k].idx].dirty = false;
	move_list(&c->free, &fs->pending_free);
	move_list(&c->sync, &fs->unsynced);
	fs->dirty = false;
	return 0;
}

/* Captures the dirty state; called with freeze held exclusively and mu held. The pages record
 * the packs planned for their small files (a repack marks more pages dirty first); in memory
 * the chunks stay where they are until the commit is durable (finish). */
static int capture(struct fs *fs, struct commit *c)
{
	int err = pack_capture(fs, &c->packs);
	if (!err)
		err = capture_tree(fs, c);
	pack_capture_done(&c->packs);
	return err;
}

int commit_write_meta(struct fs *fs, const struct oname *n,
		      void (*aadfn)(const struct oname *n, uint8_t aad[PAGE_AAD_BYTES]),
		      const struct buf *plain)
{
	struct buf sealed = {0};
	uint8_t aad[PAGE_AAD_BYTES];
	aadfn(n, aad);
	int err = meta_seal(fs->keys->meta, aad, sizeof(aad), plain, &sealed);
	if (!err) /* kept: read back from the cache on demand (resident.c) */
		err = store_obj_write_mode(fs->st, n, sealed.data, sealed.len, STORE_KEEP_MODE);
	buf_free(&sealed);
	return err;
}

/* Seals and writes every new object of s (not yet durable: the caller syncs). */
static int write_objs(struct fs *fs, const struct objset *s)
{
	int err = 0;
	for (size_t k = 0; !err && k < s->n; k++)
		if (!oname_is_zero(&s->v[k].name))
			err = commit_write_meta(fs, &s->v[k].name, s->aad, &s->v[k].plain);
	return err;
}

/* The new objects of s to added, the ones they replace to the end of free (nolds). */
static int collect_objs(struct commit *c, const struct objset *s)
{
	int err = 0;
	for (size_t k = 0; !err && k < s->n; k++) {
		if (!oname_is_zero(&s->v[k].name))
			err = namelist_add(&c->added, &s->v[k].name);
		if (!err && !oname_is_zero(&s->v[k].old) &&
		    !(err = namelist_add(&c->free, &s->v[k].old)))
			c->nolds++;
	}
	return err;
}

/* The lists a commit hands on: what it freed (journaled for remote deletion) and added. */
static int collect_lists(struct commit *c)
{
	int err = 0;
	for (size_t k = 0; !err && k < c->sync.n; k++)
		err = namelist_add(&c->added, &c->sync.v[k]);
	if (!err)
		err = dirsplit_lists(&c->dirs, &c->added, &c->free, &c->nolds);
	if (!err)
		err = pack_lists(&c->packs, &c->added, &c->free, &c->nolds);
	if (!err)
		err = collect_objs(c, &c->pages);
	if (!err)
		err = collect_objs(c, &c->tables);
	return err;
}

static int write_commit(struct fs *fs, struct commit *c)
{
	int err = 0;
	if (c->sync.n > SYNC_ONE_BY_ONE)
		err = store_sync_all(fs->st); /* one syncfs beats hundreds of fdatasyncs */
	for (size_t k = 0; !err && c->sync.n <= SYNC_ONE_BY_ONE && k < c->sync.n; k++)
		err = store_obj_sync(fs->st, &c->sync.v[k]);
	if (!err)
		err = pack_write(fs, &c->packs);
	if (!err)
		err = write_objs(fs, &c->pages);
	if (!err)
		err = write_objs(fs, &c->tables);
	if (!err)
		err = dirsplit_write(fs, &c->dirs);
	if (!err)
		err = store_sync_objects(fs->st);
	if (!err)
		err = collect_lists(c);
	if (!err)
		err = cache_freed_append(fs->st, c->gen, c->free.v, c->free.n);
	if (err)
		return err;
	struct buf sealed = {0};
	uint8_t aad[ROOT_AAD_BYTES];
	root_aad(fs->vault_id, aad);
	err = meta_seal(fs->keys->root, aad, sizeof(aad), &c->root, &sealed);
	if (!err)
		err = cache_root_replace(fs->st, sealed.data, sealed.len);
	wipe_buf(&c->root);
	c->root = sealed;
	return err;
}

/* A failed commit: the new objects of s are removed (and their names forgotten). */
static void unlink_new(struct fs *fs, const struct objset *s)
{
	for (size_t k = 0; k < s->n; k++)
		if (!oname_is_zero(&s->v[k].name))
			store_obj_unlink(fs->st, &s->v[k].name);
}

static void objset_free(struct objset *s)
{
	for (size_t k = 0; k < s->n; k++)
		wipe_buf(&s->v[k].plain);
	free(s->v);
}

/* Called with mu held: the pages and tables take their new names, or (err) are dirty again. */
static void settle(struct fs *fs, struct commit *c, int err)
{
	for (size_t k = 0; k < c->pages.n; k++) {
		struct page *pg = &fs->pages[c->pages.v[k].idx];
		fs->ndirty += err && !pg->dirty;
		pg->dirty |= err != 0;
		pg->name = err ? pg->name : c->pages.v[k].name;
	}
	for (size_t k = 0; k < c->tables.n; k++) {
		struct ptable *t = &fs->tables[c->tables.v[k].idx];
		t->dirty |= err != 0;
		t->name = err ? t->name : c->tables.v[k].name;
	}
	if (err) {
		unlink_new(fs, &c->pages);
		unlink_new(fs, &c->tables);
	}
}

static void finish(struct fs *fs, struct commit *c, int err)
{
	pthread_rwlock_wrlock(&fs->freeze); /* no data request while chunks move to their packs */
	pthread_mutex_lock(&fs->mu);
	pack_finish(fs, &c->packs, err);
	settle(fs, c, err);
	dirsplit_finish(fs, &c->dirs, err);
	if (err) {
		fs->dirty = true;
		c->free.n -=
			c->nolds; /* the replaced pages and tables are still the durable ones */
		move_list(&fs->pending_free, &c->free);
		move_list(&fs->unsynced, &c->sync);
	}
	pthread_mutex_unlock(&fs->mu);
	pthread_rwlock_unlock(&fs->freeze);
	if (!err && fs->on_commit) {
		struct fs_commit_info info = {.gen = c->gen,
					      .root = c->root.data,
					      .root_len = c->root.len,
					      .added = c->added.v,
					      .nadded = c->added.n,
					      .freed = c->free.v,
					      .nfreed = c->free.n};
		fs->on_commit(fs->on_commit_arg, &info);
	}
	for (size_t k = 0; !err && k < c->free.n; k++)
		store_obj_unlink(fs->st, &c->free.v[k]);
	pack_cleanup(fs, &c->packs, err);
	objset_free(&c->pages);
	objset_free(&c->tables);
	namelist_free(&c->free);
	namelist_free(&c->sync);
	namelist_free(&c->added);
	wipe_buf(&c->root); /* the plaintext when the commit failed before sealing it */
}

static int commit_once(struct fs *fs)
{
	pthread_mutex_lock(&fs->commit_mu);
	pthread_rwlock_wrlock(&fs->freeze);
	pthread_mutex_lock(&fs->mu);
	struct commit c = {0};
	pages_trim(fs); /* before the capture: after it, captured pages await their new names */
	int err = fs->dirty ? capture(fs, &c) : 1;
	pthread_mutex_unlock(&fs->mu);
	pthread_rwlock_unlock(&fs->freeze);
	if (err == 0)
		err = write_commit(fs, &c);
	if (err <= 0)
		finish(fs, &c, err);
	if (err < 0)
		log_msg(LOG_ERR, "commit of generation %llu failed: %s",
			(unsigned long long)fs->gen, strerror(-err));
	pthread_mutex_unlock(&fs->commit_mu);
	return err < 0 ? err : 0;
}

/* A full disk must not keep a cache full for good: deleting files frees space only once a
 * commit records it, and a commit needs a little space. The reserve gives it that space once;
 * the next commit that succeeds (with space free again) takes the reserve back. */
int fs_commit(struct fs *fs)
{
	if (fs->readonly)
		return 0;
	int err = commit_once(fs);
	if (err == -ENOSPC && cache_reserve_release(fs->st) == 0) {
		log_msg(LOG_WARNING, "the cache's disk is full: this commit uses the space kept in "
				     "reserve; delete files to make room, or writes will fail");
		err = commit_once(fs);
	}
	if (!err)
		cache_reserve_fill(fs->st);
	return err;
}

/* The sync's one way to change the committed root: the published re-sealing of the same
 * commit (same generation and pages, another chain section). Under commit_mu no commit is
 * writing, and the root is replaced only while it is still exactly `expect`: a newer commit is
 * never clobbered, and the freed journal and pages are not touched. */
int fs_root_reseal(struct fs *fs, const void *expect, size_t elen, const void *root, size_t len)
{
	struct buf cur = {0};
	pthread_mutex_lock(&fs->commit_mu);
	int err = cache_root_read(fs->st, &cur);
	if (!err && (cur.len != elen || memcmp(cur.data, expect, elen) != 0))
		err = -ESTALE;
	if (!err)
		err = cache_root_replace(fs->st, root, len);
	pthread_mutex_unlock(&fs->commit_mu);
	buf_free(&cur);
	return err;
}

/* commit: turning the in-memory state into a durable root. The rename of root.tmp over root is
 * the one commit point: everything the new root names is fsynced before it, and nothing the old
 * root names is deleted before it. Loading a root back is load.c's.
 * Must never delete an object that the durable root names, never write a root whose objects
 * are not all durable, and never free a page's or root's plaintext unwiped. */
#include "fs/fs.h"
#include "cache/files.h"
#include "cache/freed.h"
#include "cache/reserve.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include "format/meta.h"
#include "format/page.h"
#include "format/root.h"
#include "lib/log.h"
#include "lib/buf.h"

#define SYNC_ONE_BY_ONE 8

struct new_page {
	size_t idx;
	struct oname name; /* zero when the page has no live inode left */
	struct oname old;  /* the name it replaces (zero: none) */
	struct buf plain;
};

struct commit {
	uint64_t gen;
	struct new_page *pages;
	size_t npages;
	struct namelist sync; /* staging chunks frozen by this commit */
	struct namelist free; /* objects the new root no longer names: deleted once it is durable */
	struct namelist added; /* objects the new root names and the old one did not */
	struct buf root;       /* root plaintext, then the sealed root */
	size_t nolds;	       /* replaced page names at the end of free */
};

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
		struct inode *i = inode_get(fs, ino);
		for (size_t k = 0; i && i->nlink && k < i->nch; k++)
			if (i->ch[k].state == CH_STAGING) {
				if (namelist_add(&c->sync, &i->ch[k].name))
					return -ENOMEM;
				i->ch[k].state = CH_SEALED;
			}
	}
	return 0;
}

static void count_live(void *val, void *arg)
{
	struct inode *i = val;
	struct fs *fs = arg;
	if (i->nlink == 0)
		return;
	fs->live_inodes++;
	if (S_ISREG(i->mode))
		fs->live_bytes += i->size;
}

/* Captures the dirty state; called with freeze held exclusively and mu held. */
static int capture(struct fs *fs, struct commit *c)
{
	size_t n = 0;
	for (size_t p = 0; p < fs->npages; p++)
		n += fs->pages[p].dirty;
	struct oname *names = calloc(fs->npages ? fs->npages : 1, sizeof(*names));
	c->pages = calloc(n ? n : 1, sizeof(*c->pages));
	if (!names || !c->pages) {
		free(names);
		return -ENOMEM;
	}
	for (size_t p = 0; p < fs->npages; p++) {
		names[p] = fs->pages[p].name;
		if (!fs->pages[p].dirty)
			continue;
		struct new_page *np = &c->pages[c->npages++];
		np->idx = p;
		np->old = fs->pages[p].name;
		page_serialize(fs, p, &np->plain);
		fit_buf(&np->plain);
		if (page_record_count(np->plain.data, np->plain.len) > 0)
			oname_new(&np->name);
		names[p] = np->name;
		if (np->plain.err || freeze_page_chunks(fs, p, c)) {
			free(names);
			return -ENOMEM;
		}
	}
	c->gen = ++fs->gen;
	fs->live_inodes = fs->live_bytes = 0;
	inode_each(fs->inodes, count_live, fs);
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	fs->root_time = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
	root_serialize(fs, names, &c->root);
	free(names);
	if (c->root.err)
		return -ENOMEM;
	for (size_t k = 0; k < c->npages; k++)
		fs->pages[c->pages[k].idx].dirty = false;
	move_list(&c->free, &fs->pending_free);
	move_list(&c->sync, &fs->unsynced);
	fs->dirty = false;
	return 0;
}

static int write_pages(struct fs *fs, struct commit *c)
{
	for (size_t k = 0; k < c->npages; k++) {
		struct new_page *np = &c->pages[k];
		if (oname_is_zero(&np->name))
			continue;
		struct buf sealed = {0};
		uint8_t aad[PAGE_AAD_BYTES];
		page_aad(&np->name, aad);
		int err = meta_seal(fs->keys->meta, aad, sizeof(aad), &np->plain, &sealed);
		if (!err)
			err = store_obj_write(fs->st, &np->name, sealed.data, sealed.len);
		buf_free(&sealed);
		if (err)
			return err;
	}
	return 0;
}

/* The lists a commit hands on: what it freed (journaled for remote deletion) and added. */
static int collect_lists(struct commit *c)
{
	int err = 0;
	for (size_t k = 0; !err && k < c->sync.n; k++)
		err = namelist_add(&c->added, &c->sync.v[k]);
	for (size_t k = 0; !err && k < c->npages; k++) {
		if (!oname_is_zero(&c->pages[k].name))
			err = namelist_add(&c->added, &c->pages[k].name);
		if (!err && !oname_is_zero(&c->pages[k].old) &&
		    !(err = namelist_add(&c->free, &c->pages[k].old)))
			c->nolds++;
	}
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
		err = write_pages(fs, c);
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

static void finish(struct fs *fs, struct commit *c, int err)
{
	pthread_mutex_lock(&fs->mu);
	for (size_t k = 0; k < c->npages; k++) {
		struct page *pg = &fs->pages[c->pages[k].idx];
		if (err) {
			pg->dirty = true;
			if (!oname_is_zero(&c->pages[k].name))
				store_obj_unlink(fs->st, &c->pages[k].name);
		} else {
			pg->name = c->pages[k].name;
		}
	}
	if (err) {
		fs->dirty = true;
		c->free.n -= c->nolds; /* the replaced pages are still the durable ones */
		move_list(&fs->pending_free, &c->free);
		move_list(&fs->unsynced, &c->sync);
	}
	pthread_mutex_unlock(&fs->mu);
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
	for (size_t k = 0; k < c->npages; k++)
		wipe_buf(&c->pages[k].plain);
	free(c->pages);
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

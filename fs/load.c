/* load: reading a durable root and the inode pages it names back into memory: at mount, and on
 * read-only mounts that follow a writer (fs_reload). Missing pages are fetched here, always with
 * no filesystem lock held; a reload swaps the new tree in under the locks only once it is built.
 * Must never install a tree whose root failed authentication, nor half a page. */
#include "fs/core.h"
#include "fs/fs.h"
#include "cache/files.h"
#include "cache/freed.h"
#include "format/meta.h"
#include "format/page.h"
#include "format/root.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include "lib/log.h"
#include "lib/buf.h"

/* Reads and opens the cached page object n into plain; *size gets the object's bytes. */
static int open_page(struct fs *fs, const struct oname *n, struct buf *plain, size_t *size)
{
	struct buf obj = {0};
	uint8_t aad[PAGE_AAD_BYTES];
	page_aad(n, aad);
	int err = store_obj_read(fs->st, n, &obj);
	*size = obj.len;
	if (!err)
		err = meta_open(fs->keys->meta, aad, sizeof(aad), obj.data, obj.len, plain);
	buf_free(&obj);
	return err;
}

static int load_page(struct fs *fs, size_t p, size_t *size)
{
	struct buf plain = {0};
	const struct obj_want w = {.kind = OBJ_PAGE};
	int err = store_obj_ensure(fs->st, &fs->pages[p].name, &w);
	if (!err)
		err = open_page(fs, &fs->pages[p].name, &plain, size);
	if (err == -EBADMSG && !store_obj_refetch(fs->st, &fs->pages[p].name, &w)) {
		buf_free(&plain); /* the cache's copy was damaged: the vault's replaced it */
		err = open_page(fs, &fs->pages[p].name, &plain, size);
	}
	if (!err)
		err = page_deserialize(fs, p, plain.data, plain.len);
	if (err) {
		char hex[2 * NAME_BYTES + 1];
		oname_hex(&fs->pages[p].name, hex);
		log_msg(LOG_ERR,
			"integrity error: inode page %zu (inodes %zu-%zu, object %s) is %s", p,
			p * PAGE_INODES, p * PAGE_INODES + PAGE_INODES - 1, hex,
			err == -ENOENT ? "missing" : "damaged");
		fs->pages[p].bad = true;
	}
	buf_free(&plain);
	return err;
}

static void set_parents(void *val, void *arg)
{
	struct inode *d = val;
	struct fs *fs = arg;
	size_t pos = 0;
	struct dent *e;
	while (d->dir && (e = dir_next(d->dir, &pos))) {
		struct inode *c = inode_get(fs, e->ino);
		if (c && !c->parent)
			c->parent = d->ino;
	}
}

static int fresh_root(struct fs *fs, uid_t uid, gid_t gid)
{
	struct inode *r = inode_new(ROOT_INO, S_IFDIR | 0755);
	if (!r || inode_insert(fs, r))
		return -ENOMEM;
	r->uid = uid;
	r->gid = gid;
	r->nlink = 2;
	clock_gettime(CLOCK_REALTIME, &r->mtime);
	r->atime = r->ctime = r->mtime;
	fs->next_ino = ROOT_INO + 1;
	inode_touch_page(fs, ROOT_INO);
	return 0;
}

void fs_set_load_progress(struct fs *fs, void (*fn)(void *arg, const struct fs_load_progress *p),
			  void *arg)
{
	fs->on_load = fn;
	fs->on_load_arg = arg;
}

/* Every page the root names (a page that fails is marked bad and logged by load_page), telling
 * on_load how far it came. */
static void load_pages(struct fs *fs)
{
	struct fs_load_progress pr = {0};
	for (size_t p = 0; p < fs->npages; p++)
		pr.pages_total += !oname_is_zero(&fs->pages[p].name);
	for (size_t p = 0; p < fs->npages; p++) {
		if (oname_is_zero(&fs->pages[p].name))
			continue;
		bool fetch = !store_obj_cached(fs->st, &fs->pages[p].name);
		size_t size = 0;
		load_page(fs, p, &size);
		pr.pages_done++;
		pr.fetched += fetch;
		pr.fetched_bytes += fetch ? size : 0;
		pr.done = pr.pages_done == pr.pages_total;
		if (fs->on_load)
			fs->on_load(fs->on_load_arg, &pr);
	}
}

/* Opens the sealed root and loads the tree it names (pages fetched as needed). */
static int load_sealed(struct fs *fs, const void *sealed, size_t len)
{
	struct buf plain = {0};
	uint8_t aad[ROOT_AAD_BYTES];
	root_aad(fs->vault_id, aad);
	int err = meta_open(fs->keys->root, aad, sizeof(aad), sealed, len, &plain) ? -EBADMSG : 0;
	if (!err)
		err = root_deserialize(fs, plain.data, plain.len) ? -EBADMSG : 0;
	buf_free(&plain);
	if (err)
		return err;
	load_pages(fs);
	inode_each(fs->inodes, set_parents, fs);
	return inode_get(fs, ROOT_INO) ? 0 : -EBADMSG;
}

int fs_load_root(struct fs *fs, const void *sealed, size_t len)
{
	return load_sealed(fs, sealed, len);
}

int fs_load(struct fs *fs, uid_t uid, gid_t gid)
{
	struct buf obj = {0};
	int err = cache_root_read(fs->st, &obj);
	if (err == -ENOENT) {
		buf_free(&obj);
		return fresh_root(fs, uid, gid);
	}
	if (!err)
		err = load_sealed(fs, obj.data, obj.len);
	buf_free(&obj);
	if (!err && !fs->readonly)
		cache_freed_trim(fs->st, fs->gen); /* records of commits that never happened */
	return err;
}

/* Moves the tree loaded into src (inodes, pages, the root's header) into dst, and dst's old tree
 * into src; called with dst's freeze held exclusively and its mu held. */
static void swap_tree(struct fs *dst, struct fs *src)
{
	struct inode_table *inodes = dst->inodes;
	struct page *pages = dst->pages;
	size_t npages = dst->npages;
	dst->inodes = src->inodes;
	dst->pages = src->pages;
	dst->npages = src->npages;
	dst->gen = src->gen;
	dst->root_time = src->root_time;
	dst->next_ino = src->next_ino;
	dst->live_inodes = src->live_inodes;
	dst->live_bytes = src->live_bytes;
	src->inodes = inodes;
	src->pages = pages;
	src->npages = npages;
}

/* The new tree loads (and its pages are fetched) into a scratch fs with no lock held; the locks
 * are taken only to swap it in. On an error the old tree stays, untouched. */
int fs_reload(struct fs *fs)
{
	struct fs next = {.st = fs->st, .keys = fs->keys, .readonly = fs->readonly};
	memcpy(next.vault_id, fs->vault_id, sizeof(next.vault_id));
	if (!(next.inodes = inode_table_new()))
		return -ENOMEM;
	int err = fs_load(&next, 0, 0);
	if (!err) {
		pthread_rwlock_wrlock(&fs->freeze);
		pthread_mutex_lock(&fs->mu);
		swap_tree(fs, &next);
		pthread_mutex_unlock(&fs->mu);
		pthread_rwlock_unlock(&fs->freeze);
	}
	inode_table_free(next.inodes); /* the old tree, or the one that failed to load */
	free(next.pages);
	return err;
}

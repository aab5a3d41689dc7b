/* load: reading a durable root, the page tables and inode pages it names back into memory: at
 * mount, and on read-only mounts that follow a writer (fs_reload). Missing objects are fetched
 * here, always with no filesystem lock held; a reload swaps the new tree in under the locks only
 * once it is built.
 * Must never install a tree whose root failed authentication, nor half a page, nor a page name
 * that a table at another position gave. */
#include "fs/core.h"
#include "fs/fs.h"
#include "fs/pack.h"
#include "fs/dirsplit.h"
#include "fs/metaobj.h"
#include "cache/files.h"
#include "cache/freed.h"
#include "format/meta.h"
#include "format/nametab.h"
#include "format/page.h"
#include "format/root.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include "lib/log.h"
#include "lib/buf.h"

/* Reads page table t of the version 3 root r into r's page names; a table that is missing, does
 * not open or is not the one at its position is bad (logged): its pages stay unknown. */
static int load_table(struct fs *fs, struct root_plain *r, uint32_t t)
{
	struct buf plain = {0};
	struct nametab_plain *tab = calloc(1, sizeof(*tab));
	int err = tab ? metaobj_open(fs, &r->tables[t], OBJ_TABLE, true, &plain, NULL) : -ENOMEM;
	if (!err && (nametab_decode(plain.data, plain.len, tab) || root_fill_table(r, t, tab)))
		err = -EBADMSG;
	if (err) {
		char hex[2 * NAME_BYTES + 1];
		uint64_t first = (uint64_t)t * NAMETAB_MAX * PAGE_INODES;
		oname_hex(&r->tables[t], hex);
		log_msg(LOG_ERR,
			"integrity error: page table %u (inode pages %llu-%llu, inodes %llu-%llu, "
			"object %s) is %s: those inodes cannot be read",
			t, (unsigned long long)t * NAMETAB_MAX,
			(unsigned long long)t * NAMETAB_MAX + NAMETAB_MAX - 1,
			(unsigned long long)first,
			(unsigned long long)(first + NAMETAB_MAX * PAGE_INODES - 1), hex,
			err == -ENOENT ? "missing" : "damaged");
		fs->tables[t].bad = true;
	}
	free(tab);
	metaobj_free(&plain);
	return err;
}

/* Decodes the root payload into fs and reads its page tables (version 3) for the page names. */
static int load_root_pages(struct fs *fs, const unsigned char *p, size_t len)
{
	struct root_plain r;
	int err = ptables_root_decode(fs, p, len, &r);
	if (err)
		return err;
	for (uint32_t t = 0; t < r.ntables; t++)
		if (!oname_is_zero(&r.tables[t]))
			load_table(fs, &r, t);
	err = ptables_set_pages(fs, &r);
	root_plain_free(&r);
	return err;
}

/* Parents of what the pages read gave none: the directories in memory name their children. */
static void set_parents(void *val, void *arg)
{
	inode_adopt_children(arg, val);
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

/* Every page the root names, read once (fetched when missing; a page that fails is marked bad
 * and logged by page_load), telling on_load how far it came; no more than the page budget stay
 * in memory. */
static bool load_pages(struct fs *fs, fs_page_fn each, void *arg)
{
	bool root = false;
	struct fs_load_progress pr = {0};
	for (size_t p = 0; p < fs->npages; p++)
		pr.pages_total += !oname_is_zero(&fs->pages[p].name);
	for (size_t p = 0; p < fs->npages; p++) {
		if (oname_is_zero(&fs->pages[p].name))
			continue;
		bool fetch = !store_obj_cached(fs->st, &fs->pages[p].name);
		size_t size = 0;
		if (!fs->pages[p].resident && page_load(fs, p, true, &size) == 0) {
			pack_count_page(fs, p);
			if (each)
				each(fs, p, arg);
			root |= p == ROOT_INO / PAGE_INODES && inode_peek(fs, ROOT_INO);
		}
		if (fs->page_budget && fs->nresident > fs->page_budget)
			pages_trim(fs);
		pr.pages_done++;
		pr.fetched += fetch;
		pr.fetched_bytes += fetch ? size : 0;
		pr.done = pr.pages_done == pr.pages_total;
		if (fs->on_load)
			fs->on_load(fs->on_load_arg, &pr);
	}
	return root;
}

/* Opens the sealed root and loads the tree it names (pages fetched as needed). */
static int load_sealed(struct fs *fs, const void *sealed, size_t len, fs_page_fn each, void *arg)
{
	struct buf plain = {0};
	uint8_t aad[ROOT_AAD_BYTES];
	root_aad(fs->vault_id, aad);
	int err = meta_open(fs->keys->root, aad, sizeof(aad), sealed, len, &plain) ? -EBADMSG : 0;
	if (!err)
		err = load_root_pages(fs, plain.data, plain.len);
	if (err && err != -EPROTONOSUPPORT && err != -ENOMEM)
		err = -EBADMSG;
	buf_free(&plain);
	if (err)
		return err;
	if (pack_load_begin(fs))
		return -ENOMEM;
	bool root = load_pages(fs, each, arg);
	pack_load_end(fs);
	inode_each(fs->inodes, set_parents, fs);
	return root ? 0 : -EBADMSG;
}

static void dir_bad_of(void *val, void *arg)
{
	dirsplit_objects(val, NULL, NULL, arg);
}

int fs_load_root(struct fs *fs, const void *sealed, size_t len)
{
	int err = load_sealed(fs, sealed, len, NULL, NULL);
	bool bad = false;
	if (!err)
		inode_each(fs->inodes, dir_bad_of, &bad); /* every page stays: no budget here */
	return !err && bad ? -EIO : err;		  /* never merge half a directory */
}

int fs_load(struct fs *fs, uid_t uid, gid_t gid, fs_page_fn each, void *arg)
{
	struct buf obj = {0};
	int err = cache_root_read(fs->st, &obj);
	if (err == -ENOENT) {
		buf_free(&obj);
		return fresh_root(fs, uid, gid);
	}
	if (!err)
		err = load_sealed(fs, obj.data, obj.len, each, arg);
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
	struct ptable *tables = dst->tables;
	size_t ntables = dst->ntables;
	dst->inodes = src->inodes;
	dst->pages = src->pages;
	dst->npages = src->npages;
	dst->tables = src->tables;
	dst->ntables = src->ntables;
	dst->gen = src->gen;
	dst->root_time = src->root_time;
	dst->next_ino = src->next_ino;
	dst->live_inodes = src->live_inodes;
	dst->live_bytes = src->live_bytes;
	size_t nresident = dst->nresident;
	dst->nresident = src->nresident;
	src->nresident = nresident;
	struct packs *packs = dst->packs;
	dst->packs = src->packs;
	src->packs = packs;
	src->inodes = inodes;
	src->pages = pages;
	src->npages = npages;
	src->tables = tables;
	src->ntables = ntables;
}

/* The new tree loads (and its pages are fetched) into a scratch fs with no lock held; the locks
 * are taken only to swap it in. On an error the old tree stays, untouched. */
int fs_reload(struct fs *fs)
{
	struct fs next = {.st = fs->st,
			  .keys = fs->keys,
			  .readonly = fs->readonly,
			  .page_budget = fs->page_budget};
	memcpy(next.vault_id, fs->vault_id, sizeof(next.vault_id));
	if (!(next.inodes = inode_table_new()))
		return -ENOMEM;
	int err = fs_load(&next, 0, 0, NULL, NULL);
	if (!err) {
		pthread_rwlock_wrlock(&fs->freeze);
		pthread_mutex_lock(&fs->mu);
		swap_tree(fs, &next);
		pthread_mutex_unlock(&fs->mu);
		pthread_rwlock_unlock(&fs->freeze);
	}
	inode_table_free(next.inodes); /* the old tree, or the one that failed to load */
	free(next.pages);
	pack_table_free(next.packs);
	free(next.tables);
	held_free(&next);
	return err;
}

/* resident: which inode pages are in memory. The mount reads every page once (load.c, fetching
 * what the cache lacks, and marking each page's object kept in the cache); after that a page
 * that is not in memory is read back from the cache when one of its inodes is asked for
 * (inode_get), and the least recently used clean pages are dropped (pages_trim) whenever more
 * than page_budget are in memory, so that memory follows the pages in use and not the tree.
 * What the kernel holds of a dropped inode (its lookup count and a parent) is kept in the held
 * table and given back when its page returns.
 * Must never drop a page that holds what its object does not (a change not yet committed, an
 * unlinked file still open, a write error not yet reported, a directory being listed), never
 * drop one while a thread may hold a pointer into it (only under freeze held exclusively and
 * mu), and never fetch from the vault: the caller may hold any lock. */
#include "fs/fs.h"
#include "fs/dirsplit.h"
#include "fs/metaobj.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include "lib/log.h"

/* An inode of a dropped page that the kernel still holds: open addressing on ino (0: free). */
struct held_ent {
	uint64_t ino, nlookup, parent;
};

struct held {
	struct held_ent *v;
	size_t cap, n; /* cap: a power of two, or 0 */
};

static size_t held_slot(const struct held *h, uint64_t ino)
{
	size_t k = (size_t)(ino * 0x9e3779b97f4a7c15ull) & (h->cap - 1);
	while (h->v[k].ino && h->v[k].ino != ino)
		k = (k + 1) & (h->cap - 1);
	return k;
}

/* Room for `more` entries beyond the table's count (kept at most half full). */
static int held_grow(struct fs *fs, size_t more)
{
	struct held *h = fs->held;
	if (!h && !(h = fs->held = calloc(1, sizeof(*h))))
		return -ENOMEM;
	if ((h->n + more) * 2 <= h->cap)
		return 0;
	struct held old = *h;
	h->cap = old.cap ? old.cap : 1024;
	while ((h->n + more) * 2 > h->cap)
		h->cap *= 2;
	if (!(h->v = calloc(h->cap, sizeof(*h->v)))) {
		*h = old;
		return -ENOMEM;
	}
	for (size_t k = 0; k < old.cap; k++)
		if (old.v[k].ino)
			h->v[held_slot(h, old.v[k].ino)] = old.v[k];
	free(old.v);
	return 0;
}

/* Removes slot k, shifting back the entries that probed past it (no tombstones). */
static void held_del(struct held *h, size_t k)
{
	h->v[k].ino = 0;
	h->n--;
	for (size_t j = (k + 1) & (h->cap - 1); h->v[j].ino; j = (j + 1) & (h->cap - 1)) {
		struct held_ent e = h->v[j];
		h->v[j].ino = 0;
		h->v[held_slot(h, e.ino)] = e;
	}
}

static struct held_ent *held_find(const struct fs *fs, uint64_t ino)
{
	const struct held *h = fs->held;
	if (!h || !h->n)
		return NULL;
	size_t k = held_slot(h, ino);
	return h->v[k].ino ? &h->v[k] : NULL;
}

bool held_forget(struct fs *fs, uint64_t ino, uint64_t n)
{
	struct held_ent *e = held_find(fs, ino);
	if (!e)
		return false;
	e->nlookup = n > e->nlookup ? 0 : e->nlookup - n;
	if (!e->nlookup)
		held_del(fs->held, (size_t)(e - fs->held->v));
	return true;
}

void held_free(struct fs *fs)
{
	if (fs->held)
		free(fs->held->v);
	free(fs->held);
	fs->held = NULL;
}

void page_count(struct fs *fs, size_t p)
{
	struct page *pg = &fs->pages[p];
	pg->live = 0;
	pg->bytes = 0;
	for (uint64_t ino = (uint64_t)p * PAGE_INODES; ino < (uint64_t)(p + 1) * PAGE_INODES;
	     ino++) {
		const struct inode *i = inode_peek(fs, ino);
		if (!i || !i->nlink)
			continue;
		pg->live++;
		pg->bytes += S_ISREG(i->mode) ? i->size : 0;
	}
}

/* A page just read: what the held table kept of its inodes, the parents of its directories'
 * children that are in memory, its counts. */
static void page_settle_in(struct fs *fs, size_t p)
{
	for (uint64_t ino = (uint64_t)p * PAGE_INODES; ino < (uint64_t)(p + 1) * PAGE_INODES;
	     ino++) {
		struct inode *i = inode_peek(fs, ino);
		struct held_ent *e = i ? held_find(fs, ino) : NULL;
		if (e) {
			i->nlookup = e->nlookup;
			i->parent = e->parent;
			held_del(fs->held, (size_t)(e - fs->held->v));
		}
		if (i)
			inode_adopt_children(fs, i);
	}
	page_count(fs, p);
	fs->pages[p].resident = true;
	fs->nresident++;
}

static void log_bad_page(struct fs *fs, size_t p, int err)
{
	char hex[2 * NAME_BYTES + 1];
	oname_hex(&fs->pages[p].name, hex);
	log_msg(LOG_ERR, "integrity error: inode page %zu (inodes %zu-%zu, object %s) is %s", p,
		p * PAGE_INODES, p * PAGE_INODES + PAGE_INODES - 1, hex,
		err == -ENOENT ? "missing"
		: err == -EPROTONOSUPPORT
			? "of a newer format than this coffer reads (upgrade coffer)"
			: "damaged");
}

int page_load(struct fs *fs, size_t p, bool fetch, size_t *size)
{
	struct buf plain = {0};
	int err = metaobj_open(fs, &fs->pages[p].name, OBJ_PAGE, fetch, &plain, size);
	if (!err)
		err = page_deserialize(fs, p, plain.data, plain.len);
	metaobj_free(&plain);
	if (err) {
		log_bad_page(fs, p, err);
		fs->pages[p].bad = true;
		return err;
	}
	page_settle_in(fs, p);
	dirsplit_load_page(fs, p, fetch);
	return 0;
}

/* Whether page p has an object whose inodes are not in memory (and can be read). */
static bool page_absent(const struct fs *fs, size_t p)
{
	if (p >= fs->npages)
		return false;
	const struct page *pg = &fs->pages[p];
	return !pg->resident && !pg->bad && !oname_is_zero(&pg->name);
}

struct inode *inode_get(struct fs *fs, uint64_t ino)
{
	size_t p = (size_t)(ino / PAGE_INODES);
	if (p < fs->npages) {
		if (page_absent(fs, p))
			page_load(fs, p, false, NULL);
		fs->pages[p].used = ++fs->tick;
	}
	return inode_peek(fs, ino);
}

int page_need(struct fs *fs, size_t p)
{
	if (page_absent(fs, p))
		page_load(fs, p, false, NULL);
	return p < fs->npages && fs->pages[p].bad ? -EIO : 0;
}

/* Whether page p holds only what its object holds, with no one using it: it may be dropped. */
static bool page_droppable(const struct fs *fs, size_t p)
{
	const struct page *pg = &fs->pages[p];
	if (!pg->resident || pg->dirty || pg->bad || oname_is_zero(&pg->name))
		return false;
	for (uint64_t ino = (uint64_t)p * PAGE_INODES; ino < (uint64_t)(p + 1) * PAGE_INODES;
	     ino++) {
		const struct inode *i = inode_peek(fs, ino);
		if (!i)
			continue;
		if (!i->nlink || __atomic_load_n(&i->werr, __ATOMIC_RELAXED) ||
		    (i->dir && (i->dir->opens || (i->dir->split && i->dir->split->ndirty))))
			return false;
		for (size_t k = 0; k < i->nch; k++)
			if (i->ch[k].state == CH_STAGING)
				return false;
	}
	return true;
}

/* Drops page p's inodes; what the kernel holds of them goes to the held table (out of memory
 * for that: the page stays, whole). */
static void page_drop(struct fs *fs, size_t p)
{
	const uint64_t first = (uint64_t)p * PAGE_INODES;
	size_t held = 0;
	for (uint64_t ino = first; ino < first + PAGE_INODES; ino++) {
		const struct inode *i = inode_peek(fs, ino);
		held += i && i->nlookup;
	}
	if (held && held_grow(fs, held))
		return;
	for (uint64_t ino = first; ino < first + PAGE_INODES; ino++) {
		struct inode *i = inode_peek(fs, ino);
		if (i && i->nlookup) {
			struct held *h = fs->held;
			h->v[held_slot(h, ino)] = (struct held_ent){ino, i->nlookup, i->parent};
			h->n++;
		}
		if (i)
			inode_free(inode_remove(fs, ino));
	}
	fs->pages[p].resident = false;
	fs->nresident--;
}

static int by_use(const void *a, const void *b, void *arg)
{
	const struct page *v = arg;
	uint64_t x = v[*(const size_t *)a].used, y = v[*(const size_t *)b].used;
	return x < y ? -1 : x > y;
}

void pages_trim(struct fs *fs)
{
	size_t n = 0, *v;
	fs->nresident = 0;
	for (size_t p = 0; p < fs->npages; p++)
		fs->nresident += fs->pages[p].resident && !oname_is_zero(&fs->pages[p].name);
	if (!fs->page_budget || fs->nresident <= fs->page_budget ||
	    !(v = malloc(fs->nresident * sizeof(*v) + 1)))
		return;
	for (size_t p = 0; p < fs->npages; p++)
		if (page_droppable(fs, p))
			v[n++] = p;
	qsort_r(v, n, sizeof(*v), by_use, fs->pages);
	/* an eighth below the budget: a trim walks every resident page, so it must not run after
	 * every page read */
	size_t target = fs->page_budget - fs->page_budget / 8;
	for (size_t k = 0; k < n && fs->nresident > target; k++)
		page_drop(fs, v[k]);
	free(v);
}

int inode_scan(struct fs *fs, void (*fn)(void *inode, void *arg), void *arg)
{
	int err = 0;
	for (size_t p = 0; p < fs->npages; p++) {
		bool read = p < fs->npages && page_absent(fs, p);
		if (read && page_load(fs, p, false, NULL) && !err)
			err = -EIO;
		for (uint64_t ino = (uint64_t)p * PAGE_INODES;
		     ino < (uint64_t)(p + 1) * PAGE_INODES; ino++) {
			struct inode *i = inode_peek(fs, ino);
			if (i)
				fn(i, arg);
		}
		if (read && fs->page_budget && page_droppable(fs, p))
			page_drop(fs, p);
	}
	return err;
}

bool pages_over_budget(const struct fs *fs)
{
	return fs->page_budget && fs->nresident > fs->page_budget + fs->page_budget / 4;
}

void fs_trim(struct fs *fs)
{
	if (pthread_mutex_trylock(&fs->commit_mu))
		return; /* a commit is running: it trims before its next capture */
	pthread_rwlock_wrlock(&fs->freeze);
	pthread_mutex_lock(&fs->mu);
	pages_trim(fs);
	pthread_mutex_unlock(&fs->mu);
	pthread_rwlock_unlock(&fs->freeze);
	pthread_mutex_unlock(&fs->commit_mu);
}

void fs_set_page_budget(struct fs *fs, size_t pages)
{
	fs->page_budget = pages;
}

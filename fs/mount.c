/* mount: the life of a mounted filesystem: open, load and clean the cache, the periodic
 * committer thread (one per fs), the hooks the sync uses, and teardown.
 * Must never delete an object while any page or page table of the root could not be read (its
 * chunks are unknown: a bad table's pages are bad), and never run a commit on a read-only
 * mount. */
#include "fs/core.h"
#include "fs/fs.h"
#include "fs/dirsplit.h"
#include "fs/pack.h"
#include "fs/fdcache.h"
#include "cache/reserve.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include "lib/log.h"

struct committer {
	struct fs *fs;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned seconds;
	bool stop, soon; /* soon: commit now (fs_commit_soon), then wait the interval again */
};

int fs_open(struct fs **out, struct store *st, struct keyring *keys, const uint8_t vault_id[16],
	    bool readonly)
{
	struct fs *fs = calloc(1, sizeof(*fs));
	if (!fs || !(fs->inodes = inode_table_new())) {
		free(fs);
		return -ENOMEM;
	}
	fs->st = st;
	fs->fdc = fdcache_new(st); /* NULL only out of memory: then every request opens its own */
	fs->keys = keys;
	fs->readonly = readonly;
	memcpy(fs->vault_id, vault_id, 16);
	pthread_rwlock_init(&fs->freeze, NULL);
	inode_io_init(fs);
	pthread_mutex_init(&fs->mu, NULL);
	pthread_mutex_init(&fs->commit_mu, NULL);
	*out = fs;
	return 0;
}

void fs_set_workers(struct fs *fs, struct workers *w)
{
	fs->workers = w;
}

void fs_close(struct fs *fs)
{
	if (!fs)
		return;
	fs_stop_committer(fs);
	fdcache_free(fs->fdc);
	inode_table_free(fs->inodes);
	free(fs->pages);
	free(fs->tables);
	namelist_free(&fs->pending_free);
	namelist_free(&fs->unsynced);
	namelist_free(&fs->damaged);
	namelist_free(&fs->reached);
	pack_table_free(fs->packs);
	held_free(fs);
	pthread_rwlock_destroy(&fs->freeze);
	inode_io_destroy(fs);
	pthread_mutex_destroy(&fs->mu);
	pthread_mutex_destroy(&fs->commit_mu);
	free(fs);
}

uint64_t fs_generation(struct fs *fs)
{
	pthread_mutex_lock(&fs->mu);
	uint64_t g = fs->gen;
	pthread_mutex_unlock(&fs->mu);
	return g;
}

/* The object names that the loaded root reaches (copies: the pages are read and dropped one by
 * one), gathered while the mount reads its pages, sorted once they all were. */
struct reach {
	struct namelist names;
	struct fs *fs;
	long removed;
	int err;
	bool bad; /* a split directory failed to load: its objects are unknown */
};

static int reach_name(const struct oname *n, void *arg)
{
	struct reach *r = arg;
	if (!oname_is_zero(n) && namelist_add(&r->names, n))
		r->err = -ENOMEM;
	return r->err;
}

static void add_inode(struct reach *r, const struct inode *i)
{
	for (size_t k = 0; !r->err && k < i->nch; k++) {
		const struct chunk *c = &i->ch[k];
		if (c->state != CH_HOLE)
			reach_name(oname_is_zero(&c->pack) ? &c->name : &c->pack, r);
	}
	if (!r->err)
		dirsplit_objects(i, reach_name, r, &r->bad);
}

/* The load's hook: the objects page p's inodes name. */
static void reach_page(struct fs *fs, size_t p, void *arg)
{
	for (uint64_t ino = (uint64_t)p * PAGE_INODES; ino < (uint64_t)(p + 1) * PAGE_INODES;
	     ino++) {
		const struct inode *i = inode_peek(fs, ino);
		if (i)
			add_inode(arg, i);
	}
}

static int by_name(const void *a, const void *b)
{
	return memcmp(a, b, NAME_BYTES);
}

/* The pages' and tables' names, then sorted without repeats (a pack is named by each of its
 * chunks). */
static int reach_finish(struct fs *fs, struct reach *r)
{
	for (size_t p = 0; p < fs->npages; p++)
		reach_name(&fs->pages[p].name, r);
	for (size_t t = 0; t < fs->ntables; t++)
		reach_name(&fs->tables[t].name, r);
	struct namelist *l = &r->names;
	if (l->n)
		qsort(l->v, l->n, sizeof(*l->v), by_name);
	size_t n = 0;
	for (size_t k = 0; k < l->n; k++)
		if (!n || by_name(&l->v[k], &l->v[n - 1]))
			l->v[n++] = l->v[k];
	l->n = n;
	return r->err;
}

static int remove_unreached(const struct oname *n, void *arg)
{
	struct reach *r = arg;
	if ((!r->names.n || !bsearch(n, r->names.v, r->names.n, sizeof(*r->names.v), by_name)) &&
	    store_obj_unlink(r->fs->st, n) == 0)
		r->removed++;
	return 0;
}

/* Deletes staging leftovers and half-written commits: objects the root does not reach. */
static int collect_garbage(struct fs *fs, struct reach *r)
{
	for (size_t p = 0; p < fs->npages; p++)
		if (fs->pages[p].bad)
			return 0;
	if (r->bad) /* the buckets of a directory whose table failed are unknown */
		return 0;
	store_clean_temp(fs->st);
	int err = store_each(fs->st, remove_unreached, r);
	if (r->removed)
		log_msg(LOG_INFO,
			"removed %ld unreferenced objects (an interrupted commit, or a root adopted from the vault)",
			r->removed);
	return err;
}

int fs_mount_load(struct fs *fs, uid_t uid, gid_t gid)
{
	struct reach r = {.fs = fs};
	int err = fs_load(fs, uid, gid, fs->readonly ? NULL : reach_page, &r);
	if (!err && !fs->readonly && !(err = reach_finish(fs, &r)))
		err = collect_garbage(fs, &r);
	if (!err && !fs->readonly)
		cache_reserve_fill(fs->st); /* best effort: a full disk still mounts */
	if (!err)
		pages_trim(fs); /* what the load read beyond the budget */
	uint64_t loaded = fs->gen;
	if (!err && fs->dirty)
		err = fs_commit(fs);
	if (!err && !fs->readonly && fs->gen == loaded && !r.bad) { /* fs_each_object's, once */
		fs->reached = r.names;
		fs->reached_gen = fs->gen;
		r.names = (struct namelist){0};
	}
	namelist_free(&r.names);
	return err;
}

static void *committer_main(void *arg)
{
	struct committer *c = arg;
	pthread_mutex_lock(&c->mu);
	while (!c->stop) {
		struct timespec t;
		clock_gettime(CLOCK_REALTIME, &t);
		t.tv_sec += c->seconds;
		while (!c->stop && !c->soon && pthread_cond_timedwait(&c->cv, &c->mu, &t) == 0)
			;
		if (c->stop)
			break;
		c->soon = false;
		pthread_mutex_unlock(&c->mu);
		fs_commit(c->fs);
		pthread_mutex_lock(&c->mu);
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

int fs_start_committer(struct fs *fs, unsigned seconds)
{
	if (fs->readonly || seconds == 0 || fs->committer)
		return 0;
	struct committer *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	*c = (struct committer){.fs = fs, .seconds = seconds};
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	int err = -pthread_create(&c->thread, NULL, committer_main, c);
	if (err) {
		pthread_mutex_destroy(&c->mu);
		pthread_cond_destroy(&c->cv);
		free(c);
		return err;
	}
	pthread_mutex_lock(&fs->mu);
	fs->committer = c;
	pthread_mutex_unlock(&fs->mu);
	return 0;
}

void fs_commit_soon(struct fs *fs)
{
	struct committer *c = fs->committer;
	if (!c)
		return;
	pthread_mutex_lock(&c->mu); /* a leaf: its holder takes no other lock */
	c->soon = true;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

void fs_stop_committer(struct fs *fs)
{
	struct committer *c = fs->committer;
	if (!c)
		return;
	pthread_mutex_lock(&c->mu);
	c->stop = true;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->thread, NULL);
	pthread_mutex_lock(&fs->mu);
	fs->committer = NULL;
	pthread_mutex_unlock(&fs->mu);
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cv);
	free(c);
}

void fs_set_commit_hook(struct fs *fs, void (*fn)(void *arg, const struct fs_commit_info *info),
			void *arg)
{
	fs->on_commit = fn;
	fs->on_commit_arg = arg;
}

struct each {
	int (*fn)(const struct oname *n, void *arg);
	void *arg;
	int err;
};

static void each_chunk(void *val, void *arg)
{
	struct inode *i = val;
	struct each *e = arg;
	for (size_t k = 0; !e->err && i->nlink && k < i->nch; k++)
		if (i->ch[k].state == CH_SEALED && oname_is_zero(&i->ch[k].pack)) /* packs: below */
			e->err = e->fn(&i->ch[k].name, e->arg);
	if (!e->err)
		e->err = dirsplit_objects(i, e->fn, e->arg, NULL);
}

int fs_each_object(struct fs *fs, int (*fn)(const struct oname *n, void *arg), void *arg)
{
	struct each e = {.fn = fn, .arg = arg};
	pthread_mutex_lock(&fs->mu);
	if (fs->reached.v && fs->reached_gen == fs->gen && !fs->dirty) {
		/* what the mount's load gathered, while nothing has changed since */
		for (size_t k = 0; !e.err && k < fs->reached.n; k++)
			e.err = fn(&fs->reached.v[k], arg);
		namelist_free(&fs->reached);
		pthread_mutex_unlock(&fs->mu);
		return e.err;
	}
	namelist_free(&fs->reached);
	for (size_t p = 0; !e.err && p < fs->npages; p++)
		if (!oname_is_zero(&fs->pages[p].name))
			e.err = fn(&fs->pages[p].name, arg);
	for (size_t t = 0; !e.err && t < fs->ntables; t++)
		if (!oname_is_zero(&fs->tables[t].name))
			e.err = fn(&fs->tables[t].name, arg);
	if (!e.err) {
		int err = inode_scan(fs, each_chunk, &e);
		e.err = e.err ? e.err : err;
	}
	if (!e.err)
		e.err = pack_each(fs, fn, arg);
	pthread_mutex_unlock(&fs->mu);
	return e.err;
}

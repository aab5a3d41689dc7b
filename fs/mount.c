/* mount: the life of a mounted filesystem: open, load and clean the cache, the periodic
 * committer thread, the consistency check, and teardown.
 * Must never delete an object while any page of the root could not be read (its chunks are
 * unknown), and never run a commit on a read-only mount. */
#include "fs/core.h"
#include "fs/fs.h"
#include "cache/reserve.h"
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include "lib/log.h"

struct committer {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned seconds;
	bool stop, running;
};

static struct committer committer = {.mu = PTHREAD_MUTEX_INITIALIZER,
				     .cv = PTHREAD_COND_INITIALIZER};

int fs_open(struct fs **out, struct store *st, struct keyring *keys, const uint8_t vault_id[16],
	    bool readonly)
{
	struct fs *fs = calloc(1, sizeof(*fs));
	if (!fs || !(fs->inodes = htab_new())) {
		free(fs);
		return -ENOMEM;
	}
	fs->st = st;
	fs->keys = keys;
	fs->readonly = readonly;
	memcpy(fs->vault_id, vault_id, 16);
	pthread_rwlock_init(&fs->freeze, NULL);
	pthread_mutex_init(&fs->mu, NULL);
	pthread_mutex_init(&fs->commit_mu, NULL);
	*out = fs;
	return 0;
}

static void free_inode(void *val, void *arg)
{
	(void)arg;
	inode_free(val);
}

void fs_close(struct fs *fs)
{
	if (!fs)
		return;
	htab_each(fs->inodes, free_inode, NULL);
	htab_free(fs->inodes);
	free(fs->pages);
	namelist_free(&fs->pending_free);
	namelist_free(&fs->unsynced);
	pthread_rwlock_destroy(&fs->freeze);
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

/* The set of object names that the loaded root reaches. */
struct reach {
	struct htab *names;
	struct fs *fs;
	long removed;
	int err;
};

static void add_chunks(void *val, void *arg)
{
	struct inode *i = val;
	struct reach *r = arg;
	for (size_t k = 0; k < i->nch; k++)
		if (i->ch[k].state != CH_HOLE && htab_put(r->names, i->ch[k].name.b, NAME_BYTES, i))
			r->err = -ENOMEM;
}

static int reach_build(struct fs *fs, struct reach *r)
{
	*r = (struct reach){.names = htab_new(), .fs = fs};
	if (!r->names)
		return -ENOMEM;
	for (size_t p = 0; p < fs->npages; p++)
		if (!oname_is_zero(&fs->pages[p].name) &&
		    htab_put(r->names, fs->pages[p].name.b, NAME_BYTES, &fs->pages[p]))
			r->err = -ENOMEM;
	htab_each(fs->inodes, add_chunks, r);
	return r->err;
}

static int remove_unreached(const struct oname *n, void *arg)
{
	struct reach *r = arg;
	if (!htab_get(r->names, n->b, NAME_BYTES) && store_obj_unlink(r->fs->st, n) == 0)
		r->removed++;
	return 0;
}

/* Deletes staging leftovers and half-written commits: objects the root does not reach. */
static int collect_garbage(struct fs *fs)
{
	for (size_t p = 0; p < fs->npages; p++)
		if (fs->pages[p].bad)
			return 0;
	store_clean_temp(fs->st);
	struct reach r;
	int err = reach_build(fs, &r);
	if (!err)
		err = store_each(fs->st, remove_unreached, &r);
	if (r.removed)
		log_msg(LOG_INFO,
			"removed %ld unreferenced objects (an interrupted commit, or a root adopted from the vault)",
			r.removed);
	htab_free(r.names);
	return err;
}

int fs_mount_load(struct fs *fs, uid_t uid, gid_t gid)
{
	int err = fs_load(fs, uid, gid);
	if (!err && !fs->readonly)
		err = collect_garbage(fs);
	if (!err && !fs->readonly)
		cache_reserve_fill(fs->st); /* best effort: a full disk still mounts */
	if (!err && fs->dirty)
		err = fs_commit(fs);
	return err;
}

static void *committer_main(void *arg)
{
	struct fs *fs = arg;
	pthread_mutex_lock(&committer.mu);
	while (!committer.stop) {
		struct timespec t;
		clock_gettime(CLOCK_REALTIME, &t);
		t.tv_sec += committer.seconds;
		pthread_cond_timedwait(&committer.cv, &committer.mu, &t);
		if (committer.stop)
			break;
		pthread_mutex_unlock(&committer.mu);
		fs_commit(fs);
		pthread_mutex_lock(&committer.mu);
	}
	pthread_mutex_unlock(&committer.mu);
	return NULL;
}

int fs_start_committer(struct fs *fs, unsigned seconds)
{
	if (fs->readonly || seconds == 0)
		return 0;
	committer.seconds = seconds;
	committer.stop = false;
	int err = -pthread_create(&committer.thread, NULL, committer_main, fs);
	committer.running = err == 0;
	return err;
}

void fs_stop_committer(struct fs *fs)
{
	(void)fs;
	if (!committer.running)
		return;
	pthread_mutex_lock(&committer.mu);
	committer.stop = true;
	pthread_cond_signal(&committer.cv);
	pthread_mutex_unlock(&committer.mu);
	pthread_join(committer.thread, NULL);
	committer.running = false;
}

struct check {
	struct fs *fs;
	FILE *out;
	long problems;
	uint64_t files, objects;
	struct htab *links; /* ino -> count of entries naming it, as (void *)count */
};

static void problem(struct check *c, const char *fmt, unsigned long long a, unsigned long long b)
{
	fprintf(c->out, "coffer fsck: ");
	fprintf(c->out, fmt, a, b);
	fputc('\n', c->out);
	c->problems++;
}

static void count_links(void *val, void *arg)
{
	struct inode *d = val;
	struct check *c = arg;
	size_t pos = 0;
	struct dent *e;
	while (d->dir && (e = dir_next(d->dir, &pos))) {
		struct inode *i = inode_get(c->fs, e->ino);
		if (!i) {
			problem(c, "directory %llu names missing inode %llu",
				(unsigned long long)d->ino, (unsigned long long)e->ino);
			continue;
		}
		if (e->type != IFTODT(i->mode))
			problem(c, "directory %llu: entry type differs from inode %llu",
				(unsigned long long)d->ino, (unsigned long long)e->ino);
		uintptr_t n = (uintptr_t)htab_get(c->links, &i->ino, sizeof(i->ino));
		htab_put(c->links, &i->ino, sizeof(i->ino), (void *)(n + 1));
		if (i->dir)
			htab_put(c->links, &d->ino, sizeof(d->ino),
				 (void *)((uintptr_t)htab_get(c->links, &d->ino, sizeof(d->ino)) +
					  1));
	}
}

static void check_inode(void *val, void *arg)
{
	struct inode *i = val;
	struct check *c = arg;
	uintptr_t n = (uintptr_t)htab_get(c->links, &i->ino, sizeof(i->ino));
	uint32_t want = (uint32_t)n + (i->dir ? 1 : 0) + (i->ino == ROOT_INO ? 1 : 0);
	c->files++;
	if (i->nlink != want)
		problem(c, "inode %llu: link count %llu is wrong", (unsigned long long)i->ino,
			(unsigned long long)i->nlink);
	if (i->ino >= c->fs->next_ino)
		problem(c, "inode %llu is past the allocation counter %llu",
			(unsigned long long)i->ino, (unsigned long long)c->fs->next_ino);
	for (size_t k = 0; k < i->nch; k++) {
		if (i->ch[k].state == CH_HOLE)
			continue;
		c->objects++;
		int err = chunk_verify(c->fs, &i->ch[k]);
		if (err)
			problem(c, "inode %llu: chunk %llu is missing or damaged",
				(unsigned long long)i->ino, (unsigned long long)k);
	}
	if (S_ISREG(i->mode) && (uint64_t)i->nch > (i->size + CHUNK_SIZE - 1) / CHUNK_SIZE)
		problem(c, "inode %llu: chunk list runs past its size %llu",
			(unsigned long long)i->ino, (unsigned long long)i->size);
}

long fs_check(struct fs *fs, FILE *out, uint64_t *files, uint64_t *objects)
{
	struct check c = {.fs = fs, .out = out, .links = htab_new()};
	if (!c.links)
		return -ENOMEM;
	pthread_mutex_lock(&fs->mu);
	for (size_t p = 0; p < fs->npages; p++)
		if (fs->pages[p].bad)
			problem(&c, "inode page %llu (from inode %llu) cannot be read",
				(unsigned long long)p, (unsigned long long)(p * PAGE_INODES));
	htab_each(fs->inodes, count_links, &c);
	htab_each(fs->inodes, check_inode, &c);
	pthread_mutex_unlock(&fs->mu);
	htab_free(c.links);
	*files = c.files;
	*objects = c.objects + fs->npages;
	return c.problems;
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
		if (i->ch[k].state == CH_SEALED)
			e->err = e->fn(&i->ch[k].name, e->arg);
}

int fs_each_object(struct fs *fs, int (*fn)(const struct oname *n, void *arg), void *arg)
{
	struct each e = {.fn = fn, .arg = arg};
	pthread_mutex_lock(&fs->mu);
	for (size_t p = 0; !e.err && p < fs->npages; p++)
		if (!oname_is_zero(&fs->pages[p].name))
			e.err = fn(&fs->pages[p].name, arg);
	if (!e.err)
		htab_each(fs->inodes, each_chunk, &e);
	pthread_mutex_unlock(&fs->mu);
	return e.err;
}

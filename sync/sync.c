/* sync: the life of a mounted vault's sync (see sync.h): starting it for the loaded filesystem
 * (what waits for upload, derived from local state), the commit hook that queues each commit's
 * objects, the sync thread's loop with its backoff, draining at unmount, and stopping.
 * The work of a round is in mirror.c (writers) and follow.c (read-only mounts).
 * Must never hold the sync's lock across a request to the vault. */
#include "sync/engine.h"
#include "sync/remote/keys.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include "lib/log.h"
#include "cache/files.h"
#include "cache/known.h"
#include "cache/nowait.h"

/* The remote's retry hook: a request failed and will be tried again. */
static void on_retry(void *arg, int err)
{
	sync_report(arg, err, "a request failed and is retried");
}

static void on_commit(void *arg, const struct fs_commit_info *ci)
{
	struct sync *s = arg;
	pthread_mutex_lock(&s->mu);
	buf_free(&s->q.newest);
	buf_put(&s->q.newest, ci->root, ci->root_len);
	s->q.newest_gen = ci->gen;
	for (size_t k = 0; k < ci->nadded; k++)
		nameset_add(s->q.pending, &ci->added[k]);
	for (size_t k = 0; k < ci->nfreed; k++)
		nameset_del(s->q.pending, &ci->freed[k]);
	sync_write_status(s); /* even while the sync thread waits on a slow request */
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

static int add_listed(const char *key, void *arg)
{
	struct oname n;
	return oname_parse(&n, key) == 0 ? nameset_add(arg, &n) : 0;
}

struct start {
	struct sync *s;
	struct htab *listed; /* the vault's listing: for the message below only, never trusted */
};

/* An object the root needs is waiting for upload when this device does not know it to be in the
 * vault (whatever a listing says) and the cache has it. One the cache lacks came from the vault
 * (objects are evicted only once known there). */
static int add_missing(const struct oname *n, void *arg)
{
	struct start *st = arg;
	struct sync *s = st->s;
	char hex[2 * NAME_BYTES + 1];
	oname_hex(n, hex);
	if (nameset_has(s->v.objects, n))
		return 0;
	if (store_obj_cached(s->st, n))
		return nameset_add(s->q.pending, n);
	if (s->v.listed && !nameset_has(st->listed, n))
		log_msg(LOG_ERR,
			"object %s is neither in the cache nor on the vault: the files that "
			"use it read as EIO",
			hex);
	return 0;
}

/* Lists the vault's objects into listed only when the known journal was lost: while it is
 * intact, the objects the root names are either known there, cached (and queued), or fetched
 * on demand (a missing one reads as EIO with a log line), so a mount's cost does not grow with
 * the vault. Only the message in add_missing uses the listing. */
static void list_if_lost(struct sync *s, struct htab *listed)
{
	if (!s->v.known_lost)
		return;
	int err = s->r->ops->list(s->r, remote_prefix_objects(), add_listed, listed);
	s->v.listed = err == 0;
	if (err)
		sync_error(s, err, "listing the remote");
}

/* The newest local root is the cache's. */
static void load_newest(struct sync *s)
{
	struct buf root = {0};
	struct root_info ri;
	if (!cache_root_read(s->st, &root) &&
	    !root_peek(s->keys, s->vid, root.data, root.len, &ri)) {
		s->q.newest = root;
		s->q.newest_gen = ri.gen;
	} else {
		buf_free(&root);
	}
}

static void *sync_main(void *arg);

/* Writes the first status before the mount is reported ready, so that `coffer status` never
 * shows a previous daemon's. */
static int first_status(struct sync *s, int err)
{
	pthread_mutex_lock(&s->mu);
	sync_write_status(s);
	pthread_mutex_unlock(&s->mu);
	return err;
}

static int start_thread(struct sync *s, void *(*fn)(void *))
{
	int err = -pthread_create(&s->thread, NULL, fn, s);
	s->running = err == 0;
	return first_status(s, err);
}

int sync_start(struct sync *s, struct fs *fs)
{
	s->fs = fs;
	sync_merge_log(s);
	s->r->on_retry = on_retry;
	s->r->retry_arg = s;
	if (s->o.readonly && s->o.snapshot)
		return first_status(s, 0);
	if (s->o.readonly) {
		s->q.newest_gen = s->v.gen;
		return start_thread(s, follow_main);
	}
	struct start st = {.s = s, .listed = htab_new()};
	if (!st.listed)
		return -ENOMEM;
	list_if_lost(s, st.listed);
	load_newest(s);
	int err = fs_each_object(fs, add_missing, &st);
	nameset_free(st.listed);
	fs_set_commit_hook(fs, on_commit, s);
	s->last_progress = time(NULL);
	return err ? first_status(s, err) : start_thread(s, sync_main);
}

/* Lets commits that follow each other closely (a database's fsync per transaction) settle for
 * up to a second, so that one round uploads the last of them and skips what they replaced.
 * Called with mu held; the commit signals do not cut it short, unmount and stop do. */
static void let_commits_settle(struct sync *s, const struct timespec *last)
{
	struct timespec until = {.tv_sec = last->tv_sec + 1, .tv_nsec = last->tv_nsec}, now;
	clock_gettime(CLOCK_REALTIME, &now);
	while (!s->stop && !s->draining &&
	       (now.tv_sec < until.tv_sec ||
		(now.tv_sec == until.tv_sec && now.tv_nsec < until.tv_nsec))) {
		pthread_cond_timedwait(&s->cv, &s->mu, &until);
		clock_gettime(CLOCK_REALTIME, &now);
	}
}

/* After a round: backoff with jitter on failure, none after progress; wakes sync_drain, which
 * waits for the round's outcome. Called with mu held. */
static void after_round(struct sync *s, bool tried, int r)
{
	if (tried && r >= 0)
		s->stats.failing = false;
	if (r < 0) {
		s->backoff = s->backoff ? (s->backoff < 64 ? s->backoff * 2 : 64) : 1;
		s->next_try = time(NULL) + s->backoff + (time_t)(random_u32() % (s->backoff + 1));
	} else if (r > 0) {
		s->backoff = 0;
		s->next_try = 0;
		s->last_progress = time(NULL);
	}
	sync_write_status(s);
	pthread_cond_broadcast(&s->cv);
}

static void *sync_main(void *arg)
{
	struct sync *s = arg;
	struct timespec last = {0};
	int r = 0;
	pthread_mutex_lock(&s->mu);
	while (!s->stop) {
		if (r != 1) /* not in the middle of a bulk upload */
			let_commits_settle(s, &last);
		clock_gettime(CLOCK_REALTIME, &last);
		bool tried = time(NULL) >= s->next_try;
		pthread_mutex_unlock(&s->mu);
		r = tried ? mirror_round(s) : 0;
		pthread_mutex_lock(&s->mu);
		after_round(s, tried, r);
		if (r > 0 || s->stop)
			continue;
		sync_wait(s, 1);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

int sync_drain(struct sync *s)
{
	if (!s->running || s->o.readonly)
		return 0;
	pthread_mutex_lock(&s->mu);
	s->last_progress = time(NULL);
	s->next_try = 0; /* try at once, even while backing off */
	s->draining = true;
	int err = 0;
	for (;;) {
		if (htab_count(s->q.pending) == 0 && s->v.gen >= s->q.newest_gen)
			break;
		if (s->v.conflict || cache_nowait_isset(s->st) ||
		    time(NULL) - s->last_progress > (time_t)s->o.drain_limit) {
			err = -EAGAIN;
			break;
		}
		pthread_cond_signal(&s->cv);
		sync_wait(s, 1);
	}
	pthread_mutex_unlock(&s->mu);
	return err;
}

void sync_stop(struct sync *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->mu);
	s->stop = true;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	if (s->running)
		pthread_join(s->thread, NULL);
	s->r->on_retry = NULL;
	if (s->running && !s->o.readonly)
		mirror_evict(s, true); /* the cap holds between mounts too */
	cache_known_sync(s->st);
	sync_lease_release(s);
	/* The merge's summary names paths: fine while mounted, never in the cache at rest. */
	s->stats.last_merge[0] = 0;
	if (s->running)
		sync_write_status(s);
	store_set_fetch(s->st, NULL, NULL);
	nameset_free(s->q.pending);
	nameset_free(s->v.objects);
	buf_free(&s->q.newest);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s);
}

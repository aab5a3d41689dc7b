/* mirror: one round of a writer's sync work: renew the lease, upload what the newest root needs
 * (several transfers at once), publish the root once all of it is there, delete from the vault
 * what no retained root names, and evict uploaded objects beyond the cache cap.
 * Must never publish a root while any object it names is missing from the vault, and never
 * evict an object that this device has not uploaded or verified there. */
#include "sync/engine.h"
#include "sync/remote/keys.h"
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <syslog.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lib/log.h"
#include "cache/evict.h"
#include "cache/freed.h"
#include "cache/known.h"

#define BATCH 1024

struct batch {
	struct sync *s;
	struct oname names[BATCH];
	size_t n, next;
	int err;
	pthread_mutex_t mu;
};

static void collect(void *val, void *arg)
{
	struct batch *b = arg;
	if (b->n < BATCH)
		b->names[b->n++] = *(struct oname *)val;
}

/* Puts the cache's copy of n under key, from its file where the backend can (put_fd: no copy
 * through memory), else read whole and put; *len gets its size. */
static int put_object(struct sync *s, const char *key, const struct oname *n, size_t *len)
{
	struct buf data = {0};
	struct stat st;
	int err, fd = s->r->ops->put_fd ? store_obj_open(s->st, n, O_RDONLY) : -1;
	if (fd >= 0) {
		err = fstat(fd, &st) < 0 ? -errno : 0;
		*len = err ? 0 : (size_t)st.st_size;
		if (!err)
			err = s->r->ops->put_fd(s->r, key, fd, *len);
		close(fd);
		return err;
	}
	if (s->r->ops->put_fd)
		return fd; /* -ENOENT when a later commit freed it */
	err = store_obj_read(s->st, n, &data);
	*len = data.len;
	if (!err)
		err = s->r->ops->put(s->r, key, data.data, data.len);
	buf_free(&data);
	return err;
}

static int upload_one(struct sync *s, const struct oname *n)
{
	char key[REMOTE_KEY_MAX];
	size_t len = 0;
	remote_key_object(key, n);
	int err = put_object(s, key, n, &len);
	if (!err)
		err = sync_known_add(s, n);
	pthread_mutex_lock(&s->mu);
	if (!err) {
		nameset_del(s->q.pending, n);
		s->stats.bytes_sent += len;
		s->stats.objects_sent++;
	} else if (err == -ENOENT && !nameset_has(s->q.pending, n)) {
		err = 0; /* freed by a later commit meanwhile: the newest root does not need it */
	} else {
		sync_error(s, err, "uploading"); /* now, not once the other uploads end */
		sync_write_status(s);
	}
	pthread_mutex_unlock(&s->mu);
	return err;
}

static void *uploader(void *arg)
{
	struct batch *b = arg;
	for (;;) {
		pthread_mutex_lock(&b->mu);
		size_t k = b->err ? b->n : b->next++;
		pthread_mutex_unlock(&b->mu);
		if (k >= b->n)
			break;
		int err = upload_one(b->s, &b->names[k]);
		if (err) {
			pthread_mutex_lock(&b->mu);
			b->err = b->err ? b->err : err;
			pthread_mutex_unlock(&b->mu);
		}
	}
	return NULL;
}

/* Uploads up to BATCH pending objects; 1 when something was sent. */
static int upload_batch(struct sync *s)
{
	struct batch *b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->s = s;
	pthread_mutex_init(&b->mu, NULL);
	pthread_mutex_lock(&s->mu);
	htab_each(s->q.pending, collect, b);
	pthread_mutex_unlock(&s->mu);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	uint64_t sent0 = s->stats.bytes_sent;
	pthread_t th[16];
	unsigned nt = s->o.uploaders < 16 ? s->o.uploaders : 16, started = 0;
	for (; b->n > 1 && started + 1 < nt; started++)
		if (pthread_create(&th[started], NULL, uploader, b))
			break;
	uploader(b);
	while (started)
		pthread_join(th[--started], NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	pthread_mutex_lock(&s->mu);
	if (b->n && secs > 0)
		s->stats.rate =
			0.5 * s->stats.rate + 0.5 * (double)(s->stats.bytes_sent - sent0) / secs;
	pthread_mutex_unlock(&s->mu);
	int err = b->err ? b->err : b->n ? 1 : 0;
	pthread_mutex_destroy(&b->mu);
	free(b);
	return err;
}

static int delete_object(const struct oname *n, void *arg)
{
	struct sync *s = arg;
	char key[REMOTE_KEY_MAX];
	remote_key_object(key, n);
	int err =
		sync_known_del(s, n); /* first: a crash may only forget an object, never add one */
	if (!err)
		err = s->r->ops->del(s->r, key);
	return err == -ENOENT ? 0 : err;
}

/* How many of the listed generations (ascending) clean-up may count: those up to the vault's
 * current, authenticated generation. A listed name past it is not a root this device published
 * or adopted; trusting it would drop real snapshots and free objects they name. */
static size_t trusted_gens(const uint64_t *gens, size_t n, uint64_t current)
{
	size_t k = n;
	while (k > 0 && gens[k - 1] > current)
		k--;
	return k;
}

/* Keeps the newest `keep` roots and deletes the objects only older roots named. */
static int clean_remote(struct sync *s)
{
	uint64_t *gens = NULL;
	size_t n = 0;
	int err = remote_list_gens(s->r, &gens, &n);
	pthread_mutex_lock(&s->mu);
	uint64_t current = s->v.gen;
	pthread_mutex_unlock(&s->mu);
	n = err ? 0 : trusted_gens(gens, n, current);
	unsigned keep = s->o.keep ? s->o.keep : 1;
	if (n) {
		size_t drop = n > keep ? n - keep : 0;
		for (size_t k = 0; !err && k < drop; k++) {
			char key[REMOTE_KEY_MAX];
			remote_key_retained_root(key, gens[k]);
			err = s->r->ops->del(s->r, key);
			err = err == -ENOENT ? 0 : err;
		}
		uint64_t oldest = gens[drop];
		if (!err)
			err = cache_freed_each(s->st, oldest, delete_object, s);
		if (!err)
			err = cache_freed_drop(s->st, oldest);
	}
	free(gens);
	return err;
}

/* After a lost swap: whether the vault's root now descends from the root this device
 * published or saw there (another writer) or not (a fork: logged by chain_check). */
static void explain_lost_swap(struct sync *s)
{
	struct buf R = {0};
	struct root_plain rp = {0};
	uint8_t h[ROOT_HASH_BYTES];
	int err = s->r->ops->get(s->r, remote_key_root(), REMOTE_ROOT_MAX, &R, NULL);
	int said = err || chain_open(s, R.data, R.len, &rp, h) ? 0 : chain_check(s, &rp, h, true);
	bool told = said == -ESTALE || said == -EBADMSG; /* fork, rollback or unprovable */
	if (!told)
		log_msg(LOG_ERR,
			"sync: the remote root was replaced by someone else (generation %" PRIu64
			"); uploads stop, local data is kept; unmount and mount again to merge "
			"this device's changes with it",
			rp.gen);
	root_plain_free(&rp);
	buf_free(&R);
}

/* What publish needs of the vault's root, copied under mu. */
struct base {
	bool has_root;
	uint64_t gen;
	uint8_t hash[ROOT_HASH_BYTES];
	struct root_chain chain;
	char tag[TAG_MAX];
};

/* Replaces the remote root with the newest local root once nothing it names is missing: the
 * local root re-sealed so that its parent is exactly the root it replaces (chain.c), swapped in
 * only if the vault still holds that root's version. */
static int publish(struct sync *s)
{
	struct base *b = calloc(1, sizeof(*b));
	struct root_chain *chain = calloc(1, sizeof(*chain));
	if (!b || !chain) {
		free(b);
		free(chain);
		return -ENOMEM;
	}
	pthread_mutex_lock(&s->mu);
	bool ready = htab_count(s->q.pending) == 0 && s->q.newest_gen > s->v.gen && !s->v.conflict;
	struct buf local = {0}, root = {0};
	uint64_t gen = s->q.newest_gen;
	if (ready)
		buf_put(&local, s->q.newest.data, s->q.newest.len);
	*b = (struct base){.has_root = s->v.has_root, .gen = s->v.gen, .chain = s->v.chain};
	memcpy(b->hash, s->v.hash, ROOT_HASH_BYTES);
	snprintf(b->tag, sizeof(b->tag), "%s", s->v.root_tag);
	pthread_mutex_unlock(&s->mu);
	int err = !ready ? 0
			 : chain_reseal(s, &local, b->has_root, b->gen, b->hash, &b->chain, &root,
					chain);
	if (!ready || err) {
		buf_free(&local);
		if (err)
			sync_report(s, err, "sealing the root to publish");
		free(b);
		free(chain);
		return err;
	}
	char key[REMOTE_KEY_MAX], tag[TAG_MAX];
	err = s->r->ops->put_if(s->r, remote_key_root(), root.data, root.len,
				b->has_root ? b->tag : NULL, tag);
	/* The retained copy only once the swap is won: a loser must not overwrite the winner's. */
	remote_key_retained_root(key, gen);
	int kept = err ? 0 : s->r->ops->put(s->r, key, root.data, root.len);
	struct root_plain rp = {0};
	uint8_t hash[ROOT_HASH_BYTES];
	chain_open(s, root.data, root.len, &rp, hash);
	/* the cache's root becomes the published bytes, unless a newer commit replaced it */
	if (!err && s->fs && !fs_root_reseal(s->fs, local.data, local.len, root.data, root.len)) {
		pthread_mutex_lock(&s->mu);
		if (s->q.newest.len == local.len &&
		    !memcmp(s->q.newest.data, local.data, local.len)) {
			buf_free(&s->q.newest);
			buf_put(&s->q.newest, root.data, root.len);
		}
		pthread_mutex_unlock(&s->mu);
	}
	buf_free(&local);
	buf_free(&root);
	if (kept)
		sync_report(s, kept, "keeping the published root as a snapshot");
	if (err == -ESTALE)
		explain_lost_swap(s);
	pthread_mutex_lock(&s->mu);
	if (!err) {
		chain_seen(s, &rp, hash);
		snprintf(s->v.root_tag, sizeof(s->v.root_tag), "%s", tag);
		s->state.synced = gen;
		memcpy(s->state.synced_hash, hash, ROOT_HASH_BYTES);
	} else if (err == -ESTALE) {
		s->v.conflict = true;
	}
	if (err) {
		sync_error(s, err, "publishing the root");
		sync_write_status(s); /* before sync_drain, which returns on a conflict, can look */
	}
	pthread_mutex_unlock(&s->mu);
	root_plain_free(&rp);
	free(b);
	free(chain);
	if (err)
		return err;
	err = state_save(s->st, s->vid, &s->state);
	if (!err)
		err = clean_remote(s);
	if (err) {
		pthread_mutex_lock(&s->mu);
		sync_error(s, err, "cleaning up the remote");
		pthread_mutex_unlock(&s->mu);
	}
	return 2;
}

/* The eviction predicate: only objects this device uploaded or verified in the vault (durably
 * known, never because a listing says so) that no root waits to upload may go. */
static bool uploaded(const struct oname *n, void *arg)
{
	struct sync *s = arg;
	pthread_mutex_lock(&s->mu);
	bool up = nameset_has(s->v.objects, n) && !nameset_has(s->q.pending, n);
	pthread_mutex_unlock(&s->mu);
	return up;
}

void mirror_evict(struct sync *s, bool force)
{
	if (!force && time(NULL) - s->last_evict < 10)
		return;
	s->last_evict = time(NULL);
	uint64_t bytes;
	if (s->o.cache_size && cache_known_sync(s->st)) /* evict only on what is durably known */
		return;
	cache_evict(s->st, s->o.cache_size, uploaded, s, &bytes);
	pthread_mutex_lock(&s->mu);
	s->stats.cache_bytes = bytes;
	pthread_mutex_unlock(&s->mu);
}

static void measure_waiting(struct sync *s)
{
	pthread_mutex_lock(&s->mu);
	struct batch *b = calloc(1, sizeof(*b));
	if (b)
		htab_each(s->q.pending, collect, b);
	pthread_mutex_unlock(&s->mu);
	uint64_t bytes = b ? cache_bytes_of(s->st, b->names, b->n) : 0;
	pthread_mutex_lock(&s->mu);
	s->q.bytes_waiting = bytes;
	pthread_mutex_unlock(&s->mu);
	free(b);
}

int mirror_round(struct sync *s)
{
	pthread_mutex_lock(&s->mu);
	bool conflict = s->v.conflict;
	pthread_mutex_unlock(&s->mu);
	if (conflict)
		return 0;
	int err = s->v.offline ? attach_late(s) : 0;
	if (!err)
		err = sync_lease_renew(s);
	if (err)
		return err;
	measure_waiting(s);
	int r = upload_batch(s);
	if (r == 0)
		r = publish(s);
	mirror_evict(s, false);
	return r;
}

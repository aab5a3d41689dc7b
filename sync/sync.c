/* sync: attaching a cache to its remote, the sync thread, fetching missing objects, draining at
 * unmount, and listing snapshots (see sync.h). The upload and clean-up rounds are in mirror.c.
 * Must never accept a remote root older than one this cache has seen, and never adopt a remote
 * root over local commits that were never uploaded. */
#include "sync/engine.h"
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>
#include "fs/log.h"
#include "sync/remote/keys.h"

int nameset_add(struct htab *t, const struct oname *n)
{
	if (htab_get(t, n->b, NAME_BYTES))
		return 0;
	struct oname *copy = malloc(sizeof(*copy));
	if (!copy)
		return -ENOMEM;
	*copy = *n;
	if (htab_put(t, copy->b, NAME_BYTES, copy)) {
		free(copy);
		return -ENOMEM;
	}
	return 0;
}

void nameset_del(struct htab *t, const struct oname *n)
{
	free(htab_del(t, n->b, NAME_BYTES));
}

static void free_val(void *val, void *arg)
{
	(void)arg;
	free(val);
}

void nameset_free(struct htab *t)
{
	if (!t)
		return;
	htab_each(t, free_val, NULL);
	htab_free(t);
}

void sync_error(struct sync *s, int err, const char *what)
{
	char msg[256];
	snprintf(msg, sizeof(msg), "%s: %s", what,
		 err == -EHOSTDOWN ? "remote unreachable"
		 : err == -EAGAIN  ? "server error or timeout"
				   : strerror(-err));
	if (strcmp(msg, s->last_error) != 0)
		log_msg(LOG_WARNING, "sync: %s", msg);
	snprintf(s->last_error, sizeof(s->last_error), "%s", msg);
	s->last_error_time = time(NULL);
	s->failing = true;
}

/* The remote's retry hook: a request failed and will be tried again. */
static void on_retry(void *arg, int err)
{
	struct sync *s = arg;
	pthread_mutex_lock(&s->mu);
	sync_error(s, err, "a request failed and is retried");
	sync_write_status(s);
	pthread_mutex_unlock(&s->mu);
}

static void format_time(int64_t ns, char *out, size_t cap)
{
	time_t t = (time_t)(ns / 1000000000);
	struct tm tm;
	strftime(out, cap, "%Y-%m-%d %H:%M:%S %Z", localtime_r(&t, &tm));
}

static int read_remote_root(struct sync *s, struct buf *b, struct root_info *ri)
{
	int err = s->r->ops->get(s->r, remote_key_root(), b, s->root_tag);
	if (!err && root_peek(s->keys, s->vid, b->data, b->len, ri)) {
		fprintf(stderr,
			"coffer: the root on %s failed authentication: it was altered or belongs to "
			"another vault\n",
			s->r->url);
		return -EBADMSG;
	}
	return err;
}

/* Decides between the cache's root and the remote's; see the cases in docs/design.md. */
static int reconcile(struct sync *s, const struct buf *R, const struct root_info *ri)
{
	struct buf L = {0};
	struct root_info li = {0};
	char when[64];
	format_time(ri->time_ns, when, sizeof(when));
	int lerr = store_file_read(s->st, "root", &L);
	if (!lerr && root_peek(s->keys, s->vid, L.data, L.len, &li))
		lerr = -EBADMSG;
	int err = 0;
	if (ri->gen < s->state.seen) {
		fprintf(stderr,
			"coffer: rollback detected: %s holds generation %" PRIu64
			" (committed %s), "
			"but this cache has already seen generation %" PRIu64 "; refusing it\n",
			s->r->url, ri->gen, when, s->state.seen);
		err = -ESTALE;
	} else if (lerr == -ENOENT || (!lerr && ri->gen > li.gen && li.gen == s->state.synced)) {
		err = store_file_replace(s->st, "root", R->data, R->len);
		if (!err)
			fprintf(stderr,
				"coffer: fetched generation %" PRIu64 " (committed %s) from %s\n",
				ri->gen, when, s->r->url);
		s->state.synced = err ? s->state.synced : ri->gen;
	} else if (lerr) {
		fprintf(stderr, "coffer: the cache's root cannot be read: %s\n", strerror(-lerr));
		err = lerr;
	} else if (ri->gen > li.gen ||
		   (ri->gen == li.gen && (R->len != L.len || memcmp(R->data, L.data, L.len)))) {
		fprintf(stderr,
			"coffer: conflict: %s holds generation %" PRIu64
			" written elsewhere, and this "
			"cache holds generation %" PRIu64 " that was never uploaded\n",
			s->r->url, ri->gen, li.gen);
		err = -ESTALE;
	} else if (ri->gen == li.gen) { /* the same root on both sides */
		s->state.synced = ri->gen;
	}
	buf_free(&L);
	return err;
}

static int take_lease(struct sync *s)
{
	struct lease l;
	char tag[TAG_MAX];
	int err = lease_get(s->r, s->keys, s->vid, &l, tag);
	if (!err && memcmp(l.device, s->state.device, 16) != 0 && l.expiry > time(NULL)) {
		char when[64];
		format_time((int64_t)l.expiry * 1000000000, when, sizeof(when));
		fprintf(stderr,
			"coffer: the vault is being written by %s (its lease expires %s); mount with "
			"-o ro, or wait\n",
			l.host[0] ? l.host : "another device", when);
		return -EBUSY;
	}
	if (err && err != -ENOENT && err != -EBADMSG)
		return err;
	err = lease_put(s->r, s->keys, s->vid, s->state.device, s->o.lease_ttl,
			err == -ENOENT ? NULL : tag, s->lease_tag);
	if (!err) {
		s->has_lease = true;
		s->lease_renewed = time(NULL);
	}
	return err;
}

static int attach_online(struct sync *s)
{
	struct buf R = {0};
	struct root_info ri;
	int err = read_remote_root(s, &R, &ri);
	if (err == -ENOENT) {
		s->has_root = false;
		if (s->state.seen > 0) {
			fprintf(stderr,
				"coffer: %s has no root, but this cache has seen generation %" PRIu64
				" there: the remote lost or deleted the vault; refusing it\n",
				s->r->url, s->state.seen);
			err = -ESTALE;
		} else {
			err = 0;
		}
	} else if (!err) {
		s->has_root = true;
		s->remote_gen = ri.gen;
		s->remote_time = ri.time_ns;
		err = reconcile(s, &R, &ri);
		if (!err && ri.gen > s->state.seen)
			s->state.seen = ri.gen;
	}
	buf_free(&R);
	if (!err && !s->o.readonly)
		err = take_lease(s);
	return err;
}

static int attach_snapshot(struct sync *s)
{
	char key[REMOTE_KEY_MAX];
	struct buf R = {0};
	struct root_info ri;
	remote_key_retained_root(key, s->o.snapshot);
	int err = s->r->ops->get(s->r, key, &R, NULL);
	if (err == -ENOENT)
		fprintf(stderr,
			"coffer: %s retains no generation %" PRIu64 " (see coffer snapshots)\n",
			s->r->url, s->o.snapshot);
	else if (err)
		fprintf(stderr, "coffer: cannot read snapshot %" PRIu64 " from %s: %s\n",
			s->o.snapshot, s->r->url, strerror(-err));
	else if (root_peek(s->keys, s->vid, R.data, R.len, &ri) || ri.gen != s->o.snapshot) {
		fprintf(stderr, "coffer: snapshot %" PRIu64 " on %s failed authentication\n",
			s->o.snapshot, s->r->url);
		err = -EBADMSG;
	} else {
		err = store_file_replace(s->st, "root", R.data, R.len);
	}
	buf_free(&R);
	return err;
}

static int fetch_object(void *arg, const struct oname *n)
{
	struct sync *s = arg;
	char key[REMOTE_KEY_MAX];
	remote_key_object(key, n);
	struct buf b = {0};
	int err = s->r->ops->get(s->r, key, &b, NULL);
	if (!err)
		err = store_obj_install(s->st, n, b.data, b.len);
	buf_free(&b);
	if (err && err != -ENOENT) {
		pthread_mutex_lock(&s->mu);
		sync_error(s, err, "fetching an object");
		pthread_mutex_unlock(&s->mu);
		return -EIO;
	}
	return err;
}

int sync_attach(struct sync **out, struct remote *r, struct store *st, const struct keyring *keys,
		const uint8_t vault_id[16], const struct sync_opts *o)
{
	struct sync *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	*s = (struct sync){.r = r, .st = st, .keys = keys, .o = *o};
	memcpy(s->vid, vault_id, 16);
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	int err = state_load(st, &s->state);
	if (err)
		fprintf(stderr, "coffer: the cache's sync.state is damaged: %s\n", strerror(-err));
	if (!err && o->snapshot)
		err = attach_snapshot(s);
	else if (!err) {
		err = attach_online(s);
		s->online = err == 0;
		if (err == -EHOSTDOWN || err == -EAGAIN || err == -ETIMEDOUT ||
		    err == -ECONNREFUSED) {
			struct buf L = {0};
			int lerr = store_file_read(st, "root", &L);
			buf_free(&L);
			if (lerr) {
				fprintf(stderr,
					"coffer: cannot reach %s, and this cache is empty\n",
					r->url);
			} else {
				fprintf(stderr,
					"coffer: cannot reach %s: working from the cache; changes will "
					"upload when it is back\n",
					r->url);
				err = 0;
			}
		} else if (err && err != -ESTALE && err != -EBUSY && err != -EBADMSG) {
			fprintf(stderr, "coffer: cannot use %s: %s\n", r->url,
				remote_strerror(err));
		}
	}
	if (!err)
		err = state_save(st, &s->state);
	if (err) {
		free(s);
		return err;
	}
	st->fetch = fetch_object;
	st->fetch_arg = s;
	*out = s;
	return 0;
}

static void on_commit(void *arg, const struct fs_commit_info *ci)
{
	struct sync *s = arg;
	pthread_mutex_lock(&s->mu);
	buf_free(&s->newest);
	buf_put(&s->newest, ci->root, ci->root_len);
	s->newest_gen = ci->gen;
	for (size_t k = 0; k < ci->nadded; k++)
		nameset_add(s->pending, &ci->added[k]);
	for (size_t k = 0; k < ci->nfreed; k++)
		nameset_del(s->pending, &ci->freed[k]);
	sync_write_status(s); /* even while the sync thread waits on a slow request */
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

static int add_remote(const char *key, void *arg)
{
	struct oname n;
	return oname_parse(&n, key) == 0 ? nameset_add(arg, &n) : 0;
}

/* An object the root needs is waiting for upload when the remote lacks it and the cache has it.
 * One the cache lacks came from the remote (objects are evicted only once uploaded). */
static int add_missing(const struct oname *n, void *arg)
{
	struct sync *s = arg;
	char hex[2 * NAME_BYTES + 1];
	struct stat st;
	oname_hex(n, hex);
	if (htab_get(s->remote_set, n->b, NAME_BYTES))
		return 0;
	if (fstatat(s->st->objfd, hex, &st, 0) == 0)
		return nameset_add(s->pending, n);
	if (s->listed)
		log_msg(LOG_ERR,
			"object %s is neither in the cache nor on the vault: the files that "
			"use it read as EIO",
			hex);
	return 0;
}

static void *sync_main(void *arg);

/* Read-only mounts: adopt newer roots that the writer publishes. 0 when the vault answered. */
static int follow_round(struct sync *s)
{
	struct buf R = {0};
	struct root_info ri;
	char tag[TAG_MAX];
	int err = s->r->ops->get(s->r, remote_key_root(), &R, tag);
	if (!err && strcmp(tag, s->root_tag) != 0 &&
	    root_peek(s->keys, s->vid, R.data, R.len, &ri) == 0) {
		if (ri.gen < s->state.seen) {
			log_msg(LOG_ERR,
				"rollback detected: the vault holds generation %" PRIu64
				", this cache has seen %" PRIu64 "; keeping the newer",
				ri.gen, s->state.seen);
		} else if (ri.gen > s->remote_gen &&
			   store_file_replace(s->st, "root", R.data, R.len) == 0 &&
			   fs_reload(s->fs) == 0) {
			log_msg(LOG_INFO, "following generation %" PRIu64, ri.gen);
			pthread_mutex_lock(&s->mu);
			s->remote_gen = s->newest_gen = ri.gen;
			s->remote_time = ri.time_ns;
			s->state.seen = s->state.synced = ri.gen;
			snprintf(s->root_tag, sizeof(s->root_tag), "%s", tag);
			pthread_mutex_unlock(&s->mu);
			state_save(s->st, &s->state);
		}
	} else if (err && err != -ENOENT) {
		pthread_mutex_lock(&s->mu);
		sync_error(s, err, "following the vault");
		pthread_mutex_unlock(&s->mu);
	}
	buf_free(&R);
	return err == -ENOENT ? 0 : err;
}

/* Waits on the sync's condition for up to secs seconds; called with mu held. */
static void wait_a_while(struct sync *s, int secs)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	t.tv_sec += secs;
	pthread_cond_timedwait(&s->cv, &s->mu, &t);
}

static void *follow_main(void *arg)
{
	struct sync *s = arg;
	pthread_mutex_lock(&s->mu);
	while (!s->stop) {
		pthread_mutex_unlock(&s->mu);
		int err = follow_round(s);
		pthread_mutex_lock(&s->mu);
		if (!err)
			s->failing = false;
		sync_write_status(s);
		wait_a_while(s, 5);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* Writes the first status before the mount is reported ready, so that `coffer status` never
 * shows a previous daemon's. */
static int first_status(struct sync *s, int err)
{
	pthread_mutex_lock(&s->mu);
	sync_write_status(s);
	pthread_mutex_unlock(&s->mu);
	return err;
}

int sync_start(struct sync *s, struct fs *fs)
{
	s->fs = fs;
	s->r->on_retry = on_retry;
	s->r->retry_arg = s;
	s->pending = htab_new();
	s->remote_set = htab_new();
	if (!s->pending || !s->remote_set)
		return -ENOMEM;
	if (s->o.readonly) {
		if (s->o.snapshot)
			return first_status(s, 0);
		s->newest_gen = s->remote_gen;
		int err = -pthread_create(&s->thread, NULL, follow_main, s);
		s->running = err == 0;
		return first_status(s, err);
	}
	int err = s->r->ops->list(s->r, remote_prefix_objects(), add_remote, s->remote_set);
	s->listed = err == 0;
	if (err) { /* offline: assume nothing is there; uploads are idempotent */
		sync_error(s, err, "listing the remote");
		err = 0;
	}
	struct buf root = {0};
	struct root_info ri;
	if (!store_file_read(s->st, "root", &root) &&
	    !root_peek(s->keys, s->vid, root.data, root.len, &ri)) {
		s->newest = root;
		s->newest_gen = ri.gen;
	} else {
		buf_free(&root);
	}
	err = fs_each_object(fs, add_missing, s);
	fs_set_commit_hook(fs, on_commit, s);
	s->last_progress = time(NULL);
	if (!err)
		err = -pthread_create(&s->thread, NULL, sync_main, s);
	s->running = err == 0;
	return first_status(s, err);
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
		pthread_mutex_unlock(&s->mu);
		bool tried = time(NULL) >= s->next_try;
		r = tried ? mirror_round(s) : 0;
		pthread_mutex_lock(&s->mu);
		if (tried && r >= 0)
			s->failing = false;
		if (r < 0) {
			s->backoff = s->backoff ? (s->backoff < 64 ? s->backoff * 2 : 64) : 1;
			s->next_try =
				time(NULL) + s->backoff + (time_t)(random_u32() % (s->backoff + 1));
		} else if (r > 0) {
			s->backoff = 0;
			s->next_try = 0;
			s->last_progress = time(NULL);
		}
		sync_write_status(s);
		if (r > 0 || s->stop)
			continue;
		wait_a_while(s, 1);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

static bool nowait_requested(struct sync *s)
{
	struct buf b = {0};
	int err = store_file_read(s->st, "nowait", &b);
	buf_free(&b);
	return err == 0;
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
		if (htab_count(s->pending) == 0 && s->remote_gen >= s->newest_gen)
			break;
		if (s->conflict || nowait_requested(s) ||
		    time(NULL) - s->last_progress > (time_t)s->o.drain_limit) {
			err = -EAGAIN;
			break;
		}
		pthread_cond_signal(&s->cv);
		wait_a_while(s, 1);
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
	if (s->has_lease && s->r->ops->del(s->r, remote_key_lease()) == 0)
		s->has_lease = false;
	if (s->running)
		sync_write_status(s);
	s->st->fetch = NULL;
	nameset_free(s->pending);
	nameset_free(s->remote_set);
	buf_free(&s->newest);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s);
}

int sync_list_snapshots(struct remote *r, const struct keyring *keys, const uint8_t vault_id[16],
			struct snapshot **out, size_t *n)
{
	uint64_t *gens = NULL;
	int err = remote_list_gens(r, &gens, n);
	struct snapshot *v = err ? NULL : calloc(*n ? *n : 1, sizeof(*v));
	if (!err && !v)
		err = -ENOMEM;
	for (size_t k = 0; !err && k < *n; k++) {
		char key[REMOTE_KEY_MAX];
		struct buf b = {0};
		v[k].gen = gens[k];
		remote_key_retained_root(key, gens[k]);
		err = r->ops->get(r, key, &b, NULL);
		if (!err && (root_peek(keys, vault_id, b.data, b.len, &v[k].info) ||
			     v[k].info.gen != gens[k]))
			err = -EBADMSG;
		buf_free(&b);
	}
	free(gens);
	if (err) {
		free(v);
		return err;
	}
	*out = v;
	return 0;
}

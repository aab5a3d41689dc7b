/* attach: bringing a cache up to date with its vault before the filesystem loads: reads and
 * authenticates the vault's root, decides between it and the cache's (fresh cache, rollback,
 * newer vault, conflict), mounts a retained snapshot, and takes the writer lease.
 * Must never accept a vault root that does not descend from the last one seen there (chain.c),
 * and never adopt a vault root over local commits that were never uploaded. */
#include "sync/engine.h"
#include "sync/remote/keys.h"
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cache/files.h"
#include <syslog.h>
#include "lib/log.h"

int attach_read_root(struct sync *s, struct buf *b, struct root_plain *rp,
		     uint8_t hash[ROOT_HASH_BYTES], char tag[TAG_MAX])
{
	int err = s->r->ops->get(s->r, remote_key_root(), REMOTE_ROOT_MAX, b, tag);
	if (!err && (err = chain_open(s, b->data, b->len, rp, hash)) == -EPROTONOSUPPORT) {
		fprintf(stderr, "coffer: %s: %s\n", s->r->url, FORMAT_NEWER_MSG);
		return err;
	}
	if (err == -EBADMSG) {
		fprintf(stderr,
			"coffer: the root on %s failed authentication: it was altered or belongs to "
			"another vault\n",
			s->r->url);
		return -EBADMSG;
	}
	return err;
}

static bool zero_hash(const uint8_t h[ROOT_HASH_BYTES])
{
	static const uint8_t zero[ROOT_HASH_BYTES];
	return memcmp(h, zero, ROOT_HASH_BYTES) == 0;
}

/* Whether the vault still holds the root this cache last uploaded or adopted (synced). A state
 * from before the chain knows only its generation; its cache root, when of that generation, is
 * byte for byte what was uploaded then. */
static bool vault_unchanged(struct sync *s, const struct buf *L, const struct root_info *li,
			    const uint8_t rh[ROOT_HASH_BYTES], uint64_t rgen)
{
	if (zero_hash(s->state.synced_hash) && li->gen == s->state.synced && s->state.synced)
		hash32(L->data, L->len, s->state.synced_hash);
	if (zero_hash(s->state.synced_hash))
		return rgen <= s->state.synced;
	return memcmp(rh, s->state.synced_hash, ROOT_HASH_BYTES) == 0;
}

static void set_synced(struct sync *s, uint64_t gen, const uint8_t hash[ROOT_HASH_BYTES])
{
	s->state.synced = gen;
	memcpy(s->state.synced_hash, hash, ROOT_HASH_BYTES);
}

/* Decides between the cache's root and the vault's, once the vault's is known to descend from
 * the last root seen there; see the cases in docs/design.md. */
static int reconcile(struct sync *s, const struct buf *R, const struct root_plain *rp,
		     const uint8_t rh[ROOT_HASH_BYTES])
{
	struct buf L = {0};
	struct root_info li = {0};
	char when[64];
	sync_format_time(rp->time_ns, when, sizeof(when));
	int err = chain_check(s, rp, rh, false);
	if (err)
		return err;
	chain_seen(s, rp, rh);
	int lerr = cache_root_read(s->st, &L);
	if (!lerr && root_peek(s->keys, s->vid, L.data, L.len, &li))
		lerr = -EBADMSG;
	if (!lerr && L.len == R->len && memcmp(L.data, R->data, L.len) == 0) {
		set_synced(s, rp->gen, rh); /* the same root on both sides */
		buf_free(&L);
		return 0;
	}
	if (!lerr && chain_same_commit(s, &L, rp)) {
		/* the vault holds this cache's root as published (re-sealed), and the mount that
		 * published it stopped before recording that: the same commit */
		err = cache_root_replace(s->st, R->data, R->len);
		if (!err)
			set_synced(s, rp->gen, rh);
		buf_free(&L);
		return err;
	}
	bool local = !lerr && li.gen > s->state.synced; /* commits never uploaded */
	if (lerr == -ENOENT || (!lerr && !local && !vault_unchanged(s, &L, &li, rh, rp->gen))) {
		err = cache_root_replace(s->st, R->data, R->len);
		if (!err) {
			fprintf(stderr,
				"coffer: fetched generation %" PRIu64 " (committed %s) from %s\n",
				rp->gen, when, s->r->url);
			set_synced(s, rp->gen, rh);
		}
	} else if (lerr) {
		fprintf(stderr, "coffer: the cache's root cannot be read: %s\n", strerror(-lerr));
		err = lerr;
	} else if (vault_unchanged(s, &L, &li, rh, rp->gen)) {
		/* local commits wait for upload; the publish re-seals them over the vault's root */
	} else if (!s->o.readonly) {
		err = sync_merge(s, &L, R);
	} else {
		fprintf(stderr,
			"coffer: conflict: %s holds generation %" PRIu64
			" written elsewhere, and this "
			"cache holds generation %" PRIu64 " that was never uploaded\n",
			s->r->url, rp->gen, li.gen);
		err = -ESTALE;
	}
	buf_free(&L);
	return err;
}

static int take_lease(struct sync *s)
{
	struct lease l;
	int err = sync_lease_take(s, &l);
	if (err == -EBUSY) {
		char who[LEASE_HOST_MAX + 96];
		sync_lease_holder(&l, who, sizeof(who));
		fprintf(stderr,
			"coffer: the vault is being written by %s; mount with -o ro, or wait\n",
			who);
	}
	return err;
}

static int attach_online(struct sync *s)
{
	struct buf R = {0};
	struct root_plain rp = {0};
	uint8_t rh[ROOT_HASH_BYTES];
	int err = attach_read_root(s, &R, &rp, rh, s->v.root_tag);
	if (err == -ENOENT) {
		s->v.has_root = false;
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
		err = reconcile(s, &R, &rp, rh);
	}
	root_plain_free(&rp);
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
	int err = s->r->ops->get(s->r, key, REMOTE_ROOT_MAX, &R, NULL);
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
		err = cache_root_replace(s->st, R.data, R.len);
	}
	buf_free(&R);
	return err;
}

static bool unreachable(int err)
{
	return err == -EHOSTDOWN || err == -EAGAIN || err == -ETIMEDOUT || err == -ECONNREFUSED;
}

/* An unreachable vault is fine when the cache has a root to work from. */
static int attach_offline(struct sync *s, int err)
{
	struct buf L = {0};
	int lerr = cache_root_read(s->st, &L);
	buf_free(&L);
	if (lerr) {
		fprintf(stderr, "coffer: cannot reach %s, and this cache is empty\n", s->r->url);
		return err;
	}
	fprintf(stderr,
		"coffer: cannot reach %s: working from the cache; changes will upload when it is "
		"back\n",
		s->r->url);
	s->v.offline = true; /* attach_late catches up at the first round that reaches it */
	return 0;
}

/* What the first round that reaches the vault after an offline attach found: the vault's
 * root (or none) becomes the base of the next publish when this cache was the last to sync with
 * it; otherwise uploads stop, with the reason in the log and the status. */
static int adopt_late(struct sync *s, const struct buf *R, const struct root_plain *rp,
		      const uint8_t rh[ROOT_HASH_BYTES], const char *tag)
{
	struct buf L = {0};
	struct root_info li = {0};
	int lerr = cache_root_read(s->st, &L);
	if (!lerr && root_peek(s->keys, s->vid, L.data, L.len, &li))
		lerr = -EBADMSG;
	bool same =
		!lerr && ((L.len == R->len && memcmp(L.data, R->data, L.len) == 0) ||
			  chain_same_commit(s, &L, rp) || vault_unchanged(s, &L, &li, rh, rp->gen));
	buf_free(&L);
	pthread_mutex_lock(&s->mu);
	chain_seen(s, rp, rh);
	if (same)
		snprintf(s->v.root_tag, sizeof(s->v.root_tag), "%s", tag);
	else
		s->v.conflict = true;
	pthread_mutex_unlock(&s->mu);
	int err = state_save(s->st, s->vid, &s->state);
	if (same)
		return err;
	log_msg(LOG_ERR,
		"sync: %s moved on to generation %" PRIu64 " while this device was offline; "
		"uploads stop, local data is kept; unmount and mount again to merge this device's "
		"changes with it",
		s->r->url, rp->gen);
	sync_report(s, -ESTALE, "the vault changed while this device was offline");
	return -ESTALE;
}

int attach_late(struct sync *s)
{
	struct buf R = {0};
	struct root_plain rp = {0};
	uint8_t rh[ROOT_HASH_BYTES];
	char tag[TAG_MAX];
	int err = s->r->ops->get(s->r, remote_key_root(), REMOTE_ROOT_MAX, &R, tag);
	if (err == -ENOENT && s->state.seen > 0) {
		log_msg(LOG_ERR,
			"sync: %s has no root, but this cache has seen generation %" PRIu64
			" there: the remote lost or deleted the vault; uploads stop",
			s->r->url, s->state.seen);
		err = -ESTALE;
	} else if (!err && (err = chain_open(s, R.data, R.len, &rp, rh)) == -EPROTONOSUPPORT) {
		log_msg(LOG_ERR, "sync: the root on %s: %s; uploads stop", s->r->url,
			FORMAT_NEWER_MSG);
		err = -EBADMSG;
	} else if (err == -EBADMSG) {
		log_msg(LOG_ERR,
			"sync: the root on %s failed authentication: it was altered or belongs to "
			"another vault; uploads stop",
			s->r->url);
		err = -EBADMSG;
	} else if (!err) {
		err = chain_check(s, &rp, rh, true);
	}
	if (err == -ENOENT)
		err = 0; /* no root yet, and none seen: the first publish creates it */
	else if (!err)
		err = adopt_late(s, &R, &rp, rh, tag);
	else if (err == -ESTALE || err == -EBADMSG)
		sync_report(s, err, "checking the vault's root");
	else
		sync_report(s, err, "reading the vault's root");
	pthread_mutex_lock(&s->mu);
	if (err == -ESTALE || err == -EBADMSG)
		s->v.conflict = true;
	if (err == 0 || s->v.conflict)
		s->v.offline = false;
	pthread_mutex_unlock(&s->mu);
	root_plain_free(&rp);
	buf_free(&R);
	return err;
}

/* Whether the cache holds no root yet (before attach fetches one). */
static bool cache_is_fresh(struct store *st)
{
	struct buf L = {0};
	int err = cache_root_read(st, &L);
	buf_free(&L);
	return err == -ENOENT;
}

static int attach(struct sync *s)
{
	if (s->o.snapshot)
		return attach_snapshot(s);
	int err = attach_online(s);
	if (unreachable(err))
		return attach_offline(s, err);
	if (err && err != -ESTALE && err != -EBUSY && err != -EBADMSG && err != -EPROTONOSUPPORT)
		fprintf(stderr, "coffer: cannot use %s: %s\n", s->r->url, remote_strerror(err));
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
	int err = state_load(st, s->vid, &s->state);
	if (err)
		fprintf(stderr, "coffer: the cache's sync.state is damaged: %s\n", strerror(-err));
	bool fresh = !err && cache_is_fresh(st);
	if (!err)
		err = attach(s);
	if (!err)
		err = state_save(st, s->vid, &s->state);
	if (!err) /* before the filesystem loads: its fetches add to the set */
		err = !(s->q.pending = htab_new()) || !(s->v.objects = htab_new())
			      ? -ENOMEM
			      : sync_known_load(s, fresh);
	if (err) {
		nameset_free(s->q.pending);
		nameset_free(s->v.objects);
		pthread_mutex_destroy(&s->mu);
		pthread_cond_destroy(&s->cv);
		free(s);
		return err;
	}
	store_set_fetch(st, fetch_object, s);
	*out = s;
	return 0;
}

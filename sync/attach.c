/* attach: bringing a cache up to date with its vault before the filesystem loads: reads and
 * authenticates the vault's root, decides between it and the cache's (fresh cache, rollback,
 * newer vault, conflict), mounts a retained snapshot, and takes the writer lease.
 * Must never accept a vault root older than one this cache has seen, and never adopt a vault
 * root over local commits that were never uploaded. */
#include "sync/engine.h"
#include "sync/remote/keys.h"
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cache/files.h"

int attach_read_root(struct sync *s, struct buf *b, struct root_info *ri, char tag[TAG_MAX])
{
	int err = s->r->ops->get(s->r, remote_key_root(), REMOTE_ROOT_MAX, b, tag);
	if (!err && root_peek(s->keys, s->vid, b->data, b->len, ri)) {
		fprintf(stderr,
			"coffer: the root on %s failed authentication: it was altered or belongs to "
			"another vault\n",
			s->r->url);
		return -EBADMSG;
	}
	return err;
}

/* Whether both sides committed since the last root this cache uploaded or adopted (or the vault
 * is ahead of commits this cache never uploaded): a merge is due. */
static bool diverged(const struct sync *s, const struct buf *R, const struct buf *L,
		     const struct root_info *ri, const struct root_info *li)
{
	bool same = R->len == L->len && memcmp(R->data, L->data, L->len) == 0;
	return !same &&
	       (ri->gen >= li->gen || (ri->gen > s->state.synced && li->gen > s->state.synced));
}

/* Decides between the cache's root and the vault's; see the cases in docs/design.md. */
static int reconcile(struct sync *s, const struct buf *R, const struct root_info *ri)
{
	struct buf L = {0};
	struct root_info li = {0};
	char when[64];
	sync_format_time(ri->time_ns, when, sizeof(when));
	int lerr = cache_root_read(s->st, &L);
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
		err = cache_root_replace(s->st, R->data, R->len);
		if (!err)
			fprintf(stderr,
				"coffer: fetched generation %" PRIu64 " (committed %s) from %s\n",
				ri->gen, when, s->r->url);
		s->state.synced = err ? s->state.synced : ri->gen;
	} else if (lerr) {
		fprintf(stderr, "coffer: the cache's root cannot be read: %s\n", strerror(-lerr));
		err = lerr;
	} else if (diverged(s, R, &L, ri, &li) && !s->o.readonly) {
		err = sync_merge(s, &L, R);
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
		sync_format_time((int64_t)l.expiry * 1000000000, when, sizeof(when));
		fprintf(stderr,
			"coffer: the vault is being written by %s (its lease expires %s); mount with "
			"-o ro, or wait\n",
			l.host[0] ? l.host : "another device", when);
		return -EBUSY;
	}
	if (err && err != -ENOENT && err != -EBADMSG)
		return err;
	err = lease_put(s->r, s->keys, s->vid, s->state.device, s->o.lease_ttl,
			err == -ENOENT ? NULL : tag, s->v.lease_tag);
	if (!err) {
		s->v.has_lease = true;
		s->v.lease_renewed = time(NULL);
	}
	return err;
}

static int attach_online(struct sync *s)
{
	struct buf R = {0};
	struct root_info ri;
	int err = attach_read_root(s, &R, &ri, s->v.root_tag);
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
		s->v.has_root = true;
		s->v.gen = ri.gen;
		s->v.time = ri.time_ns;
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
	return 0;
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
	if (err && err != -ESTALE && err != -EBUSY && err != -EBADMSG)
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
	int err = state_load(st, &s->state);
	if (err)
		fprintf(stderr, "coffer: the cache's sync.state is damaged: %s\n", strerror(-err));
	bool fresh = !err && cache_is_fresh(st);
	if (!err)
		err = attach(s);
	if (!err)
		err = state_save(st, &s->state);
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

/* chain: the hash chain of vault roots (docs/design.md, "Forks"): every published root names
 * the root it replaced by generation and BLAKE2b-256 of its sealed bytes, carries the last 15
 * published roots, and reaches all earlier ones through sealed history segments on the vault
 * (format/history.c). Proves that a vault root descends from the last root this device saw,
 * and re-seals a local root over the vault's root for publishing.
 * Must never accept a vault root that does not provably descend from the last one seen, never
 * trust a history segment that does not hash to what the authenticated root names, and never
 * change a root's generation or pages when re-sealing it. */
#include "sync/engine.h"
#include "sync/remote/keys.h"
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include "format/meta.h"
#include "lib/log.h"

void chain_short_hash(const uint8_t hash[ROOT_HASH_BYTES], char out[9])
{
	for (int k = 0; k < 4; k++)
		snprintf(out + 2 * k, 3, "%02x", hash[k]);
}

int chain_open(struct sync *s, const void *sealed, size_t len, struct root_plain *rp,
	       uint8_t hash[ROOT_HASH_BYTES])
{
	int err = root_unseal(s->keys->root, s->vid, sealed, len, rp);
	if (err)
		return err == -EPROTONOSUPPORT ? err : -EBADMSG;
	hash32(sealed, len, hash);
	return 0;
}

void chain_seen(struct sync *s, const struct root_plain *rp, const uint8_t hash[ROOT_HASH_BYTES])
{
	s->v.has_root = true;
	s->v.gen = rp->gen;
	s->v.time = rp->time_ns;
	memcpy(s->v.hash, hash, ROOT_HASH_BYTES);
	s->v.chain = rp->chain;
	s->state.seen = rp->gen;
	s->state.seen_time = rp->time_ns;
	memcpy(s->state.seen_hash, hash, ROOT_HASH_BYTES);
}

/* Reads the segment of index `index` whose hash is `hash`, and checks it is exactly that. */
static int get_segment(struct sync *s, uint64_t index, const uint8_t hash[ROOT_HASH_BYTES],
		       struct hist_seg *seg)
{
	char key[REMOTE_KEY_MAX];
	struct buf b = {0}, plain = {0};
	uint8_t got[ROOT_HASH_BYTES], aad[HIST_AAD_BYTES];
	remote_key_history(key, hash);
	int err = s->r->ops->get(s->r, key, REMOTE_HISTORY_MAX, &b, NULL);
	if (!err) {
		hash32(b.data, b.len, got);
		hist_aad(s->vid, aad);
		err = memcmp(got, hash, ROOT_HASH_BYTES) ||
				      meta_open(s->keys->meta, aad, sizeof(aad), b.data, b.len,
						&plain) ||
				      hist_decode(plain.data, plain.len, seg) || seg->index != index
			      ? -EBADMSG
			      : 0;
	}
	buf_free(&plain);
	buf_free(&b);
	return err;
}

/* Looks the generation g up among the ancestors of rp: 0 (found: *out), -ENOENT, -EBADMSG (a
 * segment missing or damaged: descent cannot be proved), or a remote error. */
static int ancestor(struct sync *s, const struct root_plain *rp, uint64_t g, struct root_link *out)
{
	uint64_t idx;
	uint8_t h[ROOT_HASH_BYTES];
	int r = chain_locate(&rp->chain, g, out, &idx, h);
	for (unsigned hops = 0; r == 1; hops++) {
		struct hist_seg seg;
		int err = hops < HIST_MAX_HOPS ? get_segment(s, idx, h, &seg) : -EBADMSG;
		if (err)
			return err == -ENOENT ? -EBADMSG : err;
		r = hist_step(&seg, g, out, &idx, h);
	}
	return r;
}

static void say(bool to_log, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(bool to_log, const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (to_log)
		log_msg(LOG_ERR, "%s", msg);
	else
		fprintf(stderr, "coffer: %s\n", msg);
}

int chain_check(struct sync *s, const struct root_plain *rp, const uint8_t hash[ROOT_HASH_BYTES],
		bool to_log)
{
	static const uint8_t zero[ROOT_HASH_BYTES];
	const struct sync_state *st = &s->state;
	bool known = memcmp(st->seen_hash, zero, ROOT_HASH_BYTES) != 0;
	if (!st->seen || (known && memcmp(hash, st->seen_hash, ROOT_HASH_BYTES) == 0))
		return 0;
	char vh[9], sh[9], vt[64], stime[64];
	chain_short_hash(hash, vh);
	chain_short_hash(st->seen_hash, sh);
	sync_format_time(rp->time_ns, vt, sizeof(vt));
	sync_format_time(st->seen_time, stime, sizeof(stime));
	if (!known && rp->gen >= st->seen)
		return 0; /* a state from before the chain: generations only, this once */
	int err = rp->gen < st->seen ? -ESTALE : 0;
	struct root_link found;
	if (!err)
		err = rp->gen == st->seen ? -ENOENT : ancestor(s, rp, st->seen, &found);
	if (!err && memcmp(found.hash, st->seen_hash, ROOT_HASH_BYTES) == 0)
		return 0;
	if (err == -EBADMSG) {
		say(to_log,
		    "cannot prove that generation %" PRIu64 " on %s (root %s) descends from "
		    "generation %" PRIu64 " (root %s) seen there: its history is missing or "
		    "damaged; refusing it",
		    rp->gen, s->r->url, vh, st->seen, sh);
		return -EBADMSG;
	}
	if (err && err != -ENOENT && err != -ESTALE)
		return err;
	say(to_log,
	    "%s detected: %s holds generation %" PRIu64 " (committed %s, root %s), which does not "
	    "descend from generation %" PRIu64 " (committed %s, root %s) that this device saw "
	    "there; refusing it, nothing local is changed",
	    rp->gen < st->seen ? "rollback" : "fork", s->r->url, rp->gen, vt, vh, st->seen, stime,
	    sh);
	return -ESTALE;
}

bool chain_same_commit(struct sync *s, const struct buf *L, const struct root_plain *rp)
{
	struct root_plain lp;
	if (root_unseal(s->keys->root, s->vid, L->data, L->len, &lp))
		return false;
	bool same =
		lp.gen == rp->gen && lp.time_ns == rp->time_ns && lp.next_ino == rp->next_ino &&
		lp.live_inodes == rp->live_inodes && lp.live_bytes == rp->live_bytes &&
		lp.npages == rp->npages &&
		(!lp.npages || memcmp(lp.pages, rp->pages, lp.npages * sizeof(*lp.pages)) == 0) &&
		lp.ntables == rp->ntables &&
		(!lp.ntables ||
		 memcmp(lp.tables, rp->tables, lp.ntables * sizeof(*lp.tables)) == 0);
	root_plain_free(&lp);
	return same;
}

/* Seals seg and stores it on the vault; hash receives its hash. */
static int put_segment(struct sync *s, const struct hist_seg *seg, uint8_t hash[ROOT_HASH_BYTES])
{
	char key[REMOTE_KEY_MAX];
	struct buf plain = {0}, sealed = {0};
	uint8_t aad[HIST_AAD_BYTES];
	hist_aad(s->vid, aad);
	hist_encode(seg, &plain);
	int err = meta_seal(s->keys->meta, aad, sizeof(aad), &plain, &sealed);
	if (!err) {
		hash32(sealed.data, sealed.len, hash);
		remote_key_history(key, hash);
		err = s->r->ops->put(s->r, key, sealed.data, sealed.len);
	}
	buf_free(&sealed);
	buf_free(&plain);
	return err;
}

int chain_reseal(struct sync *s, const struct buf *local, bool has_root, uint64_t gen,
		 const uint8_t hash[ROOT_HASH_BYTES], const struct root_chain *vchain,
		 struct buf *out, struct root_chain *chain)
{
	struct root_plain rp;
	int err = root_unseal(s->keys->root, s->vid, local->data, local->len, &rp);
	if (err)
		return err;
	memset(chain, 0, sizeof(*chain));
	if (has_root) {
		struct hist_seg seg;
		struct root_link parent = {.gen = gen};
		memcpy(parent.hash, hash, ROOT_HASH_BYTES);
		*chain = *vchain;
		if (chain->ntail >= HIST_ENTRIES) /* never decoded so: defensive */
			err = -EINVAL;
		uint8_t sh[ROOT_HASH_BYTES];
		if (!err && chain_advance(chain, &parent, &seg) == 1 &&
		    !(err = put_segment(s, &seg, sh)))
			chain_add_segment(chain, &seg, sh);
	}
	struct buf plain = {0};
	uint8_t aad[ROOT_AAD_BYTES];
	rp.chain = *chain;
	if (!err) {
		root_encode(&rp, &plain);
		root_aad(s->vid, aad);
		err = meta_seal(s->keys->root, aad, sizeof(aad), &plain, out);
	}
	if (plain.data)
		wipe(plain.data, plain.cap);
	buf_free(&plain);
	root_plain_free(&rp);
	return err;
}

/* fetch: the object store's fetch hook: brings an object into the cache from the vault, asking
 * for no more bytes than the object can hold (a chunk's exact size, a page's or table's cap) and
 * opening them with the right key and AAD before they are installed; a cached copy that failed to
 * open is moved aside and replaced, when the vault holds a copy this device knows of. Called by the
 * filesystem without any of its locks held, from any thread.
 * Must never install bytes that do not open as what the filesystem asked for, and never move
 * aside the only copy of an object (one that waits for upload). */
#include "sync/engine.h"
#include "sync/remote/keys.h"
#include "format/block.h"
#include "format/meta.h"
#include "format/nametab.h"
#include "format/dirbucket.h"
#include "format/page.h"
#include <errno.h>
#include <stdio.h>
#include <syslog.h>
#include "lib/log.h"

/* 0 when every block of a chunk object of w->nblocks blocks opens. */
static int verify_chunk(const struct keyring *k, const struct oname *n, const struct obj_want *w,
			const struct buf *b)
{
	unsigned char plain[DATA_BLOCK];
	int err = b->len == (size_t)w->nblocks * SEALED_BLOCK ? 0 : -EBADMSG;
	for (uint32_t i = 0; !err && i < w->nblocks; i++)
		err = block_open(k->data, n, i, b->data + (size_t)i * SEALED_BLOCK, plain);
	wipe(plain, sizeof(plain));
	return err;
}

/* 0 when a pack (whole blocks, at most PACK_MAX_BYTES) holds the blocks w asks for and they
 * open as blocks 0.. of w->chunk: what the request needs is authentic; the pack's other blocks
 * are checked when they are read. */
static int verify_pack(const struct keyring *k, const struct obj_want *w, const struct buf *b)
{
	unsigned char plain[DATA_BLOCK];
	uint64_t end = ((uint64_t)w->first + w->nblocks) * SEALED_BLOCK;
	int err = b->len % SEALED_BLOCK == 0 && b->len <= PACK_MAX_BYTES && end <= b->len &&
				  w->nblocks
			  ? 0
			  : -EBADMSG;
	for (uint32_t i = 0; !err && i < w->nblocks; i++)
		err = block_open(k->data, &w->chunk, i,
				 b->data + ((size_t)w->first + i) * SEALED_BLOCK, plain);
	wipe(plain, sizeof(plain));
	return err;
}

/* 0 when a sealed metadata object opens under the meta key with aad; its payload to *out
 * (when out) for the caller to free. */
static int verify_meta(const struct keyring *k, const uint8_t *aad, size_t aadlen,
		       const struct buf *b, struct buf *out)
{
	struct buf plain = {0};
	int err = meta_open(k->meta, aad, aadlen, b->data, b->len, &plain);
	if (!err && out) {
		*out = plain;
		return 0;
	}
	if (plain.data)
		wipe(plain.data, plain.len);
	buf_free(&plain);
	return err;
}

/* The additional data a metadata object of w->kind named n is sealed with: its length. */
static size_t meta_kind_aad(const struct oname *n, const struct obj_want *w,
			    uint8_t aad[PAGE_AAD_BYTES])
{
	_Static_assert(PAGE_AAD_BYTES == NAMETAB_AAD_BYTES, "one AAD buffer fits both");
	_Static_assert(PAGE_AAD_BYTES == DIRBUCKET_AAD_BYTES, "and buckets");
	if (w->kind == OBJ_TABLE)
		nametab_aad(n, aad);
	else if (w->kind == OBJ_BUCKET)
		dirbucket_aad(n, aad);
	else
		page_aad(n, aad);
	return PAGE_AAD_BYTES;
}

/* The most bytes the vault may send for what w says. */
static size_t want_max(const struct obj_want *w)
{
	switch (w->kind) {
	case OBJ_CHUNK:
		return (size_t)w->nblocks * SEALED_BLOCK;
	case OBJ_PACK:
		return PACK_MAX_BYTES;
	case OBJ_TABLE:
		return NAMETAB_SEALED_MAX;
	default:
		return REMOTE_PAGE_MAX;
	}
}

int fetch_check(const struct keyring *k, const struct oname *n, const struct obj_want *w,
		const struct buf *b, struct buf *plain)
{
	if (w->kind == OBJ_CHUNK)
		return verify_chunk(k, n, w, b);
	if (w->kind == OBJ_PACK)
		return verify_pack(k, w, b);
	uint8_t aad[PAGE_AAD_BYTES];
	size_t aadlen = meta_kind_aad(n, w, aad);
	return verify_meta(k, aad, aadlen, b, plain);
}

int fetch_get_checked(struct remote *r, const struct keyring *k, const struct oname *n,
		      const struct obj_want *w, struct buf *b, struct buf *plain)
{
	char key[REMOTE_KEY_MAX];
	remote_key_object(key, n);
	int err = r->ops->get(r, key, want_max(w), b, NULL);
	if (err == -EFBIG)
		err = -EBADMSG; /* longer than the object can be */
	return err ? err : fetch_check(k, n, w, b, plain);
}

static int fetch_verified(struct sync *s, const struct oname *n, const struct obj_want *w)
{
	struct buf b = {0};
	int err = fetch_get_checked(s->r, s->keys, n, w, &b, NULL);
	if (!err)
		err = store_obj_install(s->st, n, b.data, b.len);
	buf_free(&b);
	if (!err)
		err = sync_known_add(s, n);
	return err;
}

/* Whether the cache's copy of n may be moved aside: the vault holds one this device uploaded or
 * verified, and no root waits to upload the cache's. */
static bool replaceable(struct sync *s, const struct oname *n)
{
	pthread_mutex_lock(&s->mu);
	bool ok = nameset_has(s->v.objects, n) && !nameset_has(s->q.pending, n);
	pthread_mutex_unlock(&s->mu);
	return ok;
}

int fetch_object(void *arg, const struct oname *n, const struct obj_want *w, bool replace)
{
	struct sync *s = arg;
	char hex[2 * NAME_BYTES + 1];
	oname_hex(n, hex);
	if (replace && !replaceable(s, n))
		return -EBADMSG; /* perhaps the only copy: kept as it is */
	int err = replace ? store_obj_quarantine(s->st, n) : 0;
	if (!err)
		err = fetch_verified(s, n, w);
	if (err == -EBADMSG)
		log_msg(LOG_ERR,
			"object %s from the vault is damaged (authentication failed, or the wrong "
			"size): not installed",
			hex);
	if (err == -EBADMSG || err == -ENOENT)
		return err;
	if (err) {
		pthread_mutex_lock(&s->mu);
		sync_error(s, err, "fetching an object");
		pthread_mutex_unlock(&s->mu);
		return -EIO;
	}
	if (replace)
		log_msg(LOG_NOTICE,
			"object %s: the cache's damaged copy was replaced by the vault's", hex);
	return 0;
}

/* state: sync.state in the cache and its copy outside it, and the lease on the vault (see
 * state.h): the I/O around the codecs of format/state.c and format/lease.c.
 * Must never lower a remembered generation (the higher of the two copies wins), and never write
 * a lease in plaintext. */
#include "sync/state.h"
#include "cache/files.h"
#include "sync/remote/keys.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The outside copy of a state: -ENOENT when missing; a damaged one is reported and ignored
 * (the local machine is trusted: it can only be a torn or hand-edited file). */
static int load_outside(struct store *st, const uint8_t vid[VAULT_ID_BYTES], struct sync_state *o)
{
	struct buf b = {0};
	int err = cache_outside_state_read(st, vid, &b);
	if (!err && (err = state_decode(b.data, b.len, o)))
		fprintf(stderr, "coffer: the state outside the cache is damaged; ignoring it\n");
	buf_free(&b);
	return err;
}

int state_load(struct store *st, const uint8_t vid[VAULT_ID_BYTES], struct sync_state *s)
{
	struct buf b = {0};
	struct sync_state o;
	memset(s, 0, sizeof(*s));
	int err = cache_state_read(st, &b);
	if (!err)
		err = state_decode(b.data, b.len, s);
	buf_free(&b);
	int oerr = load_outside(st, vid, &o);
	if (err == -ENOENT && !oerr) { /* a cleared cache: what it had seen is remembered */
		*s = o;
		s->synced = 0;
		memset(s->synced_hash, 0, sizeof(s->synced_hash));
	} else if (err == -ENOENT) { /* a new cache: a new device */
		random_bytes(s->device, sizeof(s->device));
	} else if (err) {
		return err;
	} else if (!oerr && o.seen > s->seen) { /* kept in step: never the lower of the two */
		s->seen = o.seen;
		s->seen_time = o.seen_time;
		memcpy(s->seen_hash, o.seen_hash, sizeof(s->seen_hash));
	}
	return err || oerr ? state_save(st, vid, s) : 0;
}

int state_save(struct store *st, const uint8_t vid[VAULT_ID_BYTES], const struct sync_state *s)
{
	struct buf b = {0};
	state_encode(s, &b);
	int err = b.err ? b.err : cache_state_replace(st, b.data, b.len);
	int oerr = err ? 0 : cache_outside_state_replace(st, vid, b.data, b.len);
	if (oerr)
		fprintf(stderr, "coffer: cannot keep the state outside the cache: %s\n",
			strerror(-oerr));
	buf_free(&b);
	return err;
}

int lease_get(struct remote *r, const struct keyring *k, const uint8_t vid[VAULT_ID_BYTES],
	      struct lease *l, char tag[TAG_MAX])
{
	struct buf b = {0};
	int err = r->ops->get(r, remote_key_lease(), REMOTE_LEASE_MAX, &b, tag);
	if (!err)
		err = lease_open(k->meta, vid, b.data, b.len, l);
	buf_free(&b);
	return err;
}

int lease_put(struct remote *r, const struct keyring *k, const uint8_t vid[VAULT_ID_BYTES],
	      const uint8_t device[DEVICE_ID_BYTES], unsigned ttl, const char *expect,
	      char tag[TAG_MAX])
{
	struct lease l = {.expiry = time(NULL) + ttl};
	memcpy(l.device, device, DEVICE_ID_BYTES);
	gethostname(l.host, LEASE_HOST_MAX);
	struct buf b = {0};
	int err = lease_seal(k->meta, vid, &l, &b);
	if (!err)
		err = r->ops->put_if(r, remote_key_lease(), b.data, b.len, expect, tag);
	buf_free(&b);
	return err;
}

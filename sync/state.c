/* state: sync.state in the cache and the lease on the vault (see state.h): the I/O around the
 * codecs of format/state.c and format/lease.c.
 * Must never lower a remembered generation, and never write a lease in plaintext. */
#include "sync/state.h"
#include "cache/files.h"
#include "sync/remote/keys.h"
#include <errno.h>
#include <string.h>
#include <unistd.h>

int state_load(struct store *st, struct sync_state *s)
{
	struct buf b = {0};
	memset(s, 0, sizeof(*s));
	int err = cache_state_read(st, &b);
	if (!err)
		err = state_decode(b.data, b.len, s);
	buf_free(&b);
	if (err == -ENOENT) { /* a new cache: a new device */
		random_bytes(s->device, sizeof(s->device));
		return state_save(st, s);
	}
	return err;
}

int state_save(struct store *st, const struct sync_state *s)
{
	struct buf b = {0};
	state_encode(s, &b);
	int err = b.err ? b.err : cache_state_replace(st, b.data, b.len);
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

/* lease: the writer lease as bytes (see lease.h).
 * Must never produce a lease in plaintext, nor one whose size depends on the host name. */
#include "format/lease.h"
#include "format/meta.h"
#include <errno.h>
#include <string.h>

static void lease_aad(const uint8_t vault_id[VAULT_ID_BYTES], uint8_t aad[LEASE_AAD_BYTES])
{
	meta_vault_aad(LEASE_MAGIC, vault_id, aad);
}

int lease_encode(const struct lease *l, struct buf *out)
{
	size_t hl = strnlen(l->host, sizeof(l->host));
	if (hl > LEASE_HOST_MAX)
		return -ENAMETOOLONG;
	size_t start = out->len;
	buf_put(out, l->device, DEVICE_ID_BYTES);
	buf_u64(out, (uint64_t)l->expiry);
	buf_u8(out, (uint8_t)hl);
	buf_put(out, l->host, hl);
	while (!out->err && out->len < start + LEASE_PLAIN)
		buf_u8(out, 0);
	return out->err;
}

int lease_decode(const unsigned char *b, size_t len, struct lease *l)
{
	struct rd r = {.p = b, .left = len};
	memset(l, 0, sizeof(*l));
	const void *dev = rd_take(&r, DEVICE_ID_BYTES);
	l->expiry = (time_t)rd_u64(&r);
	uint8_t hl = rd_u8(&r);
	const void *host = rd_take(&r, hl);
	if (r.err || len != LEASE_PLAIN || hl > LEASE_HOST_MAX)
		return -EINVAL;
	memcpy(l->device, dev, DEVICE_ID_BYTES);
	memcpy(l->host, host, hl);
	return 0;
}

int lease_seal(const struct aead_key *key, const uint8_t vault_id[VAULT_ID_BYTES],
	       const struct lease *l, struct buf *out)
{
	struct buf plain = {0};
	uint8_t aad[LEASE_AAD_BYTES];
	int err = lease_encode(l, &plain);
	if (!err && buf_reserve(out, LEASE_SEALED))
		err = -ENOMEM;
	if (!err) {
		lease_aad(vault_id, aad);
		aead_seal(out->data + out->len, plain.data, LEASE_PLAIN, aad, sizeof(aad), key);
		out->len += LEASE_SEALED;
	}
	buf_free(&plain);
	return err;
}

int lease_open(const struct aead_key *key, const uint8_t vault_id[VAULT_ID_BYTES],
	       const unsigned char *b, size_t len, struct lease *l)
{
	uint8_t aad[LEASE_AAD_BYTES], plain[LEASE_PLAIN];
	lease_aad(vault_id, aad);
	if (len != LEASE_SEALED || aead_open(plain, b, len, aad, sizeof(aad), key) ||
	    lease_decode(plain, sizeof(plain), l))
		return -EBADMSG;
	return 0;
}

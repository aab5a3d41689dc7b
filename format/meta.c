/* meta: padded sealing of pages and roots (see meta.h).
 * Must never return a payload whose length field points past the opened plaintext. */
#include "format/meta.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

void meta_vault_aad(const char magic[4], const uint8_t vault_id[VAULT_ID_BYTES],
		    uint8_t aad[4 + VAULT_ID_BYTES])
{
	memcpy(aad, magic, 4);
	memcpy(aad + 4, vault_id, VAULT_ID_BYTES);
}

/* Powers of two from 512 bytes to 64 KiB, then multiples of 64 KiB. */
size_t meta_bucket(size_t len)
{
	size_t b = META_BUCKET_MIN;
	while (b < len && b < META_BUCKET_STEP)
		b *= 2;
	return b >= len ? b : (len + META_BUCKET_STEP - 1) / META_BUCKET_STEP * META_BUCKET_STEP;
}

int meta_seal(const struct aead_key *key, const void *aad, size_t aadlen, const struct buf *plain,
	      struct buf *out)
{
	if (plain->err || plain->len > UINT32_MAX - META_BUCKET_STEP)
		return -ENOMEM;
	size_t padded = meta_bucket(plain->len + META_LEN_BYTES);
	unsigned char *tmp = calloc(1, padded);
	if (!tmp || buf_reserve(out, padded + SEAL_OVERHEAD)) {
		free(tmp);
		return -ENOMEM;
	}
	for (unsigned k = 0; k < META_LEN_BYTES; k++)
		tmp[k] = (unsigned char)(plain->len >> (8 * k));
	memcpy(tmp + META_LEN_BYTES, plain->data, plain->len);
	aead_seal(out->data + out->len, tmp, padded, aad, aadlen, key);
	out->len += padded + SEAL_OVERHEAD;
	wipe(tmp, padded);
	free(tmp);
	return 0;
}

int meta_open(const struct aead_key *key, const void *aad, size_t aadlen, const unsigned char *p,
	      size_t len, struct buf *plain)
{
	if (len < SEAL_OVERHEAD + META_LEN_BYTES)
		return -EBADMSG;
	if (buf_reserve(plain, len))
		return -ENOMEM;
	if (aead_open(plain->data, p, len, aad, aadlen, key))
		return -EBADMSG;
	size_t n = len - SEAL_OVERHEAD;
	uint32_t inner = (uint32_t)plain->data[0] | (uint32_t)plain->data[1] << 8 |
			 (uint32_t)plain->data[2] << 16 | (uint32_t)plain->data[3] << 24;
	if (inner > n - META_LEN_BYTES)
		return -EBADMSG;
	memmove(plain->data, plain->data + META_LEN_BYTES, inner);
	plain->len = inner;
	return 0;
}

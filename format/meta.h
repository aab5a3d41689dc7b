/* meta: the padded sealing of metadata objects (coffer-format(5), "Metadata sealing"): L (u32) ||
 * payload || zeros up to a size bucket, sealed whole, so the stored size shows only the bucket.
 * Pure: crypto only; which key and AAD is the caller's (pages, roots). */
#ifndef COFFER_FORMAT_META_H
#define COFFER_FORMAT_META_H
#include <stddef.h>
#include "format/format.h"
#include "lib/buf.h"

/* The additional data of a vault-wide object (roots, history segments, the lease): its 4-byte
 * magic || the vault id. */
void meta_vault_aad(const char magic[4], const uint8_t vault_id[VAULT_ID_BYTES],
		    uint8_t aad[4 + VAULT_ID_BYTES]);
/* The padded plaintext size for len bytes (L's 4 bytes included). */
size_t meta_bucket(size_t len);
/* Appends the sealed, padded plain to out: 0 or -ENOMEM (also when plain->err is set). */
int meta_seal(const struct aead_key *key, const void *aad, size_t aadlen, const struct buf *plain,
	      struct buf *out);
/* Opens p into plain (the payload only): 0, -EBADMSG (damaged, foreign) or -ENOMEM. */
int meta_open(const struct aead_key *key, const void *aad, size_t aadlen, const unsigned char *p,
	      size_t len, struct buf *plain);

#endif

/* root: the codec of roots (coffer-format(5), "Roots"): generation, commit time, inode and byte
 * counts, format parameters, the names of the inode pages and (version 2) the chain section:
 * the parent root and the published history (format/history.h), sealed under the root key.
 * Pure: no I/O and no in-memory filesystem (fs/page.c converts). */
#ifndef COFFER_FORMAT_ROOT_H
#define COFFER_FORMAT_ROOT_H
#include <stddef.h>
#include <stdint.h>
#include "format/format.h"
#include "format/history.h"
#include "lib/buf.h"

struct root_plain {
	uint64_t gen;
	int64_t time_ns; /* commit time, ns since the epoch */
	uint64_t next_ino;
	uint64_t live_inodes, live_bytes; /* inodes with nlink > 0, sum of regular file sizes */
	uint32_t npages;
	struct oname *pages; /* zero: a page with no live inode; owned when decoded */
	uint32_t version;    /* decoded: ROOT_VERSION or ROOT_VERSION_1 (no chain: all zero) */
	struct root_chain chain;
};

void root_aad(const uint8_t vault_id[VAULT_ID_BYTES], uint8_t aad[ROOT_AAD_BYTES]);
/* Always writes ROOT_VERSION. */
void root_encode(const struct root_plain *r, struct buf *out);
/* Decodes a root payload: 0, -EINVAL (damaged or other parameters) or -ENOMEM. */
int root_decode(const unsigned char *b, size_t len, struct root_plain *r);
/* Opens a sealed root of vault_id and decodes it: 0, -EBADMSG (damaged or foreign), -ENOMEM. */
int root_unseal(const struct aead_key *key, const uint8_t vault_id[VAULT_ID_BYTES],
		const void *sealed, size_t len, struct root_plain *r);
void root_plain_free(struct root_plain *r);

#endif

/* meta: the padded sealing of metadata objects (coffer-format(5), "Metadata sealing"): L (u32) ||
 * payload || zeros up to a size bucket, sealed whole, so the stored size shows only the bucket.
 * Pure: crypto only; which key and AAD is the caller's (pages, roots). */
#ifndef COFFER_FORMAT_META_H
#define COFFER_FORMAT_META_H
#include <stddef.h>
#include "format/format.h"
#include "lib/buf.h"

/* Payloads of pages start with their 4-byte magic and u32 FORMAT_VERSION (roots: root.c): */
void meta_put_header(struct buf *out, const char magic[4]);
/* reads that header: 0, or -EINVAL (r->err set) for a short input, other magic or version. */
int meta_get_header(struct rd *r, const char magic[4]);
/* The padded plaintext size for len bytes (L's 4 bytes included). */
size_t meta_bucket(size_t len);
/* Appends the sealed, padded plain to out: 0 or -ENOMEM (also when plain->err is set). */
int meta_seal(const struct aead_key *key, const void *aad, size_t aadlen, const struct buf *plain,
	      struct buf *out);
/* Opens p into plain (the payload only): 0, -EBADMSG (damaged, foreign) or -ENOMEM. */
int meta_open(const struct aead_key *key, const void *aad, size_t aadlen, const unsigned char *p,
	      size_t len, struct buf *plain);

#endif

/* dirbucket: the codec of a split directory's bucket objects (coffer-format(5), "Directory
 * buckets") and the linear-hashing rule that says which bucket holds a name.
 * Pure: no I/O, no in-memory directories (fs/dirsplit.c converts); sealing is meta.h's. */
#ifndef COFFER_FORMAT_DIRBUCKET_H
#define COFFER_FORMAT_DIRBUCKET_H
#include <stddef.h>
#include <stdint.h>
#include "format/format.h"
#include "format/page.h"
#include "lib/buf.h"

/* Names point into the decoded bytes (or the caller's memory for encoding); dent is owned by
 * the struct after a decode: dirbucket_plain_free releases it. */
struct dirbucket_plain {
	uint64_t dir;	   /* the directory's inode number */
	uint32_t index;	   /* this bucket's position, < nbuckets */
	uint32_t nbuckets; /* the directory's bucket count when this bucket was written */
	uint32_t count;
	struct page_dent *dent;
};

void dirbucket_aad(const struct oname *n, uint8_t aad[DIRBUCKET_AAD_BYTES]);
/* The 64-bit hash of an entry name: unkeyed BLAKE2b-64, little-endian. */
uint64_t dirbucket_hash(const char *name, size_t len);
/* Linear hashing: with n buckets (1..DIR_BUCKETS_MAX), L = floor(log2 n), s = n - 2^L, the
 * bucket is h mod 2^L, or h mod 2^(L+1) when that is below s. Only the low 25 bits count. */
uint32_t dirbucket_of(uint64_t h, uint32_t n);
void dirbucket_encode(const struct dirbucket_plain *b, struct buf *out);
/* 0, -EINVAL (damaged: magic, version, dir 0, index >= nbuckets, nbuckets > DIR_BUCKETS_MAX,
 * an entry as page_decode refuses it, a name twice, trailing bytes) or -ENOMEM. Whether the
 * entries hash to this bucket is the loader's to check (it knows the current count). */
int dirbucket_decode(const unsigned char *b, size_t len, struct dirbucket_plain *out);
void dirbucket_plain_free(struct dirbucket_plain *b);

#endif

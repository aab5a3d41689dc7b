/* nametab: the codec of name tables (coffer-format(5), "Name tables"): one slice of a long list
 * of object names -- the root's inode pages, or a split directory's buckets -- so that a commit
 * rewrites only the slices whose names changed. Sealed with meta_seal under the meta key with
 * AAD nametab_aad(the table's own name).
 * Pure: no I/O, no keys; sealing and fetching are the caller's. */
#ifndef COFFER_FORMAT_NAMETAB_H
#define COFFER_FORMAT_NAMETAB_H
#include <stddef.h>
#include <stdint.h>
#include "format/format.h"
#include "lib/buf.h"

enum nametab_kind { NAMETAB_PAGES = 1, NAMETAB_BUCKETS = 2 };

struct nametab_plain {
	uint32_t kind;	/* enum nametab_kind */
	uint64_t owner; /* NAMETAB_PAGES: 0; NAMETAB_BUCKETS: the directory's inode number */
	uint64_t first; /* index in the whole list of names[0] (a multiple of NAMETAB_MAX) */
	uint32_t count; /* 1..NAMETAB_MAX */
	struct oname names[NAMETAB_MAX]; /* zero: no object at that position */
};

void nametab_aad(const struct oname *n, uint8_t aad[NAMETAB_AAD_BYTES]);
/* Appends the table's payload (names[0..count)) in version NAMETAB_VERSION. */
void nametab_encode(const struct nametab_plain *t, struct buf *out);
/* Decodes a table payload into *t (names past count zeroed): 0, or -EINVAL (damaged: bad
 * magic/version/kind, an owner other than 0 in a page table, count 0 or > NAMETAB_MAX, first not
 * a multiple of NAMETAB_MAX or so large that first + count overflows, trailing bytes). */
int nametab_decode(const unsigned char *b, size_t len, struct nametab_plain *t);
/* Whether decoded table t is table number index of a list of total names with that kind and
 * owner: first = index * NAMETAB_MAX, and no more names than the list has from there (fewer are
 * fine: the rest are zero). 0 or -EINVAL. */
int nametab_bind(const struct nametab_plain *t, uint32_t kind, uint64_t owner, uint64_t index,
		 uint64_t total);

#endif

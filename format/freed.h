/* freed: the record codec of freed.log (the cache's journal of the objects each commit stopped
 * naming): u64 generation, u32 count, then count 16-byte names, little-endian. Pure functions.
 * Must never read past the given bytes: a torn or short record is refused, not guessed. */
#ifndef COFFER_FORMAT_FREED_H
#define COFFER_FORMAT_FREED_H
#include <stddef.h>
#include <stdint.h>
#include "cache/store.h"
#include "lib/buf.h"

#define FREED_HEADER 12 /* u64 generation, u32 count */

struct freed_record {
	uint64_t gen;
	uint32_t count;
	const unsigned char *names; /* count * NAME_BYTES bytes, inside the decoded input */
	size_t len;		    /* bytes the whole record takes */
};

/* Appends one record to out (its error flag says when memory ran out); -EINVAL when n does not
 * fit a record. */
int freed_record_encode(struct buf *out, uint64_t gen, const struct oname *names, size_t n);
/* Decodes the record at the start of p; -EINVAL when len bytes hold no whole record. */
int freed_record_decode(const unsigned char *p, size_t len, struct freed_record *rec);

#endif

/* freed: the freed.log record codec (see freed.h). Bytes in, struct out; struct in, bytes out.
 * Must never do I/O, and never trust a count before checking the bytes are there. */
#include "format/freed.h"
#include <errno.h>

int freed_record_encode(struct buf *out, uint64_t gen, const struct oname *names, size_t n)
{
	if (n > UINT32_MAX)
		return -EINVAL;
	buf_u64(out, gen);
	buf_u32(out, (uint32_t)n);
	buf_put(out, names, n * NAME_BYTES);
	return 0;
}

int freed_record_decode(const unsigned char *p, size_t len, struct freed_record *rec)
{
	struct rd r = {.p = p, .left = len};
	rec->gen = rd_u64(&r);
	rec->count = rd_u32(&r);
	rec->names = rd_take(&r, (size_t)rec->count * NAME_BYTES);
	if (r.err || !rec->names)
		return -EINVAL;
	rec->len = len - r.left;
	return 0;
}

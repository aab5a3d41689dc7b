/* fuzz_freed: the cache's freed.log journal (format/freed.c), walked record by record as
 * cache/freed.c reads it. Every record decoded lies inside the input and re-encodes to exactly
 * its own bytes. */
#include "tests/fuzz/fuzz.h"
#include <string.h>
#include "format/freed.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct freed_record rec;
	size_t at = 0;
	while (freed_record_decode(data + at, size - at, &rec) == 0) {
		FUZZ_CHECK(rec.len >= FREED_HEADER && rec.len <= size - at);
		FUZZ_CHECK(rec.len == FREED_HEADER + (size_t)rec.count * NAME_BYTES);
		FUZZ_CHECK(rec.names == data + at + FREED_HEADER);
		struct buf b = {0};
		FUZZ_CHECK(freed_record_encode(&b, rec.gen, (const struct oname *)rec.names,
					       rec.count) == 0);
		FUZZ_CHECK(!b.err && b.len == rec.len && memcmp(b.data, data + at, b.len) == 0);
		buf_free(&b);
		at += rec.len;
	}
	return 0;
}

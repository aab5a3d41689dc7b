/* fuzz_dirbucket: split directories' bucket objects (format/dirbucket.c, format/meta.c) along
 * the paths fs/dirsplit.c reads them (fuzz_meta_paths). A decoded bucket has its position
 * inside its count and names of 1 to 255 bytes, every hash maps below the count, no name is
 * there twice, and it re-encodes to exactly the bytes decoded. */
#include "tests/fuzz/fuzz.h"
#include <string.h>
#include "format/dirbucket.h"

static int decode(const unsigned char *b, size_t len)
{
	struct dirbucket_plain d;
	int err = dirbucket_decode(b, len, &d);
	if (err)
		return err;
	FUZZ_CHECK(d.dir != 0 && d.index < d.nbuckets && d.nbuckets <= DIR_BUCKETS_MAX);
	for (uint32_t k = 0; k < d.count; k++) {
		FUZZ_CHECK(d.dent[k].len >= 1 && d.dent[k].len <= NAME_MAX_BYTES);
		uint64_t h = dirbucket_hash(d.dent[k].name, d.dent[k].len);
		FUZZ_CHECK(dirbucket_of(h, d.nbuckets) < d.nbuckets);
		FUZZ_CHECK(k == 0 || d.dent[k].len != d.dent[0].len ||
			   memcmp(d.dent[k].name, d.dent[0].name, d.dent[0].len) != 0);
	}
	struct buf again = {0};
	dirbucket_encode(&d, &again);
	FUZZ_CHECK(!again.err && again.len == len && memcmp(again.data, b, len) == 0);
	buf_free(&again);
	dirbucket_plain_free(&d);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct oname n = {.b = "fuzz bucket name"};
	uint8_t aad[DIRBUCKET_AAD_BYTES];
	dirbucket_aad(&n, aad);
	fuzz_meta_paths(aad, sizeof(aad), data, size, decode);
	return 0;
}

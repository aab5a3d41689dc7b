/* fuzz_nametab: name tables (format/nametab.c, format/meta.c) along the path fs/load.c reads
 * them: the sealed object as fetched, an authentic envelope around arbitrary padded plaintext,
 * and the opened body (the input sealed under the test key), which must decode as
 * nametab_decode decodes the input. A decoded table re-encodes to the same bytes, and binds to
 * the place its header names (and not to a shorter list). */
#include "tests/fuzz/fuzz.h"
#include <string.h>
#include "format/meta.h"
#include "format/nametab.h"

static struct nametab_plain t;

static int decode(const unsigned char *b, size_t len, int exact)
{
	int err = nametab_decode(b, len, &t);
	if (!err) {
		FUZZ_CHECK(t.count >= 1 && t.count <= NAMETAB_MAX && t.first % NAMETAB_MAX == 0);
		uint64_t at = t.first / NAMETAB_MAX; /* the place it says it has binds */
		FUZZ_CHECK(nametab_bind(&t, t.kind, t.owner, at, t.first + t.count) == 0);
		FUZZ_CHECK(nametab_bind(&t, t.kind, t.owner, at, t.first + t.count - 1) == -EINVAL);
		struct buf again = {0};
		nametab_encode(&t, &again);
		FUZZ_CHECK(!again.err && again.len <= NAMETAB_PLAIN_MAX);
		FUZZ_CHECK(!exact || (again.len == len && memcmp(again.data, b, len) == 0));
		buf_free(&again);
	}
	return err;
}

static int open_table(const struct oname *n, const unsigned char *b, size_t len)
{
	uint8_t aad[NAMETAB_AAD_BYTES];
	struct buf plain = {0};
	nametab_aad(n, aad);
	int err = meta_open(fuzz_key, aad, sizeof(aad), b, len, &plain);
	if (!err) {
		FUZZ_CHECK(plain.len <= len);
		err = decode(plain.data, plain.len, 1);
	}
	buf_free(&plain);
	return err;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct oname n = {.b = "fuzz table name"};
	uint8_t aad[NAMETAB_AAD_BYTES];
	nametab_aad(&n, aad);
	open_table(&n, data, size);

	struct buf raw = {0}, sealed = {0};
	fuzz_seal_raw(aad, sizeof(aad), data, size, &raw);
	open_table(&n, raw.data, raw.len);
	buf_free(&raw);

	struct buf plain = {.data = (unsigned char *)data, .len = size};
	FUZZ_CHECK(meta_seal(fuzz_key, aad, sizeof(aad), &plain, &sealed) == 0);
	int via_seal = open_table(&n, sealed.data, sealed.len);
	buf_free(&sealed);
	FUZZ_CHECK(decode(data, size, 1) == via_seal);
	return 0;
}

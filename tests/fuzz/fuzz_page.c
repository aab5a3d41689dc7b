/* fuzz_page: inode pages (format/page.c, format/meta.c) along the path fs/commit.c reads them:
 * the sealed object as fetched, an authentic envelope around arbitrary padded plaintext, and the
 * opened body (the input sealed under the test key), which must decode as page_decode decodes
 * the input. A decoded page re-encodes to a payload that decodes and re-encodes identically. */
#include "tests/fuzz/fuzz.h"
#include <string.h>
#include "format/meta.h"
#include "format/page.h"

static int decode(const unsigned char *b, size_t len, struct buf *reencoded)
{
	struct page_plain *p = calloc(1, sizeof(*p));
	FUZZ_CHECK(p);
	int err = page_decode(b, len, p);
	if (!err) {
		FUZZ_CHECK(p->count <= PAGE_INODES);
		FUZZ_CHECK(page_record_count(b, len) == (int)p->count);
		if (reencoded)
			page_encode(p, reencoded);
	}
	page_plain_free(p);
	free(p);
	return err;
}

static int open_page(const struct oname *n, const unsigned char *b, size_t len)
{
	uint8_t aad[PAGE_AAD_BYTES];
	struct buf plain = {0};
	page_aad(n, aad);
	int err = meta_open(fuzz_key, aad, sizeof(aad), b, len, &plain);
	if (!err) {
		FUZZ_CHECK(plain.len <= len);
		err = decode(plain.data, plain.len, NULL);
	}
	buf_free(&plain);
	return err;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct oname n = {.b = "fuzz page name!"};
	uint8_t aad[PAGE_AAD_BYTES];
	page_aad(&n, aad);
	open_page(&n, data, size);

	struct buf raw = {0}, sealed = {0};
	fuzz_seal_raw(aad, sizeof(aad), data, size, &raw);
	open_page(&n, raw.data, raw.len);
	buf_free(&raw);

	struct buf plain = {.data = (unsigned char *)data, .len = size};
	FUZZ_CHECK(meta_seal(fuzz_key, aad, sizeof(aad), &plain, &sealed) == 0);
	int via_seal = open_page(&n, sealed.data, sealed.len);
	buf_free(&sealed);

	struct buf once = {0}, twice = {0};
	int direct = decode(data, size, &once);
	FUZZ_CHECK(direct == via_seal);
	if (direct == 0) {
		FUZZ_CHECK(!once.err && decode(once.data, once.len, &twice) == 0);
		FUZZ_CHECK(once.len == twice.len && memcmp(once.data, twice.data, once.len) == 0);
	}
	buf_free(&once);
	buf_free(&twice);
	return 0;
}

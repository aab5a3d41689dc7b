/* fuzz_root: roots (format/root.c, format/meta.c): the sealed envelope as fetched (raw bytes to
 * root_unseal), an authentic envelope around arbitrary padded plaintext (a lying length field),
 * and the opened body (the input sealed under the test key, which must decode exactly as
 * root_decode decodes it). A decoded root re-encodes to a payload that decodes the same, chain
 * section included (version 3 as version 3 with its table names, 1 and 2 as version 2 with the
 * page names inline), and a decoded version 3 root has all of its pages zero until its tables
 * fill them, and one table per NAMETAB_MAX pages. */
#include "tests/fuzz/fuzz.h"
#include <string.h>
#include "format/meta.h"
#include "format/root.h"

static void roundtrip(const struct root_plain *r)
{
	struct buf b = {0};
	struct root_plain again;
	root_encode(r, &b);
	FUZZ_CHECK(!b.err);
	FUZZ_CHECK(root_decode(b.data, b.len, &again) == 0);
	FUZZ_CHECK(again.gen == r->gen && again.time_ns == r->time_ns);
	FUZZ_CHECK(again.next_ino == r->next_ino && again.npages == r->npages);
	FUZZ_CHECK(again.live_inodes == r->live_inodes && again.live_bytes == r->live_bytes);
	FUZZ_CHECK(!r->npages || memcmp(again.pages, r->pages, r->npages * sizeof(*r->pages)) == 0);
	FUZZ_CHECK(again.ntables == r->ntables);
	FUZZ_CHECK(!r->ntables ||
		   memcmp(again.tables, r->tables, r->ntables * sizeof(*r->tables)) == 0);
	FUZZ_CHECK(again.version == (r->version == ROOT_VERSION ? ROOT_VERSION : ROOT_VERSION_2));
	if (r->version == ROOT_VERSION) {
		static const struct oname zero;
		FUZZ_CHECK(r->ntables == root_tables_for(r->npages) && r->npages <= ROOT_PAGES_MAX);
		for (uint32_t k = 0; k < r->npages; k++)
			FUZZ_CHECK(memcmp(&r->pages[k], &zero, sizeof(zero)) == 0);
	}
	FUZZ_CHECK(memcmp(&again.chain, &r->chain, sizeof(r->chain)) == 0);
	root_plain_free(&again);
	buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t aad[ROOT_AAD_BYTES];
	struct root_plain r;
	root_aad(fuzz_vid, aad);
	if (root_unseal(fuzz_key, fuzz_vid, data, size, &r) == 0)
		root_plain_free(&r);

	struct buf raw = {0};
	fuzz_seal_raw(aad, sizeof(aad), data, size, &raw);
	if (root_unseal(fuzz_key, fuzz_vid, raw.data, raw.len, &r) == 0)
		root_plain_free(&r);
	buf_free(&raw);

	struct buf plain = {.data = (unsigned char *)data, .len = size}, sealed = {0};
	FUZZ_CHECK(meta_seal(fuzz_key, aad, sizeof(aad), &plain, &sealed) == 0);
	int via_seal = root_unseal(fuzz_key, fuzz_vid, sealed.data, sealed.len, &r);
	if (via_seal == 0)
		root_plain_free(&r);
	buf_free(&sealed);

	int direct = root_decode(data, size, &r);
	FUZZ_CHECK(direct == via_seal || (direct == -EINVAL && via_seal == -EBADMSG));
	if (direct == 0) {
		roundtrip(&r);
		root_plain_free(&r);
	}
	return 0;
}

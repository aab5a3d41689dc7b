/* fuzz_lease: the writer lease (format/lease.c): the sealed object as fetched, and its opened
 * body (the input, padded or cut to LEASE_PLAIN bytes, sealed under the test key), which must
 * open exactly as lease_decode decodes it. A decoded lease re-encodes to the same lease. */
#include "tests/fuzz/fuzz.h"
#include <string.h>
#include "format/lease.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lease l, again;
	lease_open(fuzz_key, fuzz_vid, data, size, &l);
	lease_decode(data, size, &l);

	unsigned char plain[LEASE_PLAIN] = {0};
	memcpy(plain, data, size < LEASE_PLAIN ? size : LEASE_PLAIN);
	uint8_t aad[LEASE_AAD_BYTES];
	memcpy(aad, LEASE_MAGIC, 4);
	memcpy(aad + 4, fuzz_vid, VAULT_ID_BYTES);
	struct buf sealed = {0};
	fuzz_seal_raw(aad, sizeof(aad), plain, sizeof(plain), &sealed);
	int via_seal = lease_open(fuzz_key, fuzz_vid, sealed.data, sealed.len, &l);
	buf_free(&sealed);
	int direct = lease_decode(plain, sizeof(plain), &again);
	FUZZ_CHECK(direct == via_seal || (direct == -EINVAL && via_seal == -EBADMSG));
	if (direct)
		return 0;
	FUZZ_CHECK(memchr(again.host, 0, sizeof(again.host)));
	struct buf b = {0};
	FUZZ_CHECK(lease_encode(&again, &b) == 0 && b.len == LEASE_PLAIN);
	FUZZ_CHECK(lease_decode(b.data, b.len, &l) == 0);
	FUZZ_CHECK(memcmp(l.device, again.device, DEVICE_ID_BYTES) == 0);
	FUZZ_CHECK(l.expiry == again.expiry && strcmp(l.host, again.host) == 0);
	buf_free(&b);
	return 0;
}

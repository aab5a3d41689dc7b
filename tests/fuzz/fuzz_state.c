/* fuzz_state: the cache's sync.state text (format/state.c). A decoded state re-encodes to text
 * that decodes the same. */
#include "tests/fuzz/fuzz.h"
#include <string.h>
#include "format/state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sync_state s, again;
	if (state_decode(data, size, &s))
		return 0;
	struct buf b = {0};
	state_encode(&s, &b);
	FUZZ_CHECK(!b.err && b.len <= STATE_MAX_BYTES);
	FUZZ_CHECK(state_decode(b.data, b.len, &again) == 0);
	FUZZ_CHECK(s.seen == again.seen && s.synced == again.synced);
	FUZZ_CHECK(memcmp(s.device, again.device, DEVICE_ID_BYTES) == 0);
	FUZZ_CHECK(memcmp(s.seen_hash, again.seen_hash, ROOT_HASH_BYTES) == 0);
	FUZZ_CHECK(memcmp(s.synced_hash, again.synced_hash, ROOT_HASH_BYTES) == 0);
	FUZZ_CHECK(s.seen_time == again.seen_time);
	buf_free(&b);
	return 0;
}

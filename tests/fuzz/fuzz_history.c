/* fuzz_history: history segments (format/history.c) as the vault returns them once opened, and
 * the lookup step over a decoded one. A decoded segment re-encodes to the same bytes; a step
 * either ends (found, with a generation it holds, or not found) or moves to an older segment. */
#include "tests/fuzz/fuzz.h"
#include <string.h>
#include "format/history.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hist_seg s;
	if (hist_decode(data, size, &s))
		return 0;
	struct buf b = {0};
	hist_encode(&s, &b);
	FUZZ_CHECK(!b.err && b.len == size && memcmp(b.data, data, size) == 0);
	FUZZ_CHECK(b.len <= HIST_PLAIN_MAX);
	buf_free(&b);
	uint64_t probes[] = {0,
			     s.e[0].gen,
			     s.e[0].gen - 1,
			     s.e[HIST_ENTRIES - 1].gen,
			     s.ptr[0].gen,
			     s.np ? s.ptr[s.np - 1].gen : 1,
			     UINT64_MAX};
	for (size_t k = 0; k < sizeof(probes) / sizeof(probes[0]); k++) {
		struct root_link out;
		uint64_t next = UINT64_MAX;
		uint8_t h[ROOT_HASH_BYTES];
		int r = hist_step(&s, probes[k], &out, &next, h);
		FUZZ_CHECK(r == 0 || r == 1 || r == -ENOENT);
		FUZZ_CHECK(r != 0 || out.gen == probes[k]);
		FUZZ_CHECK(r != 1 || next < s.index);
	}
	return 0;
}

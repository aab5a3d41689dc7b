/* fuzz_config: the vault config text (format/config.c), which is read before anything is
 * authenticated. A config that decodes must encode back to text that decodes the same. */
#include "tests/fuzz/fuzz.h"
#include <string.h>
#include "format/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config c, again;
	if (config_decode(data, size, &c))
		return 0;
	FUZZ_CHECK(c.header_len <= size);
	struct buf b = {0};
	config_encode(&c, &b);
	FUZZ_CHECK(!b.err);
	FUZZ_CHECK(config_decode(b.data, b.len, &again) == 0);
	FUZZ_CHECK(memcmp(c.id, again.id, sizeof(c.id)) == 0);
	FUZZ_CHECK(c.kdf.ops == again.kdf.ops && c.kdf.mem == again.kdf.mem);
	FUZZ_CHECK(c.version == again.version && c.cipher == again.cipher);
	FUZZ_CHECK(memcmp(c.salt, again.salt, sizeof(c.salt)) == 0);
	FUZZ_CHECK(memcmp(c.wrapped, again.wrapped, sizeof(c.wrapped)) == 0);
	buf_free(&b);
	return 0;
}

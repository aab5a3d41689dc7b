/* fuzz_block: the framing of chunk objects (format/block.c; fs/chunk.c reads an object as
 * nblocks sealed blocks of SEALED_BLOCK bytes): the input read as a fetched object, each whole
 * block opened (a forgery must never open), and the input sealed block by block under the test
 * key, which must open to the same bytes at its own name and index only. */
#include "tests/fuzz/fuzz.h"
#include <string.h>
#include "format/block.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct oname n = {0};
	unsigned char plain[DATA_BLOCK], back[DATA_BLOCK], sealed[SEALED_BLOCK];
	memcpy(n.b, data, size < NAME_BYTES ? size : NAME_BYTES);
	for (size_t k = 0; (k + 1) * SEALED_BLOCK <= size; k++)
		FUZZ_CHECK(block_open(fuzz_key, &n, (uint32_t)k, data + k * SEALED_BLOCK, back) ==
			   -EBADMSG);

	for (size_t at = 0, k = 0; at < size; at += DATA_BLOCK, k++) {
		size_t part = size - at < DATA_BLOCK ? size - at : DATA_BLOCK;
		memset(plain, 0, sizeof(plain));
		memcpy(plain, data + at, part);
		block_seal(fuzz_key, &n, (uint32_t)k, plain, sealed);
		FUZZ_CHECK(block_open(fuzz_key, &n, (uint32_t)k, sealed, back) == 0);
		FUZZ_CHECK(memcmp(plain, back, DATA_BLOCK) == 0);
		FUZZ_CHECK(block_open(fuzz_key, &n, (uint32_t)k + 1, sealed, back) == -EBADMSG);
		sealed[data[at] % SEALED_BLOCK] ^= 1; /* one flipped bit anywhere */
		FUZZ_CHECK(block_open(fuzz_key, &n, (uint32_t)k, sealed, back) == -EBADMSG);
	}
	return 0;
}

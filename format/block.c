/* block: sealing and opening of chunk blocks (see block.h).
 * Must never open a block under any other name or index than the one it was sealed with. */
#include "format/block.h"
#include <string.h>

void block_aad(const struct oname *n, uint32_t idx, uint8_t aad[BLOCK_AAD_BYTES])
{
	memcpy(aad, BLOCK_MAGIC, 4);
	memcpy(aad + 4, n->b, NAME_BYTES);
	for (int k = 0; k < 4; k++)
		aad[4 + NAME_BYTES + k] = (uint8_t)(idx >> (8 * k));
}

void block_seal(const struct aead_key *key, const struct oname *n, uint32_t idx, const void *plain,
		unsigned char *out)
{
	uint8_t aad[BLOCK_AAD_BYTES];
	block_aad(n, idx, aad);
	aead_seal(out, plain, DATA_BLOCK, aad, sizeof(aad), key);
}

void block_seal_prefilled(const struct aead_key *key, const struct oname *n, uint32_t idx,
			  const void *plain, unsigned char *out)
{
	uint8_t aad[BLOCK_AAD_BYTES];
	block_aad(n, idx, aad);
	aead_seal_with_nonce(out, plain, DATA_BLOCK, aad, sizeof(aad), key);
}

int block_open(const struct aead_key *key, const struct oname *n, uint32_t idx,
	       const unsigned char *in, void *plain)
{
	uint8_t aad[BLOCK_AAD_BYTES];
	block_aad(n, idx, aad);
	return aead_open(plain, in, SEALED_BLOCK, aad, sizeof(aad), key);
}

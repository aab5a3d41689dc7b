/* block: the sealing of one 4 KiB block of a chunk object (coffer-format(5), "Chunk objects"):
 * AAD "CFBK" || object name || block index, so a block moved to another object or position
 * fails to open. Pure: crypto only; reading and writing chunk objects is fs/chunk.c's. */
#ifndef COFFER_FORMAT_BLOCK_H
#define COFFER_FORMAT_BLOCK_H
#include <stdint.h>
#include "format/format.h"

void block_aad(const struct oname *n, uint32_t idx, uint8_t aad[BLOCK_AAD_BYTES]);
/* Seals DATA_BLOCK bytes of plain into out (SEALED_BLOCK bytes) with a fresh nonce. */
void block_seal(const struct aead_key *key, const struct oname *n, uint32_t idx, const void *plain,
		unsigned char *out);
/* Same, with a fresh random nonce already in out[0..NONCE_BYTES). */
void block_seal_prefilled(const struct aead_key *key, const struct oname *n, uint32_t idx,
			  const void *plain, unsigned char *out);
/* Opens SEALED_BLOCK bytes into plain (DATA_BLOCK bytes): 0 or -EBADMSG. */
int block_open(const struct aead_key *key, const struct oname *n, uint32_t idx,
	       const unsigned char *in, void *plain);

#endif

/* fuzz: what every libFuzzer target of tests/fuzz shares: libsodium set up once, a fixed test
 * key and vault id (so that a target can seal the fuzzer's bytes and feed them to an opener, the
 * way an authenticated but hostile or damaged object reaches the decoders), and a check that
 * aborts (a crash libFuzzer reports and saves) when a decoder breaks its own contract.
 * Must never be linked into coffer; test keys only. */
#ifndef COFFER_FUZZ_H
#define COFFER_FUZZ_H
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "crypto/crypto.h"
#include "format/format.h"
#include "lib/buf.h"

/* A one-element array, so that fuzz_key is a key pointer as a keyring member is. */
static const struct aead_key fuzz_key[1] = {{"coffer fuzz test key, 32 bytes!", CIPHER_XCHACHA20}};
static const uint8_t fuzz_vid[VAULT_ID_BYTES] = "fuzz vault id 16";

#define FUZZ_CHECK(c)                                                                              \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "%s:%d: contract broken: %s\n", __FILE__, __LINE__, #c);   \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (crypto_setup())
		abort();
	return 0;
}

/* Seals data whole (as the entire plaintext, length field and padding included) under the test
 * key into out; what an opener then sees is authentic but arbitrary. */
static inline void fuzz_seal_raw(const void *aad, size_t aadlen, const uint8_t *data, size_t size,
				 struct buf *out)
{
	if (buf_reserve(out, size + SEAL_OVERHEAD))
		abort();
	aead_seal(out->data, data, size, aad, aadlen, fuzz_key);
	out->len = size + SEAL_OVERHEAD;
}

#endif

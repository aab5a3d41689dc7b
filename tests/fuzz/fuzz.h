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
#include "format/meta.h"
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

/* The payload of sealed bytes b (under aad) through decode, which must see no more bytes than
 * were sealed; -EBADMSG when they do not open. */
static inline int fuzz_open_meta(const void *aad, size_t aadlen, const unsigned char *b, size_t len,
				 int (*decode)(const unsigned char *b, size_t len))
{
	struct buf plain = {0};
	int err = meta_open(fuzz_key, aad, aadlen, b, len, &plain);
	if (!err) {
		FUZZ_CHECK(plain.len <= len);
		err = decode(plain.data, plain.len);
	}
	buf_free(&plain);
	return err;
}

/* The three ways a sealed metadata object reaches its decoder: the input as the sealed object,
 * an authentic envelope around the input as arbitrary padded plaintext, and the input sealed as
 * a payload, which must decode exactly as the input itself does. */
static inline void fuzz_meta_paths(const void *aad, size_t aadlen, const uint8_t *data, size_t size,
				   int (*decode)(const unsigned char *b, size_t len))
{
	fuzz_open_meta(aad, aadlen, data, size, decode);
	struct buf raw = {0}, sealed = {0};
	fuzz_seal_raw(aad, aadlen, data, size, &raw);
	fuzz_open_meta(aad, aadlen, raw.data, raw.len, decode);
	buf_free(&raw);
	struct buf plain = {.data = (unsigned char *)data, .len = size};
	FUZZ_CHECK(meta_seal(fuzz_key, aad, aadlen, &plain, &sealed) == 0);
	int via_seal = fuzz_open_meta(aad, aadlen, sealed.data, sealed.len, decode);
	buf_free(&sealed);
	FUZZ_CHECK(decode(data, size) == via_seal);
}

#endif

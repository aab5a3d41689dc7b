/* cipher_bench: seal and open throughput of 4 KiB chunk blocks (block_seal_prefilled, block_open
 * as fs/chunk.c calls them: one random_bytes call per chunk's worth of nonces) under
 * each vault cipher, with a reference in the same run: XChaCha20-Poly1305 (the old default) and
 * libsodium's AES-256-GCM under one fixed, pre-expanded key (what caching a key per object could
 * at best approach). Alternates the candidates ROUNDS times and prints each one's median MB/s of
 * plaintext, its spread (min..max) and its ratio to XChaCha20-Poly1305.
 * Usage: build/bench/cipher_bench [ROUNDS [MiB per run]]   (bench/cipher_bench.sh builds it).
 * Must never be linked into coffer; test keys only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sodium.h>
#include "crypto/crypto.h"
#include "format/block.h"

enum { CANDIDATES = 3, MAX_ROUNDS = 101 };
static const char *const names[CANDIDATES] = {"xchacha20", "aes256gcm", "aes-gcm-fixed-key"};

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static unsigned char plain[DATA_BLOCK], sealed[SEALED_BLOCK], back[DATA_BLOCK];
static unsigned char nonces[CHUNK_BLOCKS][NONCE_BYTES];

/* One run of n blocks of candidate c: seal (open = 0) or open (open = 1); MB/s. */
static double run(int c, int open, size_t n, const struct aead_key *key,
		  const crypto_aead_aes256gcm_state *fixed, const struct oname *name)
{
	uint8_t aad[BLOCK_AAD_BYTES];
	block_aad(name, 0, aad);
	double t0 = now();
	for (size_t i = 0; i < n; i++) {
		if (!open && i % CHUNK_BLOCKS == 0) /* a chunk's nonces, as fs/chunk.c draws them */
			randombytes_buf(nonces, sizeof(nonces));
		if (!open)
			memcpy(sealed, nonces[i % CHUNK_BLOCKS], NONCE_BYTES);
		if (c == 2 && !open) {
			crypto_aead_aes256gcm_encrypt_afternm(sealed + 12, NULL, plain, DATA_BLOCK,
							      aad, sizeof(aad), NULL, sealed,
							      fixed);
		} else if (c == 2) {
			if (crypto_aead_aes256gcm_decrypt_afternm(back, NULL, NULL, sealed + 12,
								  DATA_BLOCK + TAG_BYTES, aad,
								  sizeof(aad), sealed, fixed))
				abort();
		} else if (!open) {
			block_seal_prefilled(key, name, 0, plain, sealed);
		} else if (block_open(key, name, 0, sealed, back)) {
			abort();
		}
	}
	return (double)n * DATA_BLOCK / (now() - t0) / 1e6;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 7;
	size_t mib = argc > 2 ? (size_t)atol(argv[2]) : 256;
	if (rounds < 1 || rounds > MAX_ROUNDS || crypto_setup() || !cipher_aes_available()) {
		fprintf(stderr, "cipher_bench: bad arguments, or this CPU has no AES-NI\n");
		return 1;
	}
	size_t n = (mib << 20) / DATA_BLOCK;
	struct aead_key *keys = secret_alloc(2 * sizeof(*keys));
	CRYPTO_ALIGN(16) crypto_aead_aes256gcm_state fixed;
	struct oname name = {{1, 2, 3}};
	randombytes_buf(keys, 2 * sizeof(*keys));
	keys[0].cipher = CIPHER_XCHACHA20;
	keys[1].cipher = CIPHER_AES256GCM;
	crypto_aead_aes256gcm_beforenm(&fixed, keys[1].k);
	randombytes_buf(plain, sizeof(plain));
	static double mbs[2][CANDIDATES][MAX_ROUNDS];
	for (int r = 0; r < rounds; r++)
		for (int c = 0; c < CANDIDATES; c++)
			for (int open = 0; open < 2; open++) /* open reads what the seal made */
				mbs[open][c][r] =
					run(c, open, n, &keys[c < 2 ? c : 1], &fixed, &name);
	printf("%d alternating rounds of %zu MiB in 4 KiB blocks; MB/s of plaintext, one core\n",
	       rounds, mib);
	for (int open = 0; open < 2; open++) {
		double ref = 0;
		for (int c = 0; c < CANDIDATES; c++) {
			double *v = mbs[open][c];
			qsort(v, (size_t)rounds, sizeof(*v), cmp);
			double med = v[rounds / 2];
			if (c == 0)
				ref = med;
			printf("%-5s %-18s median %7.0f  spread %7.0f..%-7.0f  ratio %.2f\n",
			       open ? "open" : "seal", names[c], med, v[0], v[rounds - 1],
			       med / ref);
		}
	}
	sodium_memzero(&fixed, sizeof(fixed));
	secret_free(keys);
	return 0;
}

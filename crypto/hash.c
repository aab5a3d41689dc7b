/* hash: the unkeyed and keyed hashes that are not part of sealing: BLAKE2b-128 version tags,
 * BLAKE2b-256 root and history hashes, BLAKE2b-64 of directory entry names (split directories'
 * bucket choice), SHA-256 payload digests (S3 signing), SipHash-2-4 for
 * hash tables.
 * Must never be used to authenticate data on its own: the AEAD and the root key do that; a
 * BLAKE2b-256 hash only chains bytes to a root that the root key authenticated. */
#include "crypto/crypto.h"
#include <string.h>
#include <sodium.h>

_Static_assert(SHORTHASH_KEY_BYTES == crypto_shorthash_KEYBYTES, "SipHash key size");
_Static_assert(crypto_shorthash_BYTES == sizeof(uint64_t), "SipHash output size");

void hash_hex(const void *data, size_t len, char out[33])
{
	unsigned char h[16];
	crypto_generichash(h, sizeof(h), data, len, NULL, 0);
	sodium_bin2hex(out, 33, h, sizeof(h));
}

void hash32(const void *data, size_t len, uint8_t out[HASH32_BYTES])
{
	crypto_generichash(out, HASH32_BYTES, data, len, NULL, 0);
}

uint64_t hash64(const void *data, size_t len)
{
	unsigned char h[8];
	crypto_generichash(h, sizeof(h), data, len, NULL, 0);
	uint64_t v = 0;
	for (int k = 7; k >= 0; k--)
		v = v << 8 | h[k];
	return v;
}

void sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(h, data, len);
	sodium_bin2hex(out, 65, h, sizeof(h));
}

uint64_t shorthash(const void *data, size_t len, const unsigned char key[SHORTHASH_KEY_BYTES])
{
	unsigned char h[crypto_shorthash_BYTES];
	uint64_t v;
	crypto_shorthash(h, data, len, key);
	memcpy(&v, h, sizeof(v));
	return v;
}

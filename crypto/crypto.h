/* crypto: every cryptographic operation Coffer performs, and the only code that calls libsodium.
 * Key derivation (Argon2id), subkeys (crypto_kdf), AEAD (XChaCha20-Poly1305-IETF, or AES-256-GCM
 * under a per-seal subkey, per vault: coffer-format(5) "Ciphers"), hashes
 * (BLAKE2b tags, SHA-256 for S3, SipHash for hash tables), random bytes, secure memory and wiping.
 * Never does I/O, never logs, never keeps a key outside sodium_malloc'ed (locked) memory but for
 * the one-message AES-256-GCM seal key and its schedule, on the stack for one call and wiped (as
 * libsodium does with XChaCha20's HChaCha20 subkey). */
#ifndef COFFER_CRYPTO_H
#define COFFER_CRYPTO_H
#include <stddef.h>
#include <stdint.h>

#define KEY_BYTES     32
#define SALT_BYTES    16
#define NONCE_BYTES   24
#define TAG_BYTES     16
#define SEAL_OVERHEAD (NONCE_BYTES + TAG_BYTES)

/* The AEAD a vault seals with (its config's "cipher" line; none means XChaCha20-Poly1305). */
enum cipher { CIPHER_XCHACHA20 = 0, CIPHER_AES256GCM = 1 };

/* A key and the AEAD it seals with. */
struct aead_key {
	unsigned char k[KEY_BYTES];
	enum cipher cipher;
};

/* Subkeys derived from the master key, all sealing with the vault's cipher; lives in locked,
 * guarded memory. Each member is a one-element array so that `keys->data` is the
 * `const struct aead_key *` the sealing functions take. */
struct keyring {
	struct aead_key data[1]; /* chunk blocks */
	struct aead_key meta[1]; /* inode pages, leases */
	struct aead_key root[1]; /* roots */
};

struct kdf_params {
	uint64_t ops;
	uint64_t mem;
};

int crypto_setup(void);

/* Locked, guarded memory for secrets; secret_free zeroes before release. */
void *secret_alloc(size_t n);
void secret_free(void *p);

/* Argon2id limits for a level name (min, interactive, moderate, sensitive); -EINVAL if unknown. */
int kdf_level(const char *name, struct kdf_params *out);
/* Derives the 32-byte key that wraps the master key; -ENOMEM if the memory limit is refused. */
int passkey_derive(unsigned char key[KEY_BYTES], const char *pass, size_t passlen,
		   const unsigned char salt[SALT_BYTES], const struct kdf_params *p);
/* Allocates a keyring derived from the master key whose keys seal with cipher, or NULL. */
struct keyring *keyring_derive(const unsigned char master[KEY_BYTES], enum cipher cipher);
void keyring_free(struct keyring *k);

/* Whether this CPU runs AES-256-GCM (AES-NI and PCLMUL), the only way libsodium offers it. */
int cipher_aes_available(void);
/* The cipher's name in the vault config ("xchacha20", "aes256gcm"), and back (-EINVAL). */
const char *cipher_name(enum cipher c);
int cipher_parse(const char *name, size_t len, enum cipher *out);

/* out = nonce || ciphertext || tag (len + SEAL_OVERHEAD bytes), fresh random 24-byte nonce,
 * under key->k with key->cipher. */
void aead_seal(unsigned char *out, const unsigned char *in, size_t len, const void *aad,
	       size_t aadlen, const struct aead_key *key);
/* Same, with the caller having put a fresh random nonce in out[0..NONCE_BYTES) (so that one
 * random_bytes call can serve many blocks). */
void aead_seal_with_nonce(unsigned char *out, const unsigned char *in, size_t len, const void *aad,
			  size_t aadlen, const struct aead_key *key);
/* Opens what aead_seal made (inlen >= SEAL_OVERHEAD); writes inlen - SEAL_OVERHEAD bytes.
 * Returns 0, or -EBADMSG when the data, nonce, tag or AAD was changed (or, for AES-256-GCM, when
 * this CPU cannot run it: keyring_derive refuses such a keyring first). */
int aead_open(unsigned char *out, const unsigned char *in, size_t inlen, const void *aad,
	      size_t aadlen, const struct aead_key *key);

/* BLAKE2b-128 of data as 32 lowercase hex digits (version tags, not secrets). */
void hash_hex(const void *data, size_t len, char out[33]);
/* BLAKE2b-256 of data: the hash by which a root names its parent and its history segments
 * (collision resistance chains them to a root that the root key authenticates). */
#define HASH32_BYTES 32
void hash32(const void *data, size_t len, uint8_t out[HASH32_BYTES]);
/* Unkeyed BLAKE2b with an 8-byte digest, read little-endian: which bucket of a split directory
 * holds a name (coffer-format(5), "Directory buckets"); public, so never for secrets. */
uint64_t hash64(const void *data, size_t len);
/* SHA-256 of data as 64 lowercase hex digits (S3 payload hashes, not secrets). */
void sha256_hex(const void *data, size_t len, char out[65]);
/* Keyed 64-bit hash (SipHash-2-4) for hash tables: unpredictable without the key. */
#define SHORTHASH_KEY_BYTES 16
uint64_t shorthash(const void *data, size_t len, const unsigned char key[SHORTHASH_KEY_BYTES]);
void random_bytes(void *p, size_t n);
uint32_t random_u32(void);
/* Zeroes n bytes in a way the compiler cannot drop. */
void wipe(void *p, size_t n);
/* Zeroes a heap string (a credential) and frees it; NULL is fine. */
void wipe_str_free(char *s);

#endif

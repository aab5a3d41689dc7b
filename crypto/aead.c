/* aead: sealing with a fresh random 192-bit nonce per message, under the key's cipher
 * (coffer-format(5), "Ciphers"): XChaCha20-Poly1305-IETF, or AES-256-GCM under a subkey derived
 * per seal from the key and the first 12 nonce bytes (keyed BLAKE2b), the other 12 being the GCM
 * nonce. Used for every block, page, root, lease and the wrapped master key.
 * Must never release plaintext from a message whose tag does not verify, and never leave a
 * derived subkey or expanded key schedule unwiped. */
#include "crypto/crypto.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#define AES_SUBKEY_IN 12 /* nonce bytes that pick the subkey; the other 12 are GCM's nonce */
static const unsigned char AES_PERSONAL[crypto_generichash_blake2b_PERSONALBYTES] =
	"coffer-aes256gcm"; /* exactly 16 bytes, no NUL */

int cipher_aes_available(void)
{
	return crypto_aead_aes256gcm_is_available();
}

static const char *const names[] =
	{[CIPHER_XCHACHA20] = "xchacha20", [CIPHER_AES256GCM] = "aes256gcm"};

const char *cipher_name(enum cipher c)
{
	return (unsigned)c < sizeof(names) / sizeof(names[0]) ? names[c] : "unknown";
}

int cipher_parse(const char *name, size_t len, enum cipher *out)
{
	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == len && memcmp(name, names[i], len) == 0) {
			*out = (enum cipher)i;
			return 0;
		}
	return -EINVAL;
}

/* The expanded AES-256-GCM key of the seal whose nonce is nonce: the subkey
 * BLAKE2b-256(key = k, message = nonce[0..12), salt = zeros, personal = "coffer-aes256gcm"). */
static void aes_state(crypto_aead_aes256gcm_state *st, const unsigned char nonce[NONCE_BYTES],
		      const unsigned char k[KEY_BYTES])
{
	unsigned char sub[crypto_aead_aes256gcm_KEYBYTES];
	crypto_generichash_blake2b_salt_personal(sub, sizeof(sub), nonce, AES_SUBKEY_IN, k,
						 KEY_BYTES, NULL, AES_PERSONAL);
	crypto_aead_aes256gcm_beforenm(st, sub);
	sodium_memzero(sub, sizeof(sub));
}

void aead_seal(unsigned char *out, const unsigned char *in, size_t len, const void *aad,
	       size_t aadlen, const struct aead_key *key)
{
	randombytes_buf(out, NONCE_BYTES);
	aead_seal_with_nonce(out, in, len, aad, aadlen, key);
}

void aead_seal_with_nonce(unsigned char *out, const unsigned char *in, size_t len, const void *aad,
			  size_t aadlen, const struct aead_key *key)
{
	if (key->cipher != CIPHER_AES256GCM) {
		crypto_aead_xchacha20poly1305_ietf_encrypt(out + NONCE_BYTES, NULL, in, len, aad,
							   aadlen, NULL, out, key->k);
		return;
	}
	/* keyring_derive refuses AES-256-GCM where the CPU lacks it; sealing anyway would
	 * write bytes that never open, so stop rather than lose data silently. */
	if (!crypto_aead_aes256gcm_is_available())
		abort();
	CRYPTO_ALIGN(16) crypto_aead_aes256gcm_state st;
	aes_state(&st, out, key->k);
	crypto_aead_aes256gcm_encrypt_afternm(out + NONCE_BYTES, NULL, in, len, aad, aadlen, NULL,
					      out + AES_SUBKEY_IN, &st);
	sodium_memzero(&st, sizeof(st));
}

static int aes_open(unsigned char *out, const unsigned char *in, size_t inlen, const void *aad,
		    size_t aadlen, const unsigned char k[KEY_BYTES])
{
	if (!crypto_aead_aes256gcm_is_available())
		return -1;
	CRYPTO_ALIGN(16) crypto_aead_aes256gcm_state st;
	aes_state(&st, in, k);
	int r = crypto_aead_aes256gcm_decrypt_afternm(out, NULL, NULL, in + NONCE_BYTES,
						      inlen - NONCE_BYTES, aad, aadlen,
						      in + AES_SUBKEY_IN, &st);
	sodium_memzero(&st, sizeof(st));
	return r;
}

int aead_open(unsigned char *out, const unsigned char *in, size_t inlen, const void *aad,
	      size_t aadlen, const struct aead_key *key)
{
	if (inlen < SEAL_OVERHEAD)
		return -EBADMSG;
	int r = key->cipher == CIPHER_AES256GCM
			? aes_open(out, in, inlen, aad, aadlen, key->k)
			: crypto_aead_xchacha20poly1305_ietf_decrypt(out, NULL, NULL,
								     in + NONCE_BYTES,
								     inlen - NONCE_BYTES, aad,
								     aadlen, in, key->k);
	if (r != 0) {
		sodium_memzero(out, inlen - SEAL_OVERHEAD);
		return -EBADMSG;
	}
	return 0;
}

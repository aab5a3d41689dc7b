/* aead: XChaCha20-Poly1305-IETF sealing with a fresh random 192-bit nonce per message.
 * Used for every block, page, root and the wrapped master key.
 * Must never release plaintext from a message whose tag does not verify. */
#include "crypto/crypto.h"
#include <errno.h>
#include <sodium.h>

void aead_seal(unsigned char *out, const unsigned char *in, size_t len, const void *aad,
	       size_t aadlen, const unsigned char key[KEY_BYTES])
{
	randombytes_buf(out, NONCE_BYTES);
	aead_seal_with_nonce(out, in, len, aad, aadlen, key);
}

void aead_seal_with_nonce(unsigned char *out, const unsigned char *in, size_t len, const void *aad,
			  size_t aadlen, const unsigned char key[KEY_BYTES])
{
	crypto_aead_xchacha20poly1305_ietf_encrypt(out + NONCE_BYTES, NULL, in, len, aad, aadlen,
						   NULL, out, key);
}

int aead_open(unsigned char *out, const unsigned char *in, size_t inlen, const void *aad,
	      size_t aadlen, const unsigned char key[KEY_BYTES])
{
	if (inlen < SEAL_OVERHEAD)
		return -EBADMSG;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(out, NULL, NULL, in + NONCE_BYTES,
						       inlen - NONCE_BYTES, aad, aadlen, in,
						       key) != 0) {
		sodium_memzero(out, inlen - SEAL_OVERHEAD);
		return -EBADMSG;
	}
	return 0;
}

/* kdf: passphrase stretching (Argon2id) and subkey derivation (crypto_kdf / BLAKE2b).
 * Must never copy a key outside locked memory, and never return a key on failure. */
#include "crypto/crypto.h"
#include <errno.h>
#include <string.h>
#include <sodium.h>

static const char KDF_CONTEXT[crypto_kdf_CONTEXTBYTES] = "coffer01";

enum { SUBKEY_DATA = 1, SUBKEY_META = 2, SUBKEY_ROOT = 3 };

int kdf_level(const char *name, struct kdf_params *out)
{
	static const struct {
		const char *name;
		uint64_t ops, mem;
	} levels[] = {
		{"min", crypto_pwhash_argon2id_OPSLIMIT_MIN, crypto_pwhash_argon2id_MEMLIMIT_MIN},
		{"interactive", crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE,
		 crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE},
		{"moderate", crypto_pwhash_argon2id_OPSLIMIT_MODERATE,
		 crypto_pwhash_argon2id_MEMLIMIT_MODERATE},
		{"sensitive", crypto_pwhash_argon2id_OPSLIMIT_SENSITIVE,
		 crypto_pwhash_argon2id_MEMLIMIT_SENSITIVE},
	};
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (strcmp(name, levels[i].name) == 0) {
			out->ops = levels[i].ops;
			out->mem = levels[i].mem;
			return 0;
		}
	return -EINVAL;
}

int passkey_derive(unsigned char key[KEY_BYTES], const char *pass, size_t passlen,
		   const unsigned char salt[SALT_BYTES], const struct kdf_params *p)
{
	if (p->ops < crypto_pwhash_argon2id_OPSLIMIT_MIN ||
	    p->mem < crypto_pwhash_argon2id_MEMLIMIT_MIN ||
	    p->mem > crypto_pwhash_argon2id_MEMLIMIT_MAX)
		return -EINVAL;
	if (crypto_pwhash(key, KEY_BYTES, pass, passlen, salt, p->ops, (size_t)p->mem,
			  crypto_pwhash_ALG_ARGON2ID13) != 0) {
		sodium_memzero(key, KEY_BYTES);
		return -ENOMEM;
	}
	return 0;
}

struct keyring *keyring_derive(const unsigned char master[KEY_BYTES], enum cipher cipher)
{
	struct keyring *k = secret_alloc(sizeof(*k));
	if (!k)
		return NULL;
	crypto_kdf_derive_from_key(k->data->k, KEY_BYTES, SUBKEY_DATA, KDF_CONTEXT, master);
	crypto_kdf_derive_from_key(k->meta->k, KEY_BYTES, SUBKEY_META, KDF_CONTEXT, master);
	crypto_kdf_derive_from_key(k->root->k, KEY_BYTES, SUBKEY_ROOT, KDF_CONTEXT, master);
	k->data->cipher = k->meta->cipher = k->root->cipher = cipher;
	return k;
}

void keyring_free(struct keyring *k)
{
	secret_free(k);
}

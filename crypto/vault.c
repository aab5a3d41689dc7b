/* vault: making, unlocking and re-wrapping the vault config (see vault.h); its text is
 * format/config.c's.
 * The wrapped key's AAD is every byte before the "key" line, so no parameter can be changed
 * without the unlock failing; its KDF cost is capped before the derivation runs, since it is
 * read unauthenticated. Must never keep the master key outside locked memory, and never run a
 * key derivation above the cap. */
#include "crypto/vault.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "format/config.h"

/* The key that wraps the master key: Argon2id of the passphrase, always with XChaCha20-Poly1305
 * (the config's cipher line names what the keyring seals with, not this). In locked memory. */
static struct aead_key *passkey_alloc(void)
{
	struct aead_key *pk = secret_alloc(sizeof(*pk));
	if (pk)
		pk->cipher = CIPHER_XCHACHA20;
	return pk;
}

enum cipher vault_default_cipher(void)
{
	return cipher_aes_available() ? CIPHER_AES256GCM : CIPHER_XCHACHA20;
}

int vault_config_create(struct buf *out, const char *pass, size_t passlen,
			const struct kdf_params *kdf, enum cipher cipher)
{
	struct config c = {.kdf = *kdf,
			   .version = cipher == CIPHER_XCHACHA20 ? 1 : 2,
			   .cipher = cipher};
	struct buf header = {0};
	random_bytes(c.id, sizeof(c.id));
	random_bytes(c.salt, sizeof(c.salt));
	unsigned char *k = secret_alloc(KEY_BYTES); /* the master key */
	struct aead_key *passkey = passkey_alloc();
	int err = k && passkey ? 0 : -ENOMEM;
	if (!err) {
		random_bytes(k, KEY_BYTES);
		err = passkey_derive(passkey->k, pass, passlen, c.salt, kdf);
	}
	if (!err) {
		config_encode_header(&c, &header);
		err = header.err;
	}
	if (!err) {
		aead_seal(c.wrapped, k, KEY_BYTES, header.data, header.len, passkey);
		config_encode(&c, out);
		err = out->err;
	}
	buf_free(&header);
	secret_free(passkey);
	secret_free(k);
	return err;
}

static int parse(const unsigned char *text, size_t len, struct vault *v, struct config *c)
{
	memset(v, 0, sizeof(*v));
	int err = config_decode(text, len, c);
	if (err)
		return err;
	memcpy(v->id, c->id, VAULT_ID_BYTES);
	v->kdf = c->kdf;
	v->cipher = c->cipher;
	for (int i = 0; i < VAULT_ID_BYTES; i++)
		snprintf(v->idhex + 2 * i, 3, "%02x", v->id[i]);
	return 0;
}

int vault_config_parse(const unsigned char *text, size_t len, struct vault *v)
{
	struct config c;
	return parse(text, len, v, &c);
}

void vault_kdf_cap(const struct kdf_params *chosen, struct kdf_params *cap)
{
	kdf_level("sensitive", cap);
	if (chosen && chosen->ops > cap->ops)
		cap->ops = chosen->ops;
	if (chosen && chosen->mem > cap->mem)
		cap->mem = chosen->mem;
}

bool vault_kdf_within(const struct kdf_params *p, const struct kdf_params *cap)
{
	return p->ops <= cap->ops && p->mem <= cap->mem;
}

struct vault_master {
	unsigned char key[KEY_BYTES];
};

int vault_master_open(const unsigned char *text, size_t len, const char *pass, size_t passlen,
		      const struct kdf_params *cap, struct vault *v, struct vault_master **out)
{
	struct config c;
	struct kdf_params dflt;
	*out = NULL;
	int err = parse(text, len, v, &c);
	if (err)
		return err;
	if (!cap) {
		vault_kdf_cap(NULL, &dflt);
		cap = &dflt;
	}
	if (!vault_kdf_within(&v->kdf, cap))
		return -E2BIG;
	struct vault_master *m = secret_alloc(sizeof(*m));
	struct aead_key *passkey = passkey_alloc();
	err = m && passkey ? passkey_derive(passkey->k, pass, passlen, c.salt, &v->kdf) : -ENOMEM;
	if (!err && aead_open(m->key, c.wrapped, CONFIG_WRAPPED_BYTES, text, c.header_len, passkey))
		err = -EACCES;
	secret_free(passkey);
	if (err)
		secret_free(m);
	else
		*out = m;
	return err;
}

int vault_master_keys(const struct vault_master *m, struct vault *v)
{
	if (v->cipher == CIPHER_AES256GCM && !cipher_aes_available())
		return -ENOTSUP;
	v->keys = keyring_derive(m->key, v->cipher);
	return v->keys ? 0 : -ENOMEM;
}

/* Whether text (a config just made) opens under passkey to m's key. */
static bool opens_to(const struct buf *text, const struct aead_key *passkey,
		     const struct vault_master *m)
{
	struct config c;
	unsigned char *k = secret_alloc(KEY_BYTES);
	bool same = k && config_decode(text->data, text->len, &c) == 0 &&
		    aead_open(k, c.wrapped, CONFIG_WRAPPED_BYTES, text->data, c.header_len,
			      passkey) == 0 &&
		    memcmp(k, m->key, KEY_BYTES) == 0;
	secret_free(k);
	return same;
}

int vault_config_rewrap(const struct vault_master *m, const unsigned char *text, size_t len,
			const char *pass, size_t passlen, const struct kdf_params *kdf,
			struct buf *out)
{
	struct config c;
	struct buf header = {0};
	int err = config_decode(text, len, &c);
	if (err)
		return err;
	c.kdf = *kdf;
	random_bytes(c.salt, sizeof(c.salt));
	struct aead_key *passkey = passkey_alloc();
	err = passkey ? passkey_derive(passkey->k, pass, passlen, c.salt, kdf) : -ENOMEM;
	if (!err) {
		config_encode_header(&c, &header);
		err = header.err;
	}
	if (!err) {
		aead_seal(c.wrapped, m->key, KEY_BYTES, header.data, header.len, passkey);
		config_encode(&c, out);
		err = out->err;
	}
	if (!err && !opens_to(out, passkey, m))
		err = -EIO; /* never hand out a config that would not open */
	buf_free(&header);
	secret_free(passkey);
	return err;
}

void vault_master_free(struct vault_master *m)
{
	secret_free(m);
}

int vault_unlock(const unsigned char *text, size_t len, const char *pass, size_t passlen,
		 const struct kdf_params *cap, struct vault *v)
{
	struct vault_master *m;
	int err = vault_master_open(text, len, pass, passlen, cap, v, &m);
	if (!err)
		err = vault_master_keys(m, v);
	vault_master_free(m);
	return err;
}

void vault_release(struct vault *v)
{
	keyring_free(v->keys);
	v->keys = NULL;
}

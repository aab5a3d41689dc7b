/* vault: making a vault config (a fresh master key wrapped under the passphrase-derived key),
 * unlocking one into a keyring, and re-wrapping its master key under a new passphrase (coffer
 * passwd); the config's text is format/config.c's.
 * Must never write a config over an existing one, and never keep the master key after unlock. */
#ifndef COFFER_VAULT_H
#define COFFER_VAULT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "crypto/crypto.h"
#include "format/format.h"
#include "lib/buf.h"

#define VAULT_CONFIG_NAME "config"

struct vault {
	uint8_t id[VAULT_ID_BYTES];
	char idhex[2 * VAULT_ID_BYTES + 1];
	struct kdf_params kdf;
	enum cipher cipher;   /* what the keyring seals with */
	struct keyring *keys; /* NULL until unlocked */
};

/* Makes a new config text with a fresh master key wrapped under pass, for a vault whose data
 * seals with cipher (the config version 2 with a cipher line for AES-256-GCM, version 1 for
 * XChaCha20-Poly1305, so that older coffer still opens it). */
int vault_config_create(struct buf *out, const char *pass, size_t passlen,
			const struct kdf_params *kdf, enum cipher cipher);
/* The cipher init picks: AES-256-GCM where this CPU runs it, XChaCha20-Poly1305 otherwise. */
enum cipher vault_default_cipher(void);
/* Parses a config text; -EINVAL (damaged) or -EPROTONOSUPPORT (unknown version). */
int vault_config_parse(const unsigned char *text, size_t len, struct vault *v);
/* The most key derivation an unlock runs, since the config's parameters are read before anything
 * is authenticated: the sensitive level, raised to chosen's (the cache's copy of the config, which
 * this user unlocked before) where chosen asks for more; chosen may be NULL. */
void vault_kdf_cap(const struct kdf_params *chosen, struct kdf_params *cap);
/* Whether p asks for no more passes and no more memory than cap. */
bool vault_kdf_within(const struct kdf_params *p, const struct kdf_params *cap);
/* Unwraps the master key: 0, -EACCES for a wrong passphrase, -EINVAL for a damaged config, or
 * -E2BIG (before any work) when the config's KDF cost exceeds cap (NULL: vault_kdf_cap(NULL)). */
int vault_unlock(const unsigned char *text, size_t len, const char *pass, size_t passlen,
		 const struct kdf_params *cap, struct vault *v);
void vault_release(struct vault *v);

/* The unwrapped master key, in locked memory; only this file reads it. */
struct vault_master;
/* As vault_unlock, but keeps the master key in *out (NULL on error) instead of a keyring. */
int vault_master_open(const unsigned char *text, size_t len, const char *pass, size_t passlen,
		      const struct kdf_params *cap, struct vault *v, struct vault_master **out);
/* v->keys from m; -ENOMEM, or -ENOTSUP when v->cipher is AES-256-GCM and this CPU cannot run it
 * (cipher_aes_available). */
int vault_master_keys(const struct vault_master *m, struct vault *v);
/* Appends to out the config text (the one m was opened from) with m wrapped under pass: same
 * version and vault id, a fresh salt, the KDF parameters kdf. Checks that the result opens to
 * m before returning it (-EIO otherwise). */
int vault_config_rewrap(const struct vault_master *m, const unsigned char *text, size_t len,
			const char *pass, size_t passlen, const struct kdf_params *kdf,
			struct buf *out);
/* Wipes and frees m; NULL is fine. */
void vault_master_free(struct vault_master *m);

#endif

/* vault: making a vault config (a fresh master key wrapped under the passphrase-derived key) and
 * unlocking one into a keyring; the config's text is format/config.c's.
 * Must never write a config over an existing one, and never keep the master key after unlock. */
#ifndef COFFER_VAULT_H
#define COFFER_VAULT_H
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
	struct keyring *keys; /* NULL until unlocked */
};

/* Makes a new config text with a fresh master key wrapped under pass. */
int vault_config_create(struct buf *out, const char *pass, size_t passlen,
			const struct kdf_params *kdf);
/* Parses a config text; -EINVAL (damaged) or -EPROTONOSUPPORT (unknown version). */
int vault_config_parse(const unsigned char *text, size_t len, struct vault *v);
/* Unwraps the master key: 0, -EACCES for a wrong passphrase, or -EINVAL for a damaged config. */
int vault_unlock(const unsigned char *text, size_t len, const char *pass, size_t passlen,
		 struct vault *v);
void vault_release(struct vault *v);

#endif

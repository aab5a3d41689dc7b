/* config: the codec of the vault config text (coffer-format(5), "Vault config"): lines in a fixed
 * order (version 1: five, XChaCha20-Poly1305 implied; version 2: six, with a cipher line before
 * the key), the last one the master key sealed with every byte before it as AAD.
 * Pure: bytes in, struct out and back; never touches a key, a file or the network. */
#ifndef COFFER_FORMAT_CONFIG_H
#define COFFER_FORMAT_CONFIG_H
#include <stddef.h>
#include <stdint.h>
#include "crypto/crypto.h"
#include "format/format.h"
#include "lib/buf.h"

struct config {
	unsigned version;   /* 1 or 2; 1 always means cipher CIPHER_XCHACHA20 */
	enum cipher cipher; /* what the keyring seals with (version 2's cipher line) */
	uint8_t id[VAULT_ID_BYTES];
	struct kdf_params kdf;
	uint8_t salt[SALT_BYTES];
	uint8_t wrapped[CONFIG_WRAPPED_BYTES]; /* the sealed master key */
	size_t header_len; /* decoded: bytes before the "key" line, the wrapped key's AAD */
};

/* Appends the lines before the key line (the AAD of the wrapped key): four for version 1, five
 * (the cipher line last) for version 2. */
void config_encode_header(const struct config *c, struct buf *out);
/* Appends the whole config text. */
void config_encode(const struct config *c, struct buf *out);
/* 0; -EPROTONOSUPPORT for another version or an unknown cipher name; -EINVAL for anything else
 * than the lines of its version. */
int config_decode(const unsigned char *text, size_t len, struct config *c);

#endif

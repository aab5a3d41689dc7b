/* lease: the codec of the writer lease object (coffer-format(5), "Leases"): device id, expiry
 * and host name, padded to 128 bytes and sealed under the meta key with the vault id as AAD.
 * Pure: crypto only; getting and putting it on the vault is sync/state.c's. */
#ifndef COFFER_FORMAT_LEASE_H
#define COFFER_FORMAT_LEASE_H
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "format/format.h"
#include "lib/buf.h"

struct lease {
	uint8_t device[DEVICE_ID_BYTES];
	time_t expiry; /* seconds since the epoch */
	char host[LEASE_HOST_MAX + 1];
};

/* Appends the LEASE_PLAIN bytes of plaintext; -ENAMETOOLONG if the host name does not fit. */
int lease_encode(const struct lease *l, struct buf *out);
/* Decodes LEASE_PLAIN bytes of plaintext: 0 or -EINVAL. */
int lease_decode(const unsigned char *b, size_t len, struct lease *l);
/* Appends the sealed lease (LEASE_SEALED bytes): 0, -ENAMETOOLONG or -ENOMEM. */
int lease_seal(const struct aead_key *key, const uint8_t vault_id[VAULT_ID_BYTES],
	       const struct lease *l, struct buf *out);
/* Opens and decodes a sealed lease: 0 or -EBADMSG (damaged, foreign or of another size). */
int lease_open(const struct aead_key *key, const uint8_t vault_id[VAULT_ID_BYTES],
	       const unsigned char *b, size_t len, struct lease *l);

#endif

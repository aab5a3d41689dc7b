/* state: reading and writing what the sync remembers in the cache between mounts (sync.state)
 * and the writer lease object on the vault; their bytes are format/state.c's and format/lease.c's.
 * Must never lower a remembered generation. */
#ifndef COFFER_SYNC_STATE_H
#define COFFER_SYNC_STATE_H
#include <stdint.h>
#include <time.h>
#include "crypto/crypto.h"
#include "cache/store.h"
#include "format/lease.h"
#include "format/state.h"
#include "sync/remote/remote.h"

/* Reads sync.state (a new cache: a fresh device id, saved at once); -EINVAL when damaged. */

int state_load(struct store *st, struct sync_state *s);
int state_save(struct store *st, const struct sync_state *s);

/* Reads the lease: 0, -ENOENT (none), -EBADMSG (damaged or foreign), or a remote error;
 * tag receives its version for lease_put. */
int lease_get(struct remote *r, const struct keyring *k, const uint8_t vid[VAULT_ID_BYTES],
	      struct lease *l, char tag[TAG_MAX]);
/* Writes a lease for this device valid for ttl seconds, replacing the version with tag (NULL:
 * none may exist); -ESTALE when someone else changed it first. */
int lease_put(struct remote *r, const struct keyring *k, const uint8_t vid[VAULT_ID_BYTES],
	      const uint8_t device[DEVICE_ID_BYTES], unsigned ttl, const char *expect,
	      char tag[TAG_MAX]);

#endif

/* state: reading and writing what the sync remembers between mounts (sync.state, in the cache
 * and outside it) and the writer lease object on the vault; their bytes are format/state.c's and
 * format/lease.c's. Must never lower a remembered generation. */
#ifndef COFFER_SYNC_STATE_H
#define COFFER_SYNC_STATE_H
#include <stdint.h>
#include <time.h>
#include "crypto/crypto.h"
#include "cache/store.h"
#include "format/lease.h"
#include "format/state.h"
#include "sync/remote/remote.h"

/* Reads sync.state and its copy outside the cache (files.h), keeping the later root seen of
 * the two; a cleared cache takes what the outside copy saw; a new cache gets a fresh device id.
 * Saves at once when they differed. -EINVAL when the cache's copy is damaged. */
int state_load(struct store *st, const uint8_t vid[VAULT_ID_BYTES], struct sync_state *s);
/* Replaces both copies (the outside one's failure is reported, not returned). */
int state_save(struct store *st, const uint8_t vid[VAULT_ID_BYTES], const struct sync_state *s);

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

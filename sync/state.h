/* state: what the sync remembers in the cache between mounts (highest generation seen on the
 * remote, last generation this cache uploaded, its device id), and the writer lease object.
 * Must never lower a remembered generation. */
#ifndef COFFER_SYNC_STATE_H
#define COFFER_SYNC_STATE_H
#include <stdint.h>
#include <time.h>
#include "crypto/crypto.h"
#include "cache/store.h"
#include "sync/remote/remote.h"

struct sync_state {
	uint64_t seen, synced;
	uint8_t device[16];
};

int state_load(struct store *st, struct sync_state *s);
int state_save(struct store *st, const struct sync_state *s);

struct lease {
	uint8_t device[16];
	time_t expiry;
	char host[65];
};

/* Reads the lease: 0, -ENOENT (none), -EBADMSG (damaged or foreign), or a remote error;
 * tag receives its version for lease_put. */
int lease_get(struct remote *r, const struct keyring *k, const uint8_t vid[16], struct lease *l,
	      char tag[TAG_MAX]);
/* Writes a lease for this device valid for ttl seconds, replacing the version with tag (NULL:
 * none may exist); -ESTALE when someone else changed it first. */
int lease_put(struct remote *r, const struct keyring *k, const uint8_t vid[16],
	      const uint8_t device[16], unsigned ttl, const char *expect, char tag[TAG_MAX]);

#endif

/* state: the codec of sync.state (coffer-format(5), "Local cache" and "State outside the
 * cache"): the last root seen on the vault (generation, hash, commit time), the last one this
 * cache uploaded or adopted (generation, hash), and the device id.
 * Pure: reading and replacing the files is sync/state.c's. */
#ifndef COFFER_FORMAT_STATE_H
#define COFFER_FORMAT_STATE_H
#include <stddef.h>
#include <stdint.h>
#include "format/format.h"
#include "lib/buf.h"

struct sync_state {
	uint64_t seen, synced;
	uint8_t device[DEVICE_ID_BYTES];
	/* Zero when unknown (a state written before roots were chained): */
	uint8_t seen_hash[ROOT_HASH_BYTES], synced_hash[ROOT_HASH_BYTES];
	int64_t seen_time; /* ns */
};

/* Appends "seen G\nsynced G\ndevice HEX\nseen-hash HEX\nseen-time NS\nsynced-hash HEX\n". */
void state_encode(const struct sync_state *s, struct buf *out);
/* Decodes exactly those six lines, or the first three alone (an older cache: hashes zero):
 * 0 or -EINVAL. */
int state_decode(const unsigned char *text, size_t len, struct sync_state *s);

#endif

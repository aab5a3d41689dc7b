/* state: the codec of the cache's sync.state text (coffer-format(5), "Local cache"): the highest
 * generation seen on the vault, the last one this cache uploaded, and its device id.
 * Pure: reading and replacing the file is sync/state.c's. */
#ifndef COFFER_FORMAT_STATE_H
#define COFFER_FORMAT_STATE_H
#include <stddef.h>
#include <stdint.h>
#include "format/format.h"
#include "lib/buf.h"

struct sync_state {
	uint64_t seen, synced;
	uint8_t device[DEVICE_ID_BYTES];
};

/* Appends "seen G\nsynced G\ndevice HEX\n". */
void state_encode(const struct sync_state *s, struct buf *out);
/* Decodes exactly those three lines: 0 or -EINVAL. */
int state_decode(const unsigned char *text, size_t len, struct sync_state *s);

#endif

/* history: the codec of a root's chain section and of history segments (coffer-format(5),
 * "Roots" and "History"): the parent a root replaced on the vault, the last published roots
 * (the tail), and the levels of the skip list of sealed segments that hold all earlier ones,
 * 16 (generation, root hash) pairs each. Also the pure steps that extend a chain at a publish
 * and that look a generation up in it.
 * Pure: no I/O, no keys; sealing, hashing and fetching are the caller's. */
#ifndef COFFER_FORMAT_HISTORY_H
#define COFFER_FORMAT_HISTORY_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "format/format.h"
#include "lib/buf.h"

struct root_link {
	uint64_t gen;
	uint8_t hash[ROOT_HASH_BYTES];
};

/* gen 0 (and a zero hash): no parent known (a local commit, a version 1 root, the first root). */
struct root_chain {
	struct root_link parent;
	uint64_t nsegs; /* history segments written, numbered 0..nsegs-1 */
	uint8_t ntail, nlevels;
	struct root_link
		tail[HIST_ENTRIES]; /* published roots after the last segment, oldest first */
	struct root_link level[HIST_LEVELS]; /* level j: segment hist_level_index(nsegs, j); gen:
					      * the first generation it holds */
};

struct hist_seg {
	uint64_t index;
	uint32_t n, np;
	struct root_link e[HIST_ENTRIES];  /* ascending generations */
	struct root_link ptr[HIST_LEVELS]; /* ptr[j]: segment index - 2^j (gen: its first) */
};

/* Levels a root with nsegs segments carries; pointers segment k carries; the index of level j. */
unsigned hist_levels(uint64_t nsegs);
unsigned hist_pointers(uint64_t index);
uint64_t hist_level_index(uint64_t nsegs, unsigned j);

void chain_encode(const struct root_chain *c, struct buf *out);
/* Reads a chain section: 0 or -EINVAL (counts out of bounds, levels that do not match). */
int chain_decode(struct rd *rd, struct root_chain *c);

void hist_aad(const uint8_t vault_id[VAULT_ID_BYTES], uint8_t aad[HIST_AAD_BYTES]);
void hist_encode(const struct hist_seg *s, struct buf *out);
/* Decodes a segment payload: 0 or -EINVAL (anything but a full, ordered segment). */
int hist_decode(const unsigned char *b, size_t len, struct hist_seg *s);

/* Turns c, the chain of the root `replaced` (zeroed for a version 1 root or none), into the
 * chain of the root published over it. Returns 1 when the tail is full: seg is then the new
 * segment, which the caller seals, stores and hands to chain_add_segment with its hash. */
int chain_advance(struct root_chain *c, const struct root_link *replaced, struct hist_seg *seg);
void chain_add_segment(struct root_chain *c, const struct hist_seg *seg,
		       const uint8_t hash[ROOT_HASH_BYTES]);

/* Looks generation g up among the published ancestors of the root whose chain is c:
 * 0 (found: *out), 1 (in segment *next_index, hash next_hash: read it and call hist_step), or
 * -ENOENT (no ancestor has generation g). */
int chain_locate(const struct root_chain *c, uint64_t g, struct root_link *out,
		 uint64_t *next_index, uint8_t next_hash[ROOT_HASH_BYTES]);
/* The same from segment s (already checked against its hash and expected index). */
int hist_step(const struct hist_seg *s, uint64_t g, struct root_link *out, uint64_t *next_index,
	      uint8_t next_hash[ROOT_HASH_BYTES]);

bool link_is_zero(const struct root_link *l);

#endif

/* sync: mirrors committed roots to a remote (see docs/design.md, "Sync"). Before the filesystem
 * loads, sync_attach reconciles the cache with the remote (fresh cache, rollback, newer remote,
 * lease); afterwards a background thread uploads every object the newest root needs and only
 * then replaces the remote root, deletes what no retained root names, and fetches missing
 * objects on demand. Talks to the filesystem only through its commit hook and the object store.
 * Must never replace the remote root before every object it names is on the remote, and never
 * accept a remote root older than one this cache has seen. */
#ifndef COFFER_SYNC_H
#define COFFER_SYNC_H
#include <stdbool.h>
#include <stdint.h>
#include "fs/core.h"
#include "cache/store.h"
#include "sync/remote/remote.h"

struct sync_opts {
	unsigned keep;	      /* retained roots (default 16) */
	unsigned uploaders;   /* parallel transfers (default 8) */
	uint64_t cache_size;  /* bytes; 0: no cap */
	unsigned lease_ttl;   /* seconds (default 120) */
	unsigned drain_limit; /* seconds without progress before unmount gives up (default 60) */
	bool readonly;
	uint64_t snapshot; /* 0, or the retained generation to mount */
};

struct sync;
struct keyring;

/* Reconciles the cache with the remote; prints one clear line and fails on rollback, conflict,
 * a held lease, or an unreachable remote with an empty cache. */
int sync_attach(struct sync **out, struct remote *r, struct store *st, const struct keyring *keys,
		const uint8_t vault_id[16], const struct sync_opts *o);
/* Starts mirroring for the loaded filesystem. */
int sync_start(struct sync *s, struct fs *fs);
/* Waits until the remote holds the newest root, or until it made no progress for drain_limit
 * seconds, or until nowait appears in the cache; returns 0 when everything is uploaded. */
int sync_drain(struct sync *s);
/* Stops the threads and releases the lease; frees s. */
void sync_stop(struct sync *s);

/* The retained roots of a vault, oldest first. */
struct snapshot {
	uint64_t gen;
	struct root_info info;
};
int sync_list_snapshots(struct remote *r, const struct keyring *keys, const uint8_t vault_id[16],
			struct snapshot **out, size_t *n);

/* Formats a time (ns since the epoch) for messages and listings, as local time
 * ("2026-12-03 15:44:16 UTC"). */
void sync_format_time(int64_t ns, char *out, size_t cap);

#endif

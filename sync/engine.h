/* engine: the sync's private state, shared by sync.c (attach, thread, fetch) and mirror.c
 * (upload, publish, clean-up, eviction). Not for use outside sync/. */
#ifndef COFFER_SYNC_ENGINE_H
#define COFFER_SYNC_ENGINE_H
#include <pthread.h>
#include "lib/htab.h"
#include "sync/state.h"
#include "sync/sync.h"

struct sync {
	struct remote *r;
	struct store *st;
	struct fs *fs;
	const struct keyring *keys;
	uint8_t vid[16];
	struct sync_opts o;
	struct sync_state state;
	bool online, listed; /* listed: remote_set holds the remote's full object list */

	pthread_mutex_t mu; /* guards everything below */
	pthread_cond_t cv;
	pthread_t thread;
	bool running, stop, conflict, draining;
	struct htab *pending;	 /* objects the newest root needs that the remote lacks */
	struct htab *remote_set; /* objects known to be on the remote */
	struct buf newest;	 /* sealed newest local root */
	uint64_t newest_gen, remote_gen;
	int64_t remote_time; /* commit time of remote_gen, ns */
	char root_tag[TAG_MAX], lease_tag[TAG_MAX];
	bool has_root, has_lease;
	time_t lease_renewed, last_progress, next_try;
	unsigned backoff;
	uint64_t bytes_sent, objects_sent, bytes_waiting, cache_bytes;
	double rate; /* bytes per second, smoothed */
	char last_error[256];
	time_t last_error_time;
	bool failing; /* a request failed since the last round that went through */
};

/* Name sets: keys and values are malloc'ed 16-byte names. */
int nameset_add(struct htab *t, const struct oname *n);
void nameset_del(struct htab *t, const struct oname *n);
void nameset_free(struct htab *t);

/* Both with mu held. sync_error records (and logs, when it changed) the last error and marks
 * the sync as failing; sync_write_status rewrites the status file the `status` command reads. */
void sync_error(struct sync *s, int err, const char *what);
void sync_write_status(struct sync *s);

/* One round of work: uploads, publish, clean-up, eviction. Called by the sync thread without
 * mu held. Returns 0 when idle, 1 when it uploaded objects (more may wait), 2 when it published
 * a root, or a negative errno. */
int mirror_round(struct sync *s);
/* Measures the cache and, over the cap, deletes uploaded objects, least recently used first;
 * at most every 10 s unless forced. Called without mu held. */
void mirror_evict(struct sync *s, bool force);

#endif

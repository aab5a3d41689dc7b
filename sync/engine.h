/* engine: the sync's private state, shared by the files of sync/ (attach, the thread, mirror,
 * follow, fetch, status). struct sync is three parts with one concern each: the upload queue
 * (what the newest root needs that the vault lacks), the view of the vault (its root, lease and
 * objects as this device knows them), and statistics (what the status shows).
 * Not for use outside sync/. Every field below `mu` is guarded by it. */
#ifndef COFFER_SYNC_ENGINE_H
#define COFFER_SYNC_ENGINE_H
#include <pthread.h>
#include <time.h>
#include "format/root.h"
#include "format/status.h"
#include "lib/htab.h"
#include "sync/state.h"
#include "sync/sync.h"

/* What waits to be uploaded: every object the newest local root names that the vault lacks. */
struct upload_queue {
	struct htab *pending; /* name set */
	struct buf newest;    /* the sealed newest local root */
	uint64_t newest_gen;
	uint64_t bytes_waiting; /* cache bytes of pending, measured once per round */
};

/* The vault as this device last saw it. */
struct vault_view {
	struct htab *objects; /* name set: objects this device uploaded or verified (known.c) */
	bool listed;	      /* the vault's listing (for messages only) worked */
	bool known_lost; /* the known journal was missing or damaged at start: the mount lists */
	bool has_root, has_lease;
	bool offline;  /* attached without reaching the vault: attach_late has not caught up yet */
	bool conflict; /* someone else replaced the root or took the lease: uploads stop */
	uint64_t gen;  /* generation of the vault's root */
	int64_t time;  /* its commit time, ns */
	uint8_t hash[ROOT_HASH_BYTES]; /* its hash (chain.c) */
	struct root_chain chain;       /* its chain section: what the next publish extends */
	char root_tag[TAG_MAX], lease_tag[TAG_MAX];
	time_t lease_renewed;
	char refused_tag[TAG_MAX]; /* follow.c: the version of the last root refused */
};

/* What `coffer status` shows of the sync's work. */
struct sync_stats {
	uint64_t bytes_sent, objects_sent, cache_bytes;
	double rate; /* bytes per second, smoothed */
	char last_error[256];
	time_t last_error_time;
	bool failing;		       /* a request failed since the last round that went through */
	char last_merge[STATUS_MERGE]; /* merge.c: what the merge at attach did ("" none) */
	char *merge_log; /* merge.c: its lines, for the log once it is open (NULL: none) */
};

struct sync {
	struct remote *r;
	struct store *st;
	struct fs *fs;
	const struct keyring *keys;
	uint8_t vid[16];
	struct sync_opts o;
	struct sync_state state; /* what the cache remembers between mounts */

	pthread_mutex_t mu; /* guards everything below */
	pthread_cond_t cv;
	pthread_t thread;
	bool running, stop, draining;
	time_t last_progress, next_try, last_evict;
	unsigned backoff;
	struct upload_queue q;
	struct vault_view v;
	struct sync_stats stats;
};

/* nameset.c: sets of object names over htab; keys and values are malloc'ed 16-byte names. */
int nameset_add(struct htab *t, const struct oname *n);
void nameset_del(struct htab *t, const struct oname *n);
bool nameset_has(struct htab *t, const struct oname *n);
void nameset_free(struct htab *t);

/* status.c, both with mu held: sync_error records (and logs, when it changed) the last error
 * and marks the sync as failing; sync_write_status rewrites the status that `coffer status`
 * reads. */
void sync_error(struct sync *s, int err, const char *what);
void sync_write_status(struct sync *s);
/* Takes mu, records the error, rewrites the status. */
void sync_report(struct sync *s, int err, const char *what);

/* attach.c: reads and authenticates the vault's root (rp and hash as chain_open gives them);
 * tag receives its version. Prints why when it fails authentication. */
int attach_read_root(struct sync *s, struct buf *b, struct root_plain *rp,
		     uint8_t hash[ROOT_HASH_BYTES], char tag[TAG_MAX]);

/* chain.c: the hash chain of vault roots (docs/design.md, "Forks").
 * chain_open unseals a vault root and hashes it: 0 or -EBADMSG; free rp with root_plain_free. */
int chain_open(struct sync *s, const void *sealed, size_t len, struct root_plain *rp,
	       uint8_t hash[ROOT_HASH_BYTES]);
/* Whether the vault root (rp, hash) descends from the last root seen there (state.seen, or is
 * it): 0; -ESTALE after saying "fork detected" or "rollback detected" (on stderr, or in the log
 * when to_log); -EBADMSG when its history cannot be read to prove it; or a remote error.
 * Reads history segments from the vault: call without mu. */
int chain_check(struct sync *s, const struct root_plain *rp, const uint8_t hash[ROOT_HASH_BYTES],
		bool to_log);
/* Records (rp, hash) as the vault's root and the last seen there; with mu held or before the
 * threads start. Saving the state is the caller's. */
void chain_seen(struct sync *s, const struct root_plain *rp, const uint8_t hash[ROOT_HASH_BYTES]);
/* The sealed root to publish: the local root `local` re-sealed with its chain section set to
 * extend the vault's root (gen, hash, chain; none when !has_root): its parent is exactly that
 * root. Same generation and pages; writes a history segment to the vault when the tail fills.
 * *chain receives the new chain. Without mu. */
int chain_reseal(struct sync *s, const struct buf *local, bool has_root, uint64_t gen,
		 const uint8_t hash[ROOT_HASH_BYTES], const struct root_chain *vchain,
		 struct buf *out, struct root_chain *chain);
/* Whether the sealed root L is the commit rp is a re-sealing of (same generation, time, counts
 * and pages; the chain section aside). */
bool chain_same_commit(struct sync *s, const struct buf *L, const struct root_plain *rp);
/* The first 8 hex digits of a root hash. */
void chain_short_hash(const uint8_t hash[ROOT_HASH_BYTES], char out[9]);

/* merge.c: merges the cache's root L (commits never uploaded) with the vault's R, against their
 * common ancestor (state.synced, when the vault retains it), commits the result as the cache's
 * root and sets state.synced to the vault's generation; logs each merged path and conflict copy.
 * Called by attach before the filesystem loads. */
int sync_merge(struct sync *s, const struct buf *L, const struct buf *R);
/* Logs (once the daemon's log is open) what that merge did, and forgets it. */
void sync_merge_log(struct sync *s);

/* attach.c: the catching up of a writer that attached while the vault was unreachable, at the
 * first round that reaches it (sync thread): checks the vault's root like attach does (fork,
 * rollback, authentication) and adopts it as the base of the next publish when this cache was
 * the last to sync with it; else sets v.conflict (uploads stop; the next mount merges). 0, a
 * transient error (tried again next round), -ESTALE or -EBADMSG. */
int attach_late(struct sync *s);

/* lease.c: the writer lease (see the file). take: 0 (v.has_lease set), -EBUSY while another
 * device holds a live lease (*holder says who), or the remote's error. renew: each round; takes
 * the lease when this device has none (an offline attach). release: at stop. */
int sync_lease_take(struct sync *s, struct lease *holder);
int sync_lease_renew(struct sync *s);
void sync_lease_release(struct sync *s);
/* "HOST (its lease expires WHEN)" of a lease. */
void sync_lease_holder(const struct lease *l, char *out, size_t cap);

/* mirror.c: one round of a writer's work: lease renewal, uploads, publish, clean-up, eviction.
 * Called by the sync thread without mu held. Returns 0 when idle, 1 when it uploaded objects
 * (more may wait), 2 when it published a root, or a negative errno. */
int mirror_round(struct sync *s);
/* Evicts uploaded objects beyond the cache cap; at most every 10 s unless forced. */
void mirror_evict(struct sync *s, bool force);

/* follow.c: the read-only mount's thread body: adopts newer roots the writer publishes. */
void *follow_main(void *arg);

/* fetch.c: the store's fetch hook: brings an object into the cache from the vault, verified. */
int fetch_object(void *arg, const struct oname *n, const struct obj_want *w, bool replace);
/* fetch.c: 0 when the bytes b open as what w says n is (a chunk of exactly w->nblocks blocks,
 * or an inode page, whose payload goes to plain when it is not NULL: the caller wipes and frees
 * it); -EBADMSG otherwise. */
int fetch_check(const struct keyring *k, const struct oname *n, const struct obj_want *w,
		const struct buf *b, struct buf *plain);
/* Gets the vault's copy of n into b, asking for no more than w allows, and checks it as
 * fetch_check does: 0, -ENOENT, -EBADMSG (damaged or too long), or the remote's error. */
int fetch_get_checked(struct remote *r, const struct keyring *k, const struct oname *n,
		      const struct obj_want *w, struct buf *b, struct buf *plain);

/* known.c: v.objects and its journal. load: at start, before any thread (fresh: the cache held
 * no root before attach, so it has nothing to know yet; sets v.known_lost otherwise when the
 * journal is missing or damaged); add (once the vault holds the bytes) and del (before the
 * vault's copy is deleted) take mu. */
int sync_known_load(struct sync *s, bool fresh);
int sync_known_add(struct sync *s, const struct oname *n);
int sync_known_del(struct sync *s, const struct oname *n);

/* Waits on the sync's condition for up to secs seconds; called with mu held. */
static inline void sync_wait(struct sync *s, int secs)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	t.tv_sec += secs;
	pthread_cond_timedwait(&s->cv, &s->mu, &t);
}

#endif

/* verify: the deep check of a vault (`coffer verify`): fetches every object the current root
 * (and, asked, every retained root) names into memory, opens it, and reports each one that is
 * missing or damaged with the paths it belongs to; optionally uploads again the cache's copy of
 * each such object that opens, and checks it once more.
 * Must never install anything into a cache, nor use a cache's copy to decide that the vault's
 * is good: only the vault's bytes are checked. */
#ifndef COFFER_SYNC_VERIFY_H
#define COFFER_SYNC_VERIFY_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "cache/store.h"
#include "sync/remote/keys.h"

#define VERIFY_PATHS_MAX 8 /* paths kept per problem; the rest are only counted */

struct verify_opts {
	bool snapshots;		   /* every retained root too */
	struct store *repair_from; /* NULL: report only */
	unsigned parallel;	   /* objects fetched at once (default 8, at most 64) */
	/* Called (with the walk's lock held, so briefly) after each object checked. */
	void (*progress)(void *arg, uint64_t objects, uint64_t bytes);
	void *arg;
};

enum verify_kind {
	VERIFY_ROOT,
	VERIFY_PAGE,
	VERIFY_CHUNK,
	VERIFY_TABLE,
	VERIFY_BUCKET,	    /* a split directory's bucket */
	VERIFY_BUCKET_TABLE /* a split directory's bucket table */
};

/* Why a repair did not happen (err says more for the last two). */
enum verify_repair {
	REPAIR_NONE,
	REPAIR_DONE,
	REPAIR_NOT_CACHED,
	REPAIR_CACHE_DAMAGED,
	REPAIR_UPLOAD_FAILED,
	REPAIR_RECHECK_FAILED
};

struct verify_problem {
	char key[REMOTE_KEY_MAX]; /* the vault key: objects/<hex>, root or roots/<gen> */
	enum verify_kind kind;
	int err;      /* -ENOENT missing, -EBADMSG damaged, else it could not be fetched */
	uint64_t gen; /* the newest checked root that names it */
	enum verify_repair repair;
	int repair_err;
	char *paths[VERIFY_PATHS_MAX]; /* escaped for printing: no control characters */
	size_t npaths, more;
};

struct verify_report {
	uint64_t roots, objects, bytes; /* what was fetched and opened, each object counted once */
	uint64_t missing, damaged, unreadable, repaired;
	struct verify_problem *v;
	size_t n, cap;
};

/* Walks and checks the vault; 0 when the walk ran to its end (the report then says whether
 * everything opened), or a negative errno when it could not (out of memory, the current root
 * unreadable for a reason other than damage). */
int vault_verify(struct remote *r, const struct keyring *keys, const uint8_t vault_id[16],
		 const struct verify_opts *o, struct verify_report *out);
/* 0 when every object opened (after repair); 1 otherwise. */
int verify_status(const struct verify_report *rep);
void verify_report_free(struct verify_report *rep);

#endif

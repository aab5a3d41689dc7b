/* status: the codec of the cache's status file, a flat JSON object that the daemon rewrites and
 * `coffer status` / `coffer umount` read (its text is what `coffer status --json` prints).
 * Pure functions over a plain struct. Must never read past the given bytes, and must refuse
 * (-EINVAL) any text that is not exactly one such object with every field once. */
#ifndef COFFER_FORMAT_STATUS_H
#define COFFER_FORMAT_STATUS_H
#include <stddef.h>
#include <stdint.h>

#define STATUS_TEXT_MAX 3072 /* the encoded text, newline included, is always shorter */
#define STATUS_REMOTE	512
#define STATUS_ERROR	256
#define STATUS_MERGE	512

struct status {
	char state[16];		    /* idle, uploading, retrying, conflict */
	char remote[STATUS_REMOTE]; /* the vault URL */
	uint64_t local_generation, remote_generation;
	int64_t remote_committed; /* seconds since the epoch; 0: never */
	uint64_t objects_waiting, bytes_waiting;
	double upload_rate; /* bytes per second */
	uint64_t objects_uploaded, bytes_uploaded, cache_bytes;
	char last_error[STATUS_ERROR];
	int64_t last_error_time; /* seconds since the epoch; 0: never */
	int pid;
	/* the merge this mount made at attach ("" none): its generation, its conflict copies */
	char last_merge[STATUS_MERGE];
	char remote_root[16]; /* the vault root's short hash: 8 hex digits ("" none yet) */
};

/* Writes the JSON text (ending in a newline) into out; its length, or -ENOSPC. */
int status_encode(const struct status *st, char *out, size_t cap);
/* Parses len bytes of JSON text into st: 0 or -EINVAL. */
int status_parse(const char *text, size_t len, struct status *st);

#endif

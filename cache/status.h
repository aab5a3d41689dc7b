/* status: the cache's status file, written by the daemon after every sync round and read by
 * `coffer status` and `coffer umount`, both through this one file (codec: format/status.h).
 * Must never leave a half-written status under its name: tmp, then rename. */
#ifndef COFFER_CACHE_STATUS_H
#define COFFER_CACHE_STATUS_H
#include "cache/store.h"
#include "format/status.h"

/* Replaces the status file (not fsynced: it is rewritten often and only informs). */
int cache_status_write(struct store *s, const struct status *st);
/* Reads and parses it: 0, -ENOENT (none yet), -EINVAL (damaged) or another I/O error. */
int cache_status_read(struct store *s, struct status *st);

#endif

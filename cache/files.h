/* files: the small whole files of the cache folder, as bytes: the current root ("root", the
 * local commit point), the vault config copy, the sync's state and the vault URL the cache was
 * last mounted from. Their codecs live elsewhere; callers never know a file name.
 * Must never replace one of them in place: always tmp, fsync, rename. */
#ifndef COFFER_CACHE_FILES_H
#define COFFER_CACHE_FILES_H
#include <stddef.h>
#include "cache/store.h"
#include "lib/buf.h"

/* Each read appends the file to out (-ENOENT when missing); each replace is atomic. */
int cache_root_read(struct store *s, struct buf *out);
int cache_root_replace(struct store *s, const void *p, size_t len);
int cache_config_read(struct store *s, struct buf *out);
int cache_config_replace(struct store *s, const void *p, size_t len);
int cache_state_read(struct store *s, struct buf *out);
int cache_state_replace(struct store *s, const void *p, size_t len);
int cache_url_read(struct store *s, struct buf *out);
int cache_url_replace(struct store *s, const void *p, size_t len);

#endif

/* files: the small whole files of the cache folder, as bytes: the current root ("root", the
 * local commit point), the vault config copy, the sync's state and the vault URL the cache was
 * last mounted from; and the copy of the sync's state outside the cache,
 * $XDG_STATE_HOME/coffer/VAULT-ID/CACHE-KEY, that survives a cleared cache. Their codecs live
 * elsewhere; callers never know a file name.
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
/* The outside copy of sync.state: in $XDG_STATE_HOME (else $HOME/.local/state, else the cache
 * owner's home's .local/state), under coffer/ and the vault id in hex, named by the BLAKE2b-128
 * of the cache folder's absolute path (each cache of a vault has its own); folders made 0700,
 * none followed when a symlink. */
int cache_outside_state_read(struct store *s, const uint8_t vault_id[16], struct buf *out);
int cache_outside_state_replace(struct store *s, const uint8_t vault_id[16], const void *p,
				size_t len);
int cache_url_read(struct store *s, struct buf *out);
int cache_url_replace(struct store *s, const void *p, size_t len);

#endif

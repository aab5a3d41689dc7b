/* metaobj: reading the sealed metadata objects of a tree (inode pages, page tables, split
 * directories' buckets and bucket tables) from the cache, for load.c, resident.c and dirsplit.c.
 * Must never open an object with a lock held while it may fetch (fetch: true). */
#ifndef COFFER_FS_METAOBJ_H
#define COFFER_FS_METAOBJ_H
#include <stdbool.h>
#include <stddef.h>
#include "fs/fs.h"
#include "lib/buf.h"

/* Opens metadata object n of kind w->kind (sealed under the meta key with the AAD of its kind)
 * into plain; *size (if not NULL) gets the object's bytes. fetch: a missing object is fetched
 * first and a cached copy that fails to open is replaced by the vault's once (no lock may be
 * held); !fetch: the cache only (-ENOENT when it is not there, -EBADMSG when it does not open).
 * An object that opened is kept in the cache from then on (store_obj_keep): the tree is read
 * back from it on demand. */
int metaobj_open(struct fs *fs, const struct oname *n, enum obj_kind kind, bool fetch,
		 struct buf *plain, size_t *size);
/* Frees plaintext of a metadata object, wiped first. */
void metaobj_free(struct buf *plain);

#endif

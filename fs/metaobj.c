/* metaobj: reading the sealed metadata objects of a tree from the cache (see metaobj.h): the
 * AAD of each kind, the fetch of a missing one, the one replacement of a damaged cached copy,
 * and the mark that keeps an object that opened in the cache.
 * Must never fetch when asked not to (the caller may hold the filesystem's locks), and never
 * return plaintext of an object that failed to open. */
#include "fs/metaobj.h"
#include <errno.h>
#include "format/dirbucket.h"
#include "format/meta.h"
#include "format/nametab.h"
#include "format/page.h"

_Static_assert(PAGE_AAD_BYTES == NAMETAB_AAD_BYTES && PAGE_AAD_BYTES == DIRBUCKET_AAD_BYTES,
	       "one AAD size for every metadata object");

static void aad_of(enum obj_kind kind, const struct oname *n, uint8_t aad[PAGE_AAD_BYTES])
{
	if (kind == OBJ_PAGE)
		page_aad(n, aad);
	else if (kind == OBJ_TABLE)
		nametab_aad(n, aad);
	else
		dirbucket_aad(n, aad);
}

static int open_cached(struct fs *fs, const struct oname *n, const uint8_t aad[PAGE_AAD_BYTES],
		       struct buf *plain, size_t *size, bool *kept)
{
	struct buf obj = {0};
	int err = store_obj_read_kept(fs->st, n, &obj, kept);
	if (size)
		*size = obj.len;
	if (!err)
		err = meta_open(fs->keys->meta, aad, PAGE_AAD_BYTES, obj.data, obj.len, plain);
	buf_free(&obj);
	return err;
}

int metaobj_open(struct fs *fs, const struct oname *n, enum obj_kind kind, bool fetch,
		 struct buf *plain, size_t *size)
{
	const struct obj_want w = {.kind = kind};
	uint8_t aad[PAGE_AAD_BYTES];
	aad_of(kind, n, aad);
	bool kept = false;
	int err = fetch ? store_obj_ensure(fs->st, n, &w) : 0;
	if (!err)
		err = open_cached(fs, n, aad, plain, size, &kept);
	if (fetch && err == -EBADMSG && !store_obj_refetch(fs->st, n, &w)) {
		metaobj_free(plain); /* the cache's copy was damaged: the vault's replaced it */
		err = open_cached(fs, n, aad, plain, size, &kept);
	}
	if (err)
		metaobj_free(plain);
	else if (!kept)
		store_obj_keep(fs->st, n);
	return err;
}

void metaobj_free(struct buf *plain)
{
	if (plain->data)
		wipe(plain->data, plain->cap);
	buf_free(plain);
}

/* dirsplit: split directories' buckets and bucket tables to and from objects (commit side and
 * load side); the in-memory split state is fs/dir.c's, the codecs format/dirbucket.c's and
 * format/nametab.c's. Used by commit.c, load.c, mount.c, page.c, ops.c and fsck.c only. */
#ifndef COFFER_FS_DIRSPLIT_H
#define COFFER_FS_DIRSPLIT_H
#include "fs/fs.h"
#include "lib/buf.h"

/* One bucket or table a commit replaces: old is what the durable root reaches, name what the
 * new root will (zero: no object, an empty bucket or a directory gone back inline). */
struct dsplit_item {
	uint64_t ino;
	uint32_t epoch, index;
	uint8_t table;
	struct oname old, name;
	struct buf plain;
};

struct dsplit_commit {
	struct dsplit_item *v;
	size_t n, cap;
};

/* Capture (freeze exclusive, mu held), before the dirty pages are serialized: every split
 * directory of a dirty page encodes its dirty buckets (one pass over its entries), then its
 * dirty tables; an empty split directory goes back inline. */
int dirsplit_capture(struct fs *fs, struct dsplit_commit *dc);
/* Seals and writes the captured objects (no lock held); durable with the pages' fsync. */
int dirsplit_write(struct fs *fs, struct dsplit_commit *dc);
/* Adds the new names to added and the replaced ones to freed (counting them in *nolds). */
int dirsplit_lists(const struct dsplit_commit *dc, struct namelist *added, struct namelist *freed,
		   size_t *nolds);
/* After the commit point (mu held): the new names replace the old ones, or (err) the objects
 * are dirty again and the new ones deleted; names no directory holds any more are freed. */
void dirsplit_finish(struct fs *fs, struct dsplit_commit *dc, int err);
/* A split directory leaving the tree: the objects it held are freed at the next commit. */
void dirsplit_release(struct fs *fs, struct dir *d);

/* Load of inode page p (just read): checks the tables and buckets of each of its split
 * directories and fills its entries, fetching missing ones when fetch (no lock may be held
 * then; otherwise from the cache only); a directory whose objects fail stays empty and bad
 * (EIO), logged with its path as far as it is known. */
void dirsplit_load_page(struct fs *fs, size_t p, bool fetch);
/* fn for every object the split directory i names (none when it is not one); *bad (if not NULL)
 * set when its objects failed to load. 0 or fn's first error. */
int dirsplit_objects(const struct inode *i, int (*fn)(const struct oname *n, void *arg), void *arg,
		     bool *bad);
/* The table names a split directory's record holds as of the commit being captured. */
struct oname dirsplit_table_name(const struct dsplit *s, uint32_t t);

#endif

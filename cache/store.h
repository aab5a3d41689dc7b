/* store: the objects of the local cache folder: immutable objects named by 16 random bytes,
 * behind an opaque handle (the folder's descriptors never leave cache/). Knows file names and
 * fsync, nothing about contents. The other files of the folder have their own cache/ files.
 * Only store_obj_ensure fetches (through the sync's hook); every other call is local.
 * Must never write an object in place where a crash could leave it half-written. */
#ifndef COFFER_STORE_H
#define COFFER_STORE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include "format/format.h"
#include "lib/buf.h"

struct store;

/* A fresh random, non-zero object name (the pure helpers are in format/format.h). */
void oname_new(struct oname *n);

/* Opens (creating it and its objects/ folder when missing) the cache folder at path; -EPERM
 * when the folder is not safe (see store_check_owner). */
int store_open(struct store **out, const char *path);
/* Opens a cache folder that must exist, creating nothing: for commands that only look at a
 * cache (status, umount, the config copy); -ENOENT when it is not there. */
int store_open_existing(struct store **out, const char *path);
/* 0 when the folder is owned by the effective user and neither group- nor world-writable (so no
 * one else can plant or swap its files); -EPERM otherwise. */
int store_check_owner(const struct store *s);
/* Closes the folder (and the mount lock, when held) and frees s; NULL is fine. */
void store_close(struct store *s);
/* What the caller knows an object must be, so that the fetch hook can authenticate the bytes
 * before it installs them: a chunk of exactly nblocks sealed blocks, an inode page, a name
 * table, a split directory's bucket, or a pack (at most PACK_MAX_BYTES) in which blocks
 * [first, first + nblocks) open as the blocks of chunk. */
enum obj_kind { OBJ_CHUNK, OBJ_PAGE, OBJ_TABLE, OBJ_BUCKET, OBJ_PACK };
struct obj_want {
	enum obj_kind kind;
	uint32_t nblocks;   /* OBJ_CHUNK, OBJ_PACK */
	uint32_t first;	    /* OBJ_PACK */
	struct oname chunk; /* OBJ_PACK: the name the blocks are sealed under */
};
/* The hook that brings an object into the cache from the remote (set by the sync); NULL: none.
 * It installs only bytes that open as w says (else -EBADMSG). replace: the cached copy failed
 * to open; the hook moves it aside (store_obj_quarantine) and fetches the vault's, or refuses
 * (-EBADMSG) when the cache's copy may be the only one. Only store_obj_ensure and
 * store_obj_refetch call it. */
typedef int (*store_fetch_fn)(void *arg, const struct oname *n, const struct obj_want *w,
			      bool replace);
void store_set_fetch(struct store *s, store_fetch_fn fetch, void *arg);

/* Watchers told, after the fact, of every object this process takes out of objects/ (unlink,
 * quarantine) or replaces (install over it): a cache of open descriptors (fs/fdcache.c) must
 * not keep a removed object's disk space. Up to STORE_WATCHERS at a time (a mount's tree and
 * a merge's three): -ENOSPC past that. store_unwatch_gone(s, arg) removes arg's, waiting for a
 * call in flight. A watcher must not call the store. */
#define STORE_WATCHERS 8
typedef void (*store_gone_fn)(void *arg, const struct oname *n);
int store_watch_gone(struct store *s, store_gone_fn fn, void *arg);
void store_unwatch_gone(struct store *s, void *arg);

/* Opens / reads an object file of the cache; never fetches: -ENOENT when it is not there. */
int store_obj_open(struct store *s, const struct oname *n, int flags);
int store_obj_read(struct store *s, const struct oname *n, struct buf *out);
/* store_obj_read, and whether the object has store_obj_keep's mark, with one open. */
int store_obj_read_kept(struct store *s, const struct oname *n, struct buf *out, bool *kept);
/* Makes sure the object is in the cache, fetching it from the remote when it is missing (may
 * wait on the network for minutes: never call it with a filesystem lock held). 0 when it is
 * there; -ENOENT when neither the cache nor the remote has it. */
int store_obj_ensure(struct store *s, const struct oname *n, const struct obj_want *w);
/* The cached copy of n failed to open: has the hook replace it with the vault's (same waits as
 * store_obj_ensure). -EBADMSG when it cannot; -ENOENT without a hook. */
int store_obj_refetch(struct store *s, const struct oname *n, const struct obj_want *w);
/* Moves the cache's copy of n aside (objects/<hex>.bad, which nothing reads), for the hook. */
int store_obj_quarantine(struct store *s, const struct oname *n);
/* Whether the cache holds the object (no fetch). */
bool store_obj_cached(struct store *s, const struct oname *n);
/* Puts a fetched object in place atomically (temporary name, fsync, rename). */
int store_obj_install(struct store *s, const struct oname *n, const void *p, size_t len);
/* Creates a new object with the given bytes and fsyncs it. */
int store_obj_write(struct store *s, const struct oname *n, const void *p, size_t len);
/* The same with the file mode `mode` (STORE_KEEP_MODE: kept, see store_obj_keep). */
int store_obj_write_mode(struct store *s, const struct oname *n, const void *p, size_t len,
			 mode_t mode);
/* Marks an object as one the cache must keep (a tree's metadata, read back on demand): its
 * file's mode becomes STORE_KEEP_MODE, which eviction (cache/evict.c) never removes. 0 or a
 * negative errno (nothing else changes). */
#define STORE_KEEP_MODE 0400
int store_obj_keep(struct store *s, const struct oname *n);
/* Whether a cached object's file mode is the mark of store_obj_keep. */
bool store_mode_kept(mode_t mode);
int store_obj_unlink(struct store *s, const struct oname *n);
int store_obj_sync(struct store *s, const struct oname *n);
int store_sync_objects(struct store *s);
/* Flushes the whole filesystem that holds the cache (syncfs). */
int store_sync_all(struct store *s);
/* The free space of the filesystem that holds the cache. */
int store_statvfs(struct store *s, struct statvfs *sv);
/* Removes the temporary files a crash left in objects/ and in the folder itself (only the
 * mount, holding the lock, calls it: no other writer is then at work). */
int store_clean_temp(struct store *s);
/* Calls fn(name) for every object file; stops on the first negative return. */
int store_each(struct store *s, int (*fn)(const struct oname *n, void *arg), void *arg);

#endif

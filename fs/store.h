/* store: the local cache folder: immutable objects named by 16 random bytes, the current root,
 * the vault config copy and the mount lock. Knows file names and fsync, nothing about contents.
 * Only store_obj_ensure fetches (through the sync's hook); every other call is local.
 * Must never write an object or root in place where a crash could leave it half-written. */
#ifndef COFFER_STORE_H
#define COFFER_STORE_H
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include "lib/buf.h"

#define NAME_BYTES 16

struct oname;

struct store {
	int dirfd; /* the cache folder */
	int objfd; /* its objects/ folder */
	int lockfd;
	/* Brings a missing object into objects/ from the remote (set by the sync); NULL: none.
	 * Called only by store_obj_ensure. */
	int (*fetch)(void *arg, const struct oname *n);
	void *fetch_arg;
	pthread_mutex_t freed_mu; /* guards freed.log between commits and the sync */
};

struct oname {
	uint8_t b[NAME_BYTES];
};

void oname_new(struct oname *n);
int oname_is_zero(const struct oname *n);
void oname_hex(const struct oname *n, char out[2 * NAME_BYTES + 1]);
int oname_parse(struct oname *n, const char *hex);

int store_open(struct store *s, const char *path);
void store_close(struct store *s);
/* Takes the exclusive mount lock; -EBUSY when another live process holds it. */
int store_lock(struct store *s);

/* Opens / reads an object file of the cache; never fetches: -ENOENT when it is not there. */
int store_obj_open(struct store *s, const struct oname *n, int flags);
int store_obj_read(struct store *s, const struct oname *n, struct buf *out);
/* Makes sure the object is in the cache, fetching it from the remote when it is missing (may
 * wait on the network for minutes: never call it with a filesystem lock held). 0 when it is
 * there; -ENOENT when neither the cache nor the remote has it. */
int store_obj_ensure(struct store *s, const struct oname *n);
/* Puts a fetched object in place atomically (temporary name, fsync, rename). */
int store_obj_install(struct store *s, const struct oname *n, const void *p, size_t len);
/* Creates a new object with the given bytes and fsyncs it. */
int store_obj_write(struct store *s, const struct oname *n, const void *p, size_t len);
int store_obj_unlink(struct store *s, const struct oname *n);
int store_obj_sync(struct store *s, const struct oname *n);
int store_sync_objects(struct store *s);
/* Flushes the whole filesystem that holds the cache (syncfs). */
int store_sync_all(struct store *s);
/* Removes temporary files left in objects/ by a crash. */
int store_clean_temp(struct store *s);
/* Calls fn(name) for every object file; stops on the first negative return. */
int store_each(struct store *s, int (*fn)(const struct oname *n, void *arg), void *arg);

/* The reserve: STORE_RESERVE bytes held in the file "reserve" so that a cache whose disk is full
 * can still commit the deletions that free it. fill (re)creates it when missing, best effort;
 * release gives it up: 0 when it was there, -ENOENT when not. */
#define STORE_RESERVE ((size_t)8 << 20)
int store_reserve_fill(struct store *s);
int store_reserve_release(struct store *s);

/* Reads / atomically replaces (tmp, fsync, rename, fsync dir) a small file in the cache folder. */
int store_file_read(struct store *s, const char *name, struct buf *out);
int store_file_replace(struct store *s, const char *name, const void *p, size_t len);

/* freed.log: per commit, the objects its root stopped naming, for deletion on the remote once no
 * retained root names them. Records: u64 generation, u32 count, count 16-byte names. */
int store_freed_append(struct store *s, uint64_t gen, const struct oname *names, size_t n);
/* Drops records past max_gen (commits that never reached their commit point). */
int store_freed_trim(struct store *s, uint64_t max_gen);
/* Calls fn for each name in records with generation <= upto. */
int store_freed_each(struct store *s, uint64_t upto, int (*fn)(const struct oname *n, void *arg),
		     void *arg);
/* Removes the records with generation <= upto. */
int store_freed_drop(struct store *s, uint64_t upto);

/* Whole-file helpers for any folder (the vault folder too). */
int file_read_at(int dirfd, const char *name, struct buf *out, size_t max);
int file_replace_at(int dirfd, const char *name, const void *p, size_t len, int excl);

#endif

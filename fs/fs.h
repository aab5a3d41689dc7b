/* fs: the filesystem core's shared types: inodes, directories, chunk references, and the
 * mounted filesystem state. Used by the files of fs/ only; the CLI sees fs/core.h.
 * Locking order: freeze (rwlock) -> an inode's io stripe (rwlock, inode_io) -> mu (mutex). Data
 * ops hold freeze shared, a commit's capture holds it exclusively; all metadata is guarded by mu.
 * A thread holds at most one io stripe (an op that ever needs two must take them in increasing
 * stripe order, and a shared stripe once). Nothing waits on the network while holding any of
 * them: objects are fetched (store_obj_ensure) before locking. */
#ifndef COFFER_FS_H
#define COFFER_FS_H
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include "crypto/crypto.h"
#include "cache/store.h"
#include "format/format.h"
#include "lib/htab.h"
#include "lib/idxtab.h"
#include "fs/core.h"

enum chunk_state { CH_HOLE = 0, CH_STAGING = 1, CH_SEALED = 2 };

struct chunk {
	uint32_t index; /* the chunk's position in its file (bytes from index * CHUNK_SIZE) */
	struct oname name;
	uint32_t nblocks;
	uint8_t state; /* enum chunk_state; STAGING may still change, SEALED never does */
	/* A packed chunk (fs/pack.c): its blocks are blocks [first, first + nblocks) of the pack
	 * object of this name, sealed under the chunk's name; zero: an object of its own. */
	struct oname pack;
	uint32_t first;
};

struct dent {
	char *name; /* NULL marks a removed entry (a hole in the readdir order) */
	uint64_t ino;
	uint16_t len;
	uint8_t type;  /* DT_* */
	uint32_t hash; /* the low bits of dirbucket_hash(name) while the directory is split */
};

/* One object of a split directory (a bucket or a bucket table): the name the durable root
 * reaches it by, and while a commit is writing it (inflight) the name it will have after. */
struct dobj {
	struct oname name, next;
	uint8_t dirty, inflight;
};

/* A split directory (fs/dirsplit.c): its entries are in n buckets by linear hashing
 * (format/dirbucket.h) listed by ceil(n / NAMETAB_MAX) tables. Never shrinks while the
 * directory has entries; an empty one goes back inline at the next commit. */
struct dsplit {
	struct dobj *b, *t; /* n buckets, ceil(n / NAMETAB_MAX) tables */
	uint32_t n, cap;
	uint32_t ndirty;   /* dirty buckets and tables */
	uint32_t epoch;	   /* which split of this directory (a commit's capture remembers it) */
	uint64_t nentries; /* a bad directory's entry count, from its record */
	bool bad;	   /* its tables or buckets failed to load: EIO, record kept as it is */
};

struct dir {
	struct dent *v;
	size_t n, cap, live;
	struct idxtab idx;    /* name -> index in v (lib/idxtab.h: 8 bytes a slot) */
	uint64_t bytes;	      /* the live entries' encoded size (DIR_DENT_BYTES each) */
	struct dsplit *split; /* NULL: the entries are kept inline in the inode's record */
	uint32_t splits;      /* how many times it split (the epochs) */
	uint32_t opens;	      /* open for listing (fs_opendir): its page stays in memory */
};

struct xattr {
	char *name;
	unsigned char *val;
	size_t len;
};

/* 152 bytes (a 160-byte malloc chunk): fields are ordered so that none pads, and the data lock
 * is a stripe of fs->io rather than one rwlock (56 bytes) per inode. */
struct inode {
	uint64_t ino, parent; /* parent: one directory that links it, for log messages */
	uint64_t size, rdev;
	uint64_t nlookup;
	uint32_t mode, uid, gid, nlink;
	struct timespec atime, mtime, ctime;
	struct xattr *xa;
	char *target;	  /* symlinks */
	struct chunk *ch; /* regular files: the chunks that hold data, in increasing index; holes
			   * have none, so that memory follows the data and not the size */
	struct dir *dir;  /* directories */
	uint32_t nxa;
	uint32_t nch, chcap;
	int werr; /* a write that failed (atomic): the next fsync or flush reports it */
};

/* An inode page. resident: its inodes are in memory (resident.c); false only for a page with
 * an object whose inodes are not (never loaded, or dropped), or a bad one. live, bytes: its
 * live inodes and the sum of their file sizes, as of its load or the last capture (the root's
 * counts are their sums). used: when one of its inodes was last asked for (fs->tick). */
struct page {
	struct oname name; /* zero: no object yet */
	bool dirty, bad, resident;
	uint32_t live;
	uint64_t bytes, used;
};

/* A name table of the root's page list (format/nametab.h): table t names pages
 * t * NAMETAB_MAX on. dirty: one of its pages changed since the last commit (or the root that
 * was loaded listed its pages inline); bad: it could not be read at load, so its pages are
 * unknown (and marked bad): it is never rewritten. */
struct ptable {
	struct oname name; /* zero: all of its pages are zero, no object */
	bool dirty, bad;
};

struct namelist {
	struct oname *v;
	size_t n, cap;
};

/* The sealed objects a request opens, each with what it must be (for the fetch hook). */
struct needlist {
	struct oname *v;
	struct obj_want *want;
	size_t n, cap;
};

/* The most damaged cached objects remembered between a request and its retry. */
#define DAMAGED_MAX 64

struct workers;
struct committer;
struct packs;
struct fdcache;
struct inode_table;

/* Data reads of an inode hold its stripe shared, writes and truncates exclusive (inode_io). */
#define IO_STRIPES 256

struct fs {
	struct store *st;
	struct workers *workers;     /* lent by the caller for large reads and writes; NULL: none */
	struct fdcache *fdc;	     /* chunk.c: open chunk objects (NULL: open per request) */
	struct committer *committer; /* mount.c: the periodic commit thread; NULL when none runs */
	struct keyring *keys;
	uint8_t vault_id[16];
	bool readonly;
	pthread_rwlock_t freeze;
	pthread_mutex_t mu;
	pthread_mutex_t commit_mu;
	pthread_rwlock_t io[IO_STRIPES]; /* inode data locks, by inode number (inode_io) */
	struct inode_table *inodes;	 /* inode.c: ino -> struct inode */
	struct page *pages;
	size_t npages;
	struct ptable
		*tables; /* ptable.c: root_tables_for(npages) of them as of the last capture */
	size_t ntables;
	uint64_t gen, next_ino;
	uint64_t live_inodes, live_bytes; /* as of the last capture */
	int64_t root_time;
	bool dirty;
	void (*on_commit)(void *arg, const struct fs_commit_info *info);
	void *on_commit_arg;
	void (*on_load)(void *arg, const struct fs_load_progress *p); /* fs_set_load_progress */
	void *on_load_arg;
	struct namelist pending_free; /* sealed objects replaced since the last capture */
	struct namelist unsynced;     /* sealed chunks whose commit failed: fsync them next time */
	struct namelist damaged; /* cached objects that failed to open, for a request to heal */
	struct namelist reached; /* mount.c: what the mount's load found the tree names, sorted,
				  * until fs_each_object takes it (valid at reached_gen) */
	uint64_t reached_gen;
	struct packs *packs; /* pack.c: every pack's live blocks (NULL: no pack yet) */
	/* resident.c: pages kept in memory at most (0: no limit, every page stays once loaded),
	 * resident pages that have an object, the clock of page use, and what the kernel holds of
	 * inodes whose page was dropped */
	size_t page_budget, nresident, ndirty; /* ndirty: dirty pages (inode_touch_page) */
	uint64_t tick;
	struct held *held;
};

/* lib-like helpers local to fs */
int namelist_add(struct namelist *l, const struct oname *n);
void namelist_free(struct namelist *l);
int needlist_add(struct needlist *l, const struct oname *n, const struct obj_want *w);
void needlist_free(struct needlist *l);

/* dir.c */
struct dir *dir_new(void);
void dir_free(struct dir *d);
struct dent *dir_find(struct dir *d, const char *name, size_t len);
/* dir_add and dir_remove mark the entry's bucket dirty when split (the caller marks the page),
 * and dir_add splits a directory (or one more bucket) whose entries outgrow it. */
int dir_add(struct dir *d, const char *name, size_t len, uint64_t ino, uint8_t type);
void dir_remove(struct dir *d, const char *name, size_t len);
/* An entry changed in place (rename exchange): its bucket is rewritten at the next commit. */
void dir_touch(struct dir *d, const struct dent *e);
/* Adds an entry while loading: no bucket is marked, nothing splits; hash as for struct dent. */
int dir_load_add(struct dir *d, const char *name, size_t len, uint64_t ino, uint8_t type,
		 uint32_t hash);
/* Makes d split into n buckets (1..DIR_BUCKETS_MAX) with no names known (loading). */
int dir_split_init(struct dir *d, uint32_t n);
/* Forgets d's split state (the entries stay, to be kept inline). */
void dir_split_drop(struct dir *d);
/* Drops every entry (a split directory that failed to load). */
void dir_clear(struct dir *d);
/* A split directory whose objects failed to load: every operation on it is EIO. */
bool dir_bad(const struct dir *d);
uint32_t dir_bucket(const struct dir *d, const struct dent *e);
/* The next live entry at index >= *pos; advances *pos past it; NULL at the end. */
struct dent *dir_next(struct dir *d, size_t *pos);

/* inode.c */
struct inode *inode_new(uint64_t ino, uint32_t mode);
void inode_free(struct inode *i);
/* The inode table: inodes by number, in blocks of PAGE_INODES pointers (one per inode page that
 * has a live inode), so that an inode costs 8 bytes there. NULL when out of memory. */
struct inode_table *inode_table_new(void);
/* Frees every inode of an inode table, and the table. */
void inode_table_free(struct inode_table *t);
/* The inode if it is in memory (never loads its page: see resident.c's inode_get). */
struct inode *inode_peek(const struct fs *fs, uint64_t ino);
/* 0, -EEXIST (that number is taken) or -ENOMEM. */
int inode_insert(struct fs *fs, struct inode *i);
/* Takes ino out of the table (not freed) and returns it; NULL when absent. */
struct inode *inode_remove(struct fs *fs, uint64_t ino);
/* The inodes in memory (of the resident pages). */
size_t inode_count(const struct fs *fs);
/* Calls fn for every inode in memory, in increasing number; fn must not insert or remove any
 * (inode_scan visits the pages that are not in memory too). */
void inode_each(const struct inode_table *t, void (*fn)(void *inode, void *arg), void *arg);
/* The data lock of ino: one of IO_STRIPES rwlocks (ino modulo IO_STRIPES). */
pthread_rwlock_t *inode_io(struct fs *fs, uint64_t ino);
void inode_io_init(struct fs *fs);
void inode_io_destroy(struct fs *fs);
void inode_touch_page(struct fs *fs, uint64_t ino);
int inode_xattr_set(struct inode *i, const char *name, const void *val, size_t len);
struct xattr *inode_xattr_find(struct inode *i, const char *name);
int inode_xattr_remove(struct inode *i, const char *name);
/* Releases the objects of the inode's chunks of index from on (staging ones at once, sealed ones
 * after the next commit) and forgets those chunks. */
void inode_drop_chunks(struct fs *fs, struct inode *i, size_t from);
void fs_release_object(struct fs *fs, struct chunk *c);
size_t inode_path(struct fs *fs, uint64_t ino, char *out, size_t cap);
/* Directory d's children in memory that know no parent get d (for inode_path). */
void inode_adopt_children(struct fs *fs, const struct inode *d);
void fs_log_integrity(struct fs *fs, uint64_t ino, const char *what);
void fs_log_integrity_locked(struct fs *fs, uint64_t ino, const char *what);

/* resident.c: which inode pages are in memory (see resident.c) */
/* ino's inode, its page read from the cache first when it is not in memory (never fetched:
 * the mount made every page cached and kept); NULL when there is none or its page is bad.
 * Called with mu held (or on a tree no one else uses). */
struct inode *inode_get(struct fs *fs, uint64_t ino);
/* Makes page p resident (before a new inode lands on it): 0, or -EIO when it is bad. */
int page_need(struct fs *fs, size_t p);
/* Reads page p (and its split directories) into memory: from the cache, fetching what is
 * missing when fetch (no lock may be held then); a page that fails is bad and logged. *size
 * (if not NULL) gets its object's bytes. */
int page_load(struct fs *fs, size_t p, bool fetch, size_t *size);
/* When more than page_budget pages are resident, drops the least recently used clean ones down
 * to an eighth below it (so that it runs once per budget/8 pages read); called
 * with freeze held exclusively and mu held (no pointer into the table is held anywhere). */
void pages_trim(struct fs *fs);
/* Calls fn for every inode of every page, a page that is not resident read for the call and
 * dropped after it (kept when fn made it dirty); fn must not call inode_get. Called with mu
 * held (or on a tree no one else uses); 0 or the first error of a page's load. */
int inode_scan(struct fs *fs, void (*fn)(void *inode, void *arg), void *arg);
/* The kernel forgot n lookups of ino whose page is not in memory: true when that was so. */
bool held_forget(struct fs *fs, uint64_t ino, uint64_t n);
/* Page p's live inode count and bytes, from its inodes in memory (resident). */
void page_count(struct fs *fs, size_t p);
/* Whether more pages than the budget allows (plus a quarter) are resident; mu held. */
bool pages_over_budget(const struct fs *fs);
/* Takes the locks pages_trim needs (commit_mu only if no commit is running: otherwise that
 * commit trims) and trims; called with no lock held. */
void fs_trim(struct fs *fs);
void held_free(struct fs *fs);

/* page.c: in-memory inodes and fs fields to and from the page and root codecs of format/ */
struct buf;
/* Encodes the live inodes (nlink > 0) of one page; called with mu held. */
void page_serialize(struct fs *fs, size_t page, struct buf *out);
/* Loads one page payload into the inode table, all or nothing; called with mu held. */
int page_deserialize(struct fs *fs, size_t page, const unsigned char *p, size_t len);

/* ptable.c: the root's page list as name tables (format/nametab.h), in memory */
struct root_plain;
/* Gives fs a table for every page (new ones dirty, with no object) and marks the table of every
 * dirty page dirty; called by the commit's capture with mu held. -ENOMEM, or -EIO when a dirty
 * page belongs to a table that could not be read (never commit a tree that would lose it). */
int ptables_capture(struct fs *fs);
/* Encodes table t's slice of names (the page names as they will be after the commit); returns
 * how many of them are not zero (0: the table needs no object). */
size_t ptable_encode(struct fs *fs, size_t t, const struct oname *names, struct buf *out);
/* Encodes the root with table names tables[0..fs->ntables) and fs's header fields. */
void ptables_root_encode(struct fs *fs, const struct oname *tables, struct buf *out);
/* Decodes a root payload into r and fs's header fields and tables (a version 1 or 2 root: all
 * tables dirty, with no object, so that the next commit writes version 3): 0, -EINVAL, -ENOMEM.
 * The pages come from ptables_set_pages once the tables are read into r. */
int ptables_root_decode(struct fs *fs, const unsigned char *p, size_t len, struct root_plain *r);
/* fs->pages from r's page names; the pages of a bad table are bad, up to the table's end (no
 * new inode may land there: the table cannot be rewritten). 0 or -ENOMEM. */
int ptables_set_pages(struct fs *fs, const struct root_plain *r);

/* chunk.c: file data; callers hold freeze (shared) and inode->io. These never fetch: a sealed
 * object that is not in the cache makes them return -EAGAIN (nothing logged), and the caller
 * drops its locks, fetches what chunk_needs lists and tries again. */
ssize_t chunk_read(struct fs *fs, struct inode *i, char *buf, size_t size, uint64_t off);
ssize_t chunk_write(struct fs *fs, struct inode *i, const char *buf, size_t size, uint64_t off);
int chunk_truncate(struct fs *fs, struct inode *i, uint64_t size);
enum chunk_op { CHUNK_READ, CHUNK_WRITE, CHUNK_TRUNCATE };
/* Adds to out the sealed objects that op on [off, off + size) opens (CHUNK_TRUNCATE: to the
 * size off); called with mu held, so that the caller can fetch them with no lock held. */
int chunk_needs(struct inode *i, enum chunk_op op, uint64_t off, size_t size, struct needlist *out);
/* Logs an integrity error naming ino's path and the object when err says it is missing
 * (-ENOENT) or damaged (-EBADMSG), and returns -EIO then; other errors are returned as they are.
 * Takes mu. */
int chunk_integrity_error(struct fs *fs, uint64_t ino, const struct oname *n, int err);
/* A cached copy of n failed to open under the locks: remembered (fs->damaged, at most
 * DAMAGED_MAX) for the request to have it replaced by the vault's and retry once. Takes mu. */
void chunk_note_damaged(struct fs *fs, const struct oname *n);
/* Opens every block of a sealed chunk, fetching it first when it is missing (fsck). */
int chunk_verify(struct fs *fs, const struct chunk *c);

/* commit.c */
int fs_commit(struct fs *fs);
/* mount.c: wakes the periodic committer (if one runs) to commit now; called with mu held: a
 * change that left more dirty pages than the budget does not wait for the interval, so that
 * memory stays bounded however long it is. */
void fs_commit_soon(struct fs *fs);
/* Seals plain under the meta key with aadfn(n) and writes it as object n (not yet durable). */
int commit_write_meta(struct fs *fs, const struct oname *n,
		      void (*aadfn)(const struct oname *n, uint8_t aad[PAGE_AAD_BYTES]),
		      const struct buf *plain);

/* load.c: reads the cache's root and the pages it names into fs, fetching missing pages; called
 * with no lock held, on a tree that nobody else uses yet. */
typedef void (*fs_page_fn)(struct fs *fs, size_t p, void *arg);
/* each (if not NULL) hears of every page the load read, right after it was read (before the
 * budget may drop it). */
int fs_load(struct fs *fs, uid_t uid, gid_t gid, fs_page_fn each, void *arg);

#endif

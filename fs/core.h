/* core: the filesystem operations, independent of FUSE: every function takes inode numbers and
 * plain arguments and returns 0 or a negative errno. The FUSE front end and the CLI use only this.
 * Nothing here may wait on the network while it holds a lock (a read fetches what it needs
 * first, with none held), nor hand out a pointer into the inode table. */
#ifndef COFFER_CORE_H
#define COFFER_CORE_H
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>

struct fs;
struct workers;
struct store;
struct keyring;
struct oname;

struct fs_ctx {
	uid_t uid;
	gid_t gid;
	mode_t umask; /* applied unless the directory has a default ACL */
};

enum {
	FS_SET_MODE = 1 << 0,
	FS_SET_UID = 1 << 1,
	FS_SET_GID = 1 << 2,
	FS_SET_SIZE = 1 << 3,
	FS_SET_ATIME = 1 << 4,
	FS_SET_MTIME = 1 << 5,
	FS_SET_ATIME_NOW = 1 << 7,
	FS_SET_MTIME_NOW = 1 << 8,
	FS_SET_CTIME = 1 << 10,
};

/* What a successful commit hands to the sync: the sealed root and the objects it added and freed
 * (16-byte names). Called after the commit point, before freed objects are deleted locally. */
struct fs_commit_info {
	uint64_t gen;
	const void *root;
	size_t root_len;
	const struct oname *added, *freed;
	size_t nadded, nfreed;
};
void fs_set_commit_hook(struct fs *fs, void (*fn)(void *arg, const struct fs_commit_info *info),
			void *arg);
/* Calls fn for every object the loaded tree names (inode pages, page tables and chunks). */
int fs_each_object(struct fs *fs, int (*fn)(const struct oname *n, void *arg), void *arg);

struct root_info {
	uint64_t gen;
	int64_t time_ns;
	uint64_t inodes, bytes; /* live inodes, sum of file sizes */
};
/* Opens a sealed root (from the cache or a remote) and reads its header. */
int root_peek(const struct keyring *keys, const uint8_t vault_id[16], const void *sealed,
	      size_t len, struct root_info *out);

int fs_open(struct fs **out, struct store *st, struct keyring *keys, const uint8_t vault_id[16],
	    bool readonly);
/* Lends fs a helper pool (lib/workers.h) for large reads and writes; NULL (the default): none.
 * The pool must outlive every request; fs_close does not free it. */
void fs_set_workers(struct fs *fs, struct workers *w);
/* How far the mount's load of the tree (fs_mount_load) has come: inode pages read of all the root
 * names, how many of them (and their bytes) had to be fetched from the vault; done on the last. */
struct fs_load_progress {
	size_t pages_done, pages_total, fetched;
	uint64_t fetched_bytes;
	bool done;
};
/* fn hears of every page fs_mount_load reads (from the calling thread); NULL: none (default). */
void fs_set_load_progress(struct fs *fs, void (*fn)(void *arg, const struct fs_load_progress *p),
			  void *arg);
/* At most `pages` inode pages (PAGE_INODES inodes each) stay in memory: the least recently
 * used clean ones are dropped and read back from the cache when asked for. 0 (the default): no
 * limit. Set before fs_mount_load. */
void fs_set_page_budget(struct fs *fs, size_t pages);
/* Loads the root (or makes an empty tree owned by uid/gid), then removes unreachable objects. */
int fs_mount_load(struct fs *fs, uid_t uid, gid_t gid);
void fs_close(struct fs *fs);
/* Read-only mounts: replaces the tree with the cache's (newer) root. Fetches the pages it
 * names before it takes a lock: lookups never wait on the network. */
int fs_reload(struct fs *fs);
int fs_commit(struct fs *fs);
/* For the sync after a publish: replaces the cache's root with root (the same commit re-sealed
 * with its chain section) only while it is still byte for byte expect, under the committer's
 * lock; -ESTALE when a newer commit replaced it meanwhile (which the next publish re-seals). */
int fs_root_reseal(struct fs *fs, const void *expect, size_t elen, const void *root, size_t len);
uint64_t fs_generation(struct fs *fs);
/* Starts this fs's own thread that commits every `seconds`; stopped by fs_stop_committer or at
 * the latest by fs_close. */
int fs_start_committer(struct fs *fs, unsigned seconds);
void fs_stop_committer(struct fs *fs);
/* Checks every record, link count and object (fetching missing ones); prints problems; returns
 * how many. For an fs no one else uses (coffer fsck): it holds mu throughout. */
long fs_check(struct fs *fs, FILE *out, uint64_t *files, uint64_t *objects);

int fs_lookup(struct fs *fs, uint64_t parent, const char *name, struct stat *st);
void fs_forget(struct fs *fs, uint64_t ino, uint64_t n);
int fs_getattr(struct fs *fs, uint64_t ino, struct stat *st);
/* A change of owner (FS_SET_UID/GID without FS_SET_MODE) of a non-directory also clears its
 * setuid bit, and its setgid bit when the group may execute (Linux's rule). */
int fs_setattr(struct fs *fs, uint64_t ino, const struct stat *attr, int valid, struct stat *out);
/* Clears a regular file's setuid bit, and its setgid bit when the group may execute: what a write
 * or truncation by someone without CAP_FSETID does (the kernel leaves it to us under
 * FUSE_HANDLE_KILLPRIV_V2). 1 when the mode changed, 0 when not, -EIO for no such inode. */
int fs_kill_suidgid(struct fs *fs, uint64_t ino);
int fs_readlink(struct fs *fs, uint64_t ino, char *buf, size_t cap);
/* Makes a node of any type; target is the symlink target for S_IFLNK. */
int fs_mknod(struct fs *fs, const struct fs_ctx *ctx, uint64_t parent, const char *name,
	     mode_t mode, dev_t rdev, const char *target, struct stat *st);
int fs_link(struct fs *fs, uint64_t ino, uint64_t parent, const char *name, struct stat *st);
int fs_unlink(struct fs *fs, uint64_t parent, const char *name, bool isdir);
int fs_rename(struct fs *fs, uint64_t parent, const char *name, uint64_t newparent,
	      const char *newname, unsigned flags);
ssize_t fs_read(struct fs *fs, uint64_t ino, char *buf, size_t size, uint64_t off);
ssize_t fs_write(struct fs *fs, uint64_t ino, const char *buf, size_t size, uint64_t off);
/* The error of a write to ino that failed or stopped short since the last call (0 if none; the
 * error that stopped it, not -EIO, for a short one), and forgets it. The FUSE front end takes
 * it right after such a write, for the reply (see fuse_ops.c's op_write). */
int fs_take_write_error(struct fs *fs, uint64_t ino);
/* A directory open for listing keeps its inode page in memory until fs_releasedir. */
int fs_opendir(struct fs *fs, uint64_t ino);
void fs_releasedir(struct fs *fs, uint64_t ino);

/* Called per entry from fs_readdir; st is set (and a lookup counted) only for plus. Returns
 * nonzero when the reply buffer is full: the entry is then not consumed. */
typedef int (*fs_filldir)(void *arg, const char *name, const struct stat *st, uint64_t next);
int fs_readdir(struct fs *fs, uint64_t ino, uint64_t off, bool plus, fs_filldir fill, void *arg);

int fs_setxattr(struct fs *fs, uint64_t ino, const char *name, const void *val, size_t len,
		int flags);
/* Returns the value length; copies when cap is large enough, -ERANGE when it is not. */
ssize_t fs_getxattr(struct fs *fs, uint64_t ino, const char *name, void *buf, size_t cap);
ssize_t fs_listxattr(struct fs *fs, uint64_t ino, char *buf, size_t cap);
int fs_removexattr(struct fs *fs, uint64_t ino, const char *name);
int fs_statfs(struct fs *fs, struct statvfs *sv);

#endif

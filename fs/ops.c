/* ops: namespace, attribute and data operations on the in-memory tree (see core.h).
 * Permission checks are the kernel's (default_permissions); these functions keep the tree
 * consistent: link counts, parent links, timestamps, the dirty pages a commit must write.
 * Data requests fetch the sealed objects they need before they take a lock (data_request).
 * Must never leave a directory entry naming an inode that is not in the table, and never wait
 * on the network while holding a lock. */
#include "fs/core.h"
#include "fs/fs.h"
#include "fs/acl.h"
#include "fs/dirsplit.h"
#include "fs/fdcache.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <syslog.h>
#include "lib/log.h"

/* Rounds of fetch-then-run a data request may take before it gives up with EIO: an object can
 * leave the cache (eviction) between its fetch and the locked part that uses it. */
#define FETCH_TRIES 4

static struct timespec now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	return t;
}

static void fill_stat(const struct inode *i, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = i->ino;
	st->st_mode = i->mode;
	st->st_nlink = i->nlink;
	st->st_uid = i->uid;
	st->st_gid = i->gid;
	st->st_rdev = i->rdev;
	st->st_size = (off_t)i->size;
	st->st_blksize = 65536;
	uint64_t blocks = 0;
	for (size_t k = 0; k < i->nch; k++)
		blocks += i->ch[k].nblocks;
	st->st_blocks = S_ISDIR(i->mode) ? 8 : (blkcnt_t)(blocks * (DATA_BLOCK / 512));
	if (S_ISDIR(i->mode))
		st->st_size = 4096;
	st->st_atim = i->atime;
	st->st_mtim = i->mtime;
	st->st_ctim = i->ctime;
}

static void changed(struct fs *fs, struct inode *i, bool content)
{
	i->ctime = now();
	if (content)
		i->mtime = i->ctime;
	inode_touch_page(fs, i->ino);
	if (fs->page_budget && fs->ndirty > fs->page_budget)
		fs_commit_soon(fs); /* memory: see fs_commit_soon */
}

static int check_name(const char *name)
{
	size_t len = strlen(name);
	if (len > NAME_MAX_BYTES)
		return -ENAMETOOLONG;
	return len == 0 || strchr(name, '/') ? -EINVAL : 0;
}

/* Finds a directory inode; -ENOTDIR when ino is not one. Called with mu held. */
static int get_dir(struct fs *fs, uint64_t ino, struct inode **out)
{
	struct inode *d = inode_get(fs, ino);
	if (!d)
		return -EIO;
	if (!d->dir)
		return -ENOTDIR;
	if (dir_bad(d->dir))
		return -EIO; /* dirsplit_load logged it with its path */
	*out = d;
	return 0;
}

static int get_child(struct fs *fs, struct inode *d, const char *name, struct inode **out)
{
	struct dent *e = dir_find(d->dir, name, strlen(name));
	if (!e)
		return -ENOENT;
	*out = inode_get(fs, e->ino);
	if (!*out) {
		char what[320];
		snprintf(what, sizeof(what),
			 "the record of its entry '%s' (inode %llu) cannot be read", e->name,
			 (unsigned long long)e->ino);
		fs_log_integrity_locked(fs, d->ino, what);
		return -EIO;
	}
	return 0;
}

static void destroy_if_unused(struct fs *fs, struct inode *i)
{
	if (i->nlink > 0 || i->nlookup > 0 || i->ino == ROOT_INO)
		return;
	inode_remove(fs, i->ino);
	for (size_t k = 0; k < i->nch; k++)
		fs_release_object(fs, &i->ch[k]);
	if (i->dir)
		dirsplit_release(fs, i->dir);
	inode_touch_page(fs, i->ino);
	inode_free(i);
}

int fs_lookup(struct fs *fs, uint64_t parent, const char *name, struct stat *st)
{
	struct inode *d, *i = NULL;
	if (strlen(name) > NAME_MAX_BYTES)
		return -ENAMETOOLONG;
	pthread_mutex_lock(&fs->mu);
	int err = get_dir(fs, parent, &d);
	if (!err)
		err = get_child(fs, d, name, &i);
	if (!err) {
		i->nlookup++;
		if (!i->parent)
			i->parent = d->ino; /* a page read on demand knows no parents */
		fill_stat(i, st);
	}
	bool trim = pages_over_budget(fs);
	pthread_mutex_unlock(&fs->mu);
	if (trim)
		fs_trim(fs);
	return err;
}

void fs_forget(struct fs *fs, uint64_t ino, uint64_t n)
{
	pthread_mutex_lock(&fs->mu);
	struct inode *i = held_forget(fs, ino, n) ? NULL : inode_peek(fs, ino);
	if (i) {
		i->nlookup = n > i->nlookup ? 0 : i->nlookup - n;
		destroy_if_unused(fs, i);
	}
	pthread_mutex_unlock(&fs->mu);
}

int fs_getattr(struct fs *fs, uint64_t ino, struct stat *st)
{
	pthread_mutex_lock(&fs->mu);
	struct inode *i = inode_get(fs, ino);
	if (i)
		fill_stat(i, st);
	bool trim = pages_over_budget(fs);
	pthread_mutex_unlock(&fs->mu);
	if (trim)
		fs_trim(fs);
	return i ? 0 : -EIO;
}

/* A read, write or truncation (to the size off) of a regular file's data. */
struct data_req {
	enum chunk_op op;
	uint64_t off;
	size_t size;
	char *rbuf;	  /* CHUNK_READ */
	const char *wbuf; /* CHUNK_WRITE */
	int *stop;	  /* if set, gets the error that stopped a request part of the way */
};

static struct inode *get_file(struct fs *fs, uint64_t ino)
{
	pthread_mutex_lock(&fs->mu);
	struct inode *i = inode_get(fs, ino);
	pthread_mutex_unlock(&fs->mu);
	return i;
}

static bool listed(const struct namelist *l, const struct oname *n)
{
	for (size_t k = 0; l && k < l->n; k++)
		if (memcmp(l->v[k].b, n->b, NAME_BYTES) == 0)
			return true;
	return false;
}

/* Fetches, with no lock held, the sealed objects rq will open (listed under mu, briefly), each
 * authenticated as a chunk of the size its inode says; those in heal (cached copies that failed
 * to open) are replaced by the vault's. An object that neither the cache nor the vault has, or
 * whose fetched bytes fail, is logged as ino's integrity error. Returns the error rq fails with
 * (no such file), or 0; *fetch_err gets the first fetch failure. */
static int fetch_for(struct fs *fs, uint64_t ino, const struct data_req *rq,
		     const struct namelist *heal, int *fetch_err)
{
	struct needlist need = {0};
	pthread_mutex_lock(&fs->mu);
	struct inode *i = inode_get(fs, ino);
	int err = !i		      ? -EIO
		  : !S_ISREG(i->mode) ? -EISDIR
				      : chunk_needs(i, rq->op, rq->off, rq->size, &need);
	pthread_mutex_unlock(&fs->mu);
	for (size_t k = 0; !err && !*fetch_err && k < need.n; k++) {
		struct obj_want w = need.want[k];
		bool held = fdcache_has(fs->fdc, &need.v[k]); /* its bytes are at hand */
		int e = listed(heal, &need.v[k]) ? store_obj_refetch(fs->st, &need.v[k], &w)
			: held			 ? 0
						 : store_obj_ensure(fs->st, &need.v[k], &w);
		*fetch_err = chunk_integrity_error(fs, ino, &need.v[k], e);
	}
	needlist_free(&need);
	return err;
}

/* Moves the names of the cached objects found damaged into out; whether there were any. */
static bool take_damaged(struct fs *fs, struct namelist *out)
{
	pthread_mutex_lock(&fs->mu);
	namelist_free(out);
	*out = fs->damaged;
	fs->damaged = (struct namelist){0};
	pthread_mutex_unlock(&fs->mu);
	return out->n > 0;
}

/* Runs rq under freeze (shared) and the inode's io lock (shared for reads); nothing is fetched
 * here: a sealed object not in the cache makes it -EAGAIN. */
static ssize_t run_locked(struct fs *fs, uint64_t ino, const struct data_req *rq)
{
	pthread_rwlock_rdlock(&fs->freeze); /* a reload may not free the inode under us */
	struct inode *i = get_file(fs, ino);
	ssize_t r = !i ? -EIO : !S_ISREG(i->mode) ? -EISDIR : 0;
	if (!r) {
		if (rq->op == CHUNK_READ)
			pthread_rwlock_rdlock(inode_io(fs, i->ino));
		else
			pthread_rwlock_wrlock(inode_io(fs, i->ino));
		r = rq->op == CHUNK_READ    ? chunk_read(fs, i, rq->rbuf, rq->size, rq->off)
		    : rq->op == CHUNK_WRITE ? chunk_write(fs, i, rq->wbuf, rq->size, rq->off)
					    : chunk_truncate(fs, i, rq->off);
		if (r > 0 && rq->op == CHUNK_WRITE) {
			pthread_mutex_lock(&fs->mu);
			changed(fs, i, true);
			pthread_mutex_unlock(&fs->mu);
		}
		pthread_rwlock_unlock(inode_io(fs, i->ino));
	}
	pthread_rwlock_unlock(&fs->freeze);
	return r;
}

/* Runs a data request whose sealed objects may have to come from the vault: fetch with no lock
 * held, then run under the locks; an object that left the cache in between is fetched again,
 * FETCH_TRIES rounds at most. A write that stopped short there goes on from where it stopped.
 * A cached copy that failed to open is replaced by the vault's once, so a repaired vault heals
 * the cache without a remount. */
static ssize_t data_request(struct fs *fs, uint64_t ino, struct data_req rq)
{
	size_t done = 0;
	ssize_t r = -EAGAIN;
	struct namelist heal = {0};
	bool healing = false, healed = false;
	for (int t = 0; r == -EAGAIN && t < FETCH_TRIES; t++) {
		int fetch_err = 0;
		r = fetch_for(fs, ino, &rq, healing ? &heal : NULL, &fetch_err);
		healing = false;
		if (!r)
			r = run_locked(fs, ino, &rq);
		if (rq.op == CHUNK_WRITE && r > 0 && (size_t)r < rq.size) {
			done += (size_t)r;
			rq.off += (uint64_t)r;
			rq.wbuf += r;
			rq.size -= (size_t)r;
			r = -EAGAIN;
		}
		if (r == -EIO && !healed && take_damaged(fs, &heal))
			healed = healing = true,
			r = -EAGAIN; /* once: the vault's copy may be good */
		if (r == -EAGAIN && fetch_err)
			r = fetch_err; /* what the fetch said: logged already */
	}
	namelist_free(&heal);
	if (r == -EAGAIN) {
		log_msg(LOG_ERR,
			"inode %llu: its objects left the cache %d times before they could "
			"be used; the request fails (EIO)",
			(unsigned long long)ino, FETCH_TRIES);
		r = -EIO;
	}
	if (r < 0 && done && rq.stop)
		*rq.stop = (int)r;
	if (r < 0)
		return done ? (ssize_t)done : r;
	return (ssize_t)done + r;
}

/* Clears setuid, and setgid when the group may execute, of a non-directory; called with mu
 * held. Whether the mode changed. */
static bool kill_suidgid(struct inode *i)
{
	uint32_t m = i->mode;
	if (S_ISDIR(m))
		return false;
	m &= ~(uint32_t)S_ISUID;
	if (m & S_IXGRP)
		m &= ~(uint32_t)S_ISGID;
	bool killed = m != i->mode;
	i->mode = m;
	return killed;
}

int fs_kill_suidgid(struct fs *fs, uint64_t ino)
{
	pthread_mutex_lock(&fs->mu);
	struct inode *i = inode_get(fs, ino);
	int r = !i ? -EIO : S_ISREG(i->mode) && kill_suidgid(i);
	if (r > 0)
		changed(fs, i, false);
	pthread_mutex_unlock(&fs->mu);
	return r;
}

static int truncate_to(struct fs *fs, uint64_t ino, mode_t mode, uint64_t size)
{
	if (!S_ISREG(mode))
		return S_ISDIR(mode) ? -EISDIR : -EINVAL;
	if (size > (uint64_t)UINT32_MAX * CHUNK_SIZE)
		return -EFBIG;
	return (int)data_request(fs, ino, (struct data_req){.op = CHUNK_TRUNCATE, .off = size});
}

int fs_setattr(struct fs *fs, uint64_t ino, const struct stat *a, int valid, struct stat *out)
{
	pthread_mutex_lock(&fs->mu);
	struct inode *i = inode_get(fs, ino);
	mode_t mode = i ? i->mode : 0;
	pthread_mutex_unlock(&fs->mu);
	if (!i)
		return -EIO;
	if (valid & FS_SET_SIZE) {
		int err = truncate_to(fs, ino, mode, (uint64_t)a->st_size);
		if (err)
			return err;
	}
	pthread_mutex_lock(&fs->mu);
	/* again: with mu released, a trim may have dropped its page (resident.c) */
	if (!(i = inode_get(fs, ino))) {
		pthread_mutex_unlock(&fs->mu);
		return -EIO;
	}
	struct timespec t = now();
	if (valid & FS_SET_MODE) {
		i->mode = (i->mode & S_IFMT) | (a->st_mode & 07777);
		struct xattr *acl = inode_xattr_find(i, ACL_ACCESS);
		if (acl)
			acl_chmod(acl->val, acl->len, i->mode);
	}
	if (valid & (FS_SET_UID | FS_SET_GID) && !(valid & FS_SET_MODE))
		kill_suidgid(i); /* chown; a mode sent with it is what the kernel computed */
	if (valid & FS_SET_UID)
		i->uid = a->st_uid;
	if (valid & FS_SET_GID)
		i->gid = a->st_gid;
	if (valid & FS_SET_ATIME)
		i->atime = valid & FS_SET_ATIME_NOW ? t : a->st_atim;
	if (valid & FS_SET_MTIME)
		i->mtime = valid & FS_SET_MTIME_NOW ? t : a->st_mtim;
	if (valid & FS_SET_SIZE && !(valid & FS_SET_MTIME))
		i->mtime = t;
	i->ctime = valid & FS_SET_CTIME ? a->st_ctim : t;
	inode_touch_page(fs, i->ino);
	fill_stat(i, out);
	pthread_mutex_unlock(&fs->mu);
	return 0;
}

int fs_readlink(struct fs *fs, uint64_t ino, char *buf, size_t cap)
{
	pthread_mutex_lock(&fs->mu);
	struct inode *i = inode_get(fs, ino);
	int err = !i ? -EIO : !i->target ? -EINVAL : 0;
	if (!err)
		snprintf(buf, cap, "%s", i->target);
	pthread_mutex_unlock(&fs->mu);
	return err;
}

static int new_inode(struct fs *fs, const struct fs_ctx *ctx, struct inode *d, mode_t mode,
		     struct inode **out)
{
	uint64_t ino = fs->next_ino;
	do /* never reuse a page we cannot read; the page is in memory before it changes */
		while (ino / PAGE_INODES < fs->npages && fs->pages[ino / PAGE_INODES].bad)
			ino = (ino / PAGE_INODES + 1) * PAGE_INODES;
	while (page_need(fs, (size_t)(ino / PAGE_INODES)));
	struct inode *i = inode_new(ino, mode);
	if (!i)
		return -ENOMEM;
	if (inode_insert(fs, i)) {
		inode_free(i);
		return -ENOMEM;
	}
	fs->next_ino = ino + 1;
	i->uid = ctx->uid;
	i->gid = d->mode & S_ISGID ? d->gid : ctx->gid;
	if (S_ISDIR(mode) && d->mode & S_ISGID)
		i->mode |= S_ISGID;
	i->nlink = S_ISDIR(mode) ? 2 : 1;
	i->parent = d->ino;
	i->atime = i->mtime = i->ctime = now();
	inode_touch_page(fs, ino);
	if (fs->page_budget && fs->ndirty > fs->page_budget)
		fs_commit_soon(fs);
	*out = i;
	return 0;
}

/* A new node takes its directory's default ACL, narrowed by the mode asked for; without one the
 * umask applies. Directories also pass the default ACL on. */
static int inherit_acl(struct inode *d, struct inode *i, mode_t umask)
{
	struct xattr *dflt = inode_xattr_find(d, ACL_DEFAULT);
	if (!dflt) {
		i->mode &= ~(uint32_t)(umask & 0777);
		return 0;
	}
	void *access;
	uint32_t mode = i->mode;
	int err = acl_inherit(dflt->val, dflt->len, &mode, &access);
	if (err)
		return err;
	uint32_t check = mode;
	if (acl_to_mode(access, dflt->len, &check) == 0)
		err = inode_xattr_set(i, ACL_ACCESS, access, dflt->len);
	free(access);
	i->mode = mode;
	if (!err && i->dir)
		err = inode_xattr_set(i, ACL_DEFAULT, dflt->val, dflt->len);
	return err;
}

int fs_mknod(struct fs *fs, const struct fs_ctx *ctx, uint64_t parent, const char *name,
	     mode_t mode, dev_t rdev, const char *target, struct stat *st)
{
	struct inode *d, *i = NULL;
	int err = check_name(name);
	if (err)
		return err;
	if (target && strlen(target) >= 4096)
		return -ENAMETOOLONG;
	pthread_mutex_lock(&fs->mu);
	err = get_dir(fs, parent, &d);
	if (!err && dir_find(d->dir, name, strlen(name)))
		err = -EEXIST;
	if (!err)
		err = new_inode(fs, ctx, d, mode, &i);
	if (!err && !target)
		err = inherit_acl(d, i, ctx->umask);
	if (!err && target && !(i->target = strdup(target)))
		err = -ENOMEM;
	if (!err)
		err = dir_add(d->dir, name, strlen(name), i->ino, (uint8_t)IFTODT(mode));
	if (err && i) {
		i->nlink = 0;
		destroy_if_unused(fs, i);
	}
	if (!err) {
		i->rdev = rdev;
		i->size = target ? strlen(target) : 0;
		i->nlookup++;
		if (S_ISDIR(mode))
			d->nlink++;
		changed(fs, d, true);
		fill_stat(i, st);
	}
	pthread_mutex_unlock(&fs->mu);
	return err;
}

int fs_link(struct fs *fs, uint64_t ino, uint64_t parent, const char *name, struct stat *st)
{
	struct inode *d, *i;
	int err = check_name(name);
	if (err)
		return err;
	pthread_mutex_lock(&fs->mu);
	err = get_dir(fs, parent, &d);
	i = inode_get(fs, ino);
	if (!err && !i)
		err = -EIO;
	if (!err && i->dir)
		err = -EPERM;
	if (!err && dir_find(d->dir, name, strlen(name)))
		err = -EEXIST;
	if (!err)
		err = dir_add(d->dir, name, strlen(name), ino, (uint8_t)IFTODT(i->mode));
	if (!err) {
		i->nlink++;
		i->nlookup++;
		changed(fs, i, false);
		changed(fs, d, true);
		fill_stat(i, st);
	}
	pthread_mutex_unlock(&fs->mu);
	return err;
}

/* Drops one link to i (removed from directory d); called with mu held. */
static void drop_link(struct fs *fs, struct inode *d, struct inode *i)
{
	if (i->dir) {
		i->nlink = 0;
		d->nlink--;
	} else {
		i->nlink--;
	}
	changed(fs, i, false);
	destroy_if_unused(fs, i);
}

int fs_unlink(struct fs *fs, uint64_t parent, const char *name, bool isdir)
{
	struct inode *d, *i = NULL;
	pthread_mutex_lock(&fs->mu);
	int err = get_dir(fs, parent, &d);
	if (!err)
		err = get_child(fs, d, name, &i);
	if (!err && isdir && !i->dir)
		err = -ENOTDIR;
	if (!err && !isdir && i->dir)
		err = -EISDIR;
	if (!err && isdir && dir_bad(i->dir))
		err = -EIO;
	if (!err && isdir && i->dir->live)
		err = -ENOTEMPTY;
	if (!err) {
		dir_remove(d->dir, name, strlen(name));
		changed(fs, d, true);
		drop_link(fs, d, i);
	}
	pthread_mutex_unlock(&fs->mu);
	return err;
}

static int rename_exchange(struct fs *fs, struct inode *sd, struct dent *se, struct inode *dd,
			   struct dent *de)
{
	struct inode *a = inode_get(fs, se->ino), *b = inode_get(fs, de->ino);
	if (!a || !b)
		return -EIO;
	uint64_t ino = se->ino;
	uint8_t type = se->type;
	se->ino = de->ino;
	se->type = de->type;
	de->ino = ino;
	de->type = type;
	dir_touch(sd->dir, se);
	dir_touch(dd->dir, de);
	if (sd != dd && (a->dir != NULL) != (b->dir != NULL)) {
		int delta = a->dir ? 1 : -1; /* a (dir) moves into dd, b moves into sd */
		dd->nlink += delta;
		sd->nlink -= delta;
	}
	a->parent = dd->ino;
	b->parent = sd->ino;
	changed(fs, a, false);
	changed(fs, b, false);
	changed(fs, sd, true);
	changed(fs, dd, true);
	return 0;
}

static int replace_check(struct inode *src, struct inode *dst)
{
	if (src->dir && !dst->dir)
		return -ENOTDIR;
	if (!src->dir && dst->dir)
		return -EISDIR;
	if (dst->dir && dir_bad(dst->dir))
		return -EIO;
	if (dst->dir && dst->dir->live)
		return -ENOTEMPTY;
	return 0;
}

static int do_rename(struct fs *fs, uint64_t parent, const char *name, uint64_t newparent,
		     const char *newname, unsigned flags)
{
	struct inode *sd, *dd, *src, *dst = NULL;
	int err = get_dir(fs, parent, &sd);
	if (!err)
		err = get_dir(fs, newparent, &dd);
	if (!err)
		err = get_child(fs, sd, name, &src);
	if (err)
		return err;
	err = get_child(fs, dd, newname, &dst);
	if (err && err != -ENOENT)
		return err;
	if (flags & RENAME_EXCHANGE)
		return dst ? rename_exchange(fs, sd, dir_find(sd->dir, name, strlen(name)), dd,
					     dir_find(dd->dir, newname, strlen(newname)))
			   : -ENOENT;
	if (dst && flags & RENAME_NOREPLACE)
		return -EEXIST;
	if (dst == src)
		return 0;
	if (dst && (err = replace_check(src, dst)))
		return err;
	if (dst) {
		dir_remove(dd->dir, newname, strlen(newname));
		drop_link(fs, dd, dst);
	}
	if ((err = dir_add(dd->dir, newname, strlen(newname), src->ino,
			   (uint8_t)IFTODT(src->mode))))
		return err;
	dir_remove(sd->dir, name, strlen(name));
	if (src->dir && sd != dd) {
		sd->nlink--;
		dd->nlink++;
	}
	src->parent = dd->ino;
	changed(fs, src, false);
	changed(fs, sd, true);
	changed(fs, dd, true);
	return 0;
}

int fs_rename(struct fs *fs, uint64_t parent, const char *name, uint64_t newparent,
	      const char *newname, unsigned flags)
{
	if (flags & ~(unsigned)(RENAME_EXCHANGE | RENAME_NOREPLACE))
		return -EINVAL;
	int err = check_name(newname);
	if (err)
		return err;
	pthread_mutex_lock(&fs->mu);
	err = do_rename(fs, parent, name, newparent, newname, flags);
	pthread_mutex_unlock(&fs->mu);
	return err;
}

ssize_t fs_read(struct fs *fs, uint64_t ino, char *buf, size_t size, uint64_t off)
{
	return data_request(fs, ino,
			    (struct data_req){.op = CHUNK_READ,
					      .rbuf = buf,
					      .size = size,
					      .off = off});
}

/* Keeps (set) or takes (!set) ino's write error: atomic, not under io, so that a close does not
 * wait for the reads in flight. A kept error stays until it is taken: the first one wins. */
static int write_error(struct fs *fs, uint64_t ino, bool set, int err)
{
	pthread_rwlock_rdlock(&fs->freeze);
	struct inode *i = get_file(fs, ino);
	int none = 0;
	if (i && set && S_ISREG(i->mode))
		__atomic_compare_exchange_n(&i->werr, &none, err, false, __ATOMIC_RELAXED,
					    __ATOMIC_RELAXED);
	err = i && !set ? __atomic_exchange_n(&i->werr, 0, __ATOMIC_RELAXED) : 0;
	pthread_rwlock_unlock(&fs->freeze);
	return err;
}

ssize_t fs_write(struct fs *fs, uint64_t ino, const char *buf, size_t size, uint64_t off)
{
	int stop = -EIO;
	ssize_t r = data_request(fs, ino,
				 (struct data_req){.op = CHUNK_WRITE,
						   .wbuf = buf,
						   .size = size,
						   .off = off,
						   .stop = &stop});
	if (r < 0 || (size_t)r < size)
		write_error(fs, ino, true, r < 0 ? (int)r : stop);
	return r;
}

int fs_take_write_error(struct fs *fs, uint64_t ino)
{
	return write_error(fs, ino, false, 0);
}

int fs_opendir(struct fs *fs, uint64_t ino)
{
	struct inode *d;
	pthread_mutex_lock(&fs->mu);
	int err = get_dir(fs, ino, &d);
	if (!err)
		d->dir->opens++; /* its page stays in memory: readdir offsets are indexes */
	pthread_mutex_unlock(&fs->mu);
	return err;
}

void fs_releasedir(struct fs *fs, uint64_t ino)
{
	pthread_mutex_lock(&fs->mu);
	struct inode *d = inode_peek(fs, ino);
	if (d && d->dir && d->dir->opens)
		d->dir->opens--;
	pthread_mutex_unlock(&fs->mu);
}

/* Offsets: 1 after ".", 2 after "..", k + 3 after the entry at index k. */
int fs_readdir(struct fs *fs, uint64_t ino, uint64_t off, bool plus, fs_filldir fill, void *arg)
{
	struct inode *d = NULL;
	struct stat st;
	pthread_mutex_lock(&fs->mu);
	int err = get_dir(fs, ino, &d);
	if (!err && off == 0) {
		fill_stat(d, &st);
		if (fill(arg, ".", &st, 1))
			goto out;
		off = 1;
	}
	if (!err && off == 1) {
		struct inode *p = inode_get(fs, d->parent ? d->parent : ROOT_INO);
		fill_stat(p ? p : d, &st);
		if (fill(arg, "..", &st, 2))
			goto out;
		off = 2;
	}
	size_t pos = err ? 0 : (size_t)(off - 2);
	struct dent *e;
	while (!err && (e = dir_next(d->dir, &pos))) {
		struct inode *c = plus ? inode_get(fs, e->ino) : NULL;
		memset(&st, 0, sizeof(st));
		st.st_ino = e->ino;
		st.st_mode = (mode_t)DTTOIF(e->type);
		if (c)
			fill_stat(c, &st);
		if (fill(arg, e->name, plus && !c ? NULL : &st, pos + 2))
			break;
		if (c) {
			c->nlookup++;
			c->parent = c->parent ? c->parent : d->ino;
		}
	}
out:;
	bool trim = pages_over_budget(fs);
	pthread_mutex_unlock(&fs->mu);
	if (trim)
		fs_trim(fs);
	return err;
}

/* ACL xattrs are checked; an access ACL sets the mode, and one that says no more than the mode
 * is not kept. */
static int set_xattr_or_acl(struct inode *i, const char *name, const void *val, size_t len)
{
	uint32_t mode = i->mode;
	int r = 0;
	if (strcmp(name, ACL_ACCESS) == 0 || strcmp(name, ACL_DEFAULT) == 0)
		r = acl_to_mode(val, len, &mode);
	if (r < 0)
		return r;
	if (strcmp(name, ACL_DEFAULT) == 0 && !i->dir)
		return -EACCES;
	if (strcmp(name, ACL_ACCESS) != 0)
		return inode_xattr_set(i, name, val, len);
	i->mode = mode;
	if (r == 0)
		return inode_xattr_set(i, name, val, len);
	inode_xattr_remove(i, name);
	return 0;
}

int fs_setxattr(struct fs *fs, uint64_t ino, const char *name, const void *val, size_t len,
		int flags)
{
	if (strlen(name) > 255)
		return -ERANGE;
	if (len > 65536)
		return -E2BIG;
	pthread_mutex_lock(&fs->mu);
	struct inode *i = inode_get(fs, ino);
	struct xattr *x = i ? inode_xattr_find(i, name) : NULL;
	int err = !i				? -EIO
		  : x && flags & XATTR_CREATE	? -EEXIST
		  : !x && flags & XATTR_REPLACE ? -ENODATA
						: set_xattr_or_acl(i, name, val, len);
	if (!err)
		changed(fs, i, false);
	pthread_mutex_unlock(&fs->mu);
	return err;
}

ssize_t fs_getxattr(struct fs *fs, uint64_t ino, const char *name, void *buf, size_t cap)
{
	pthread_mutex_lock(&fs->mu);
	struct inode *i = inode_get(fs, ino);
	struct xattr *x = i ? inode_xattr_find(i, name) : NULL;
	ssize_t r = !i ? -EIO : !x ? -ENODATA : cap && cap < x->len ? -ERANGE : (ssize_t)x->len;
	if (r > 0 && cap)
		memcpy(buf, x->val, x->len);
	pthread_mutex_unlock(&fs->mu);
	return r;
}

ssize_t fs_listxattr(struct fs *fs, uint64_t ino, char *buf, size_t cap)
{
	pthread_mutex_lock(&fs->mu);
	struct inode *i = inode_get(fs, ino);
	size_t need = 0;
	for (size_t k = 0; i && k < i->nxa; k++)
		need += strlen(i->xa[k].name) + 1;
	ssize_t r = !i ? -EIO : cap && cap < need ? -ERANGE : (ssize_t)need;
	for (size_t k = 0, at = 0; r > 0 && cap && k < i->nxa; k++) {
		size_t l = strlen(i->xa[k].name) + 1;
		memcpy(buf + at, i->xa[k].name, l);
		at += l;
	}
	pthread_mutex_unlock(&fs->mu);
	return r;
}

int fs_removexattr(struct fs *fs, uint64_t ino, const char *name)
{
	pthread_mutex_lock(&fs->mu);
	struct inode *i = inode_get(fs, ino);
	int err = i ? inode_xattr_remove(i, name) : -EIO;
	if (!err)
		changed(fs, i, false);
	pthread_mutex_unlock(&fs->mu);
	return err;
}

int fs_statfs(struct fs *fs, struct statvfs *sv)
{
	int err = store_statvfs(fs->st, sv);
	if (err)
		return err;
	pthread_mutex_lock(&fs->mu);
	uint64_t used = fs->live_inodes; /* as of the last commit: most inodes are not in memory */
	sv->f_files = sv->f_files > used ? sv->f_files : used * 2;
	sv->f_ffree = sv->f_files - used;
	pthread_mutex_unlock(&fs->mu);
	sv->f_favail = sv->f_ffree;
	sv->f_namemax = NAME_MAX_BYTES;
	return 0;
}

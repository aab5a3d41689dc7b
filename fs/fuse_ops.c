/* fuse_ops: thin translation from FUSE low-level requests to the core (fs/core.h): unpack the
 * request, call the core, reply. Every reply path answers exactly once. Per-session settings
 * (kernel cache lifetimes) come with the session's userdata, never from file statics.
 * Must never contain filesystem logic or touch the core's internals. */
#include "fs/fuse_ops.h"
#include "fs/core.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* A writer's kernel sees every change (we are the only writer), so it may cache for long; a
 * follower of someone else's writes caches for a second and rereads files it opens. */
void fuse_ops_session_init(struct fuse_ops_session *s, struct fs *fs, bool follow)
{
	*s = (struct fuse_ops_session){.fs = fs,
				       .cache_timeout = follow ? 1.0 : 3600.0,
				       .keep_cache = !follow};
}

_Static_assert(FUSE_SET_ATTR_MODE == FS_SET_MODE && FUSE_SET_ATTR_UID == FS_SET_UID &&
		       FUSE_SET_ATTR_GID == FS_SET_GID && FUSE_SET_ATTR_SIZE == FS_SET_SIZE &&
		       FUSE_SET_ATTR_ATIME == FS_SET_ATIME && FUSE_SET_ATTR_MTIME == FS_SET_MTIME &&
		       FUSE_SET_ATTR_ATIME_NOW == FS_SET_ATIME_NOW &&
		       FUSE_SET_ATTR_MTIME_NOW == FS_SET_MTIME_NOW &&
		       FUSE_SET_ATTR_CTIME == FS_SET_CTIME,
	       "setattr bits must match");

static const struct fuse_ops_session *SESSION(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

static struct fs *FS(fuse_req_t req)
{
	return SESSION(req)->fs;
}

static double TIMEOUT(fuse_req_t req)
{
	return SESSION(req)->cache_timeout;
}

static void reply_entry(fuse_req_t req, int err, const struct stat *st)
{
	if (err) {
		fuse_reply_err(req, -err);
		return;
	}
	struct fuse_entry_param e = {.ino = st->st_ino,
				     .attr = *st,
				     .attr_timeout = TIMEOUT(req),
				     .entry_timeout = TIMEOUT(req)};
	fuse_reply_entry(req, &e);
}

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	const struct fuse_ops_session *s = userdata;
	if (conn->capable & FUSE_CAP_WRITEBACK_CACHE && s->keep_cache) /* it trusts its own sizes */
		conn->want |= FUSE_CAP_WRITEBACK_CACHE;
	if (conn->capable & FUSE_CAP_POSIX_ACL)
		conn->want |= FUSE_CAP_POSIX_ACL;
	if (conn->capable & FUSE_CAP_DONT_MASK)
		conn->want |= FUSE_CAP_DONT_MASK; /* the umask is ours to apply, ACLs permitting */
	/* Not v1 (every write would kill setuid, even root's): fs/fuse_io.c asks for v2, whose
	 * requests say when to kill. */
	conn->want &= ~(unsigned)FUSE_CAP_HANDLE_KILLPRIV;
	conn->want &= ~(unsigned)FUSE_CAP_SPLICE_READ;
	conn->max_write = 1 << 20;
	conn->max_readahead = 1 << 20;
	conn->time_gran = 1;
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct stat st;
	int err = fs_lookup(FS(req), parent, name, &st);
	if (err == -ENOENT) { /* negative entry, cached by the kernel */
		struct fuse_entry_param e = {.ino = 0, .entry_timeout = TIMEOUT(req)};
		fuse_reply_entry(req, &e);
		return;
	}
	reply_entry(req, err, &st);
}

static void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t n)
{
	fs_forget(FS(req), ino, n);
	fuse_reply_none(req);
}

static void op_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *f)
{
	for (size_t k = 0; k < count; k++)
		fs_forget(FS(req), f[k].ino, f[k].nlookup);
	fuse_reply_none(req);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)fi;
	struct stat st;
	int err = fs_getattr(FS(req), ino, &st);
	if (err)
		fuse_reply_err(req, -err);
	else
		fuse_reply_attr(req, &st, TIMEOUT(req));
}

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int valid,
		       struct fuse_file_info *fi)
{
	(void)fi;
	struct stat st;
	int err = fs_setattr(FS(req), ino, attr, valid, &st);
	if (err)
		fuse_reply_err(req, -err);
	else
		fuse_reply_attr(req, &st, TIMEOUT(req));
}

static void op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	char buf[4096];
	int err = fs_readlink(FS(req), ino, buf, sizeof(buf));
	if (err)
		fuse_reply_err(req, -err);
	else
		fuse_reply_readlink(req, buf);
}

static void make_node(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev,
		      const char *target, struct stat *st, int *err)
{
	const struct fuse_ctx *c = fuse_req_ctx(req);
	struct fs_ctx ctx = {.uid = c->uid, .gid = c->gid, .umask = c->umask};
	*err = fs_mknod(FS(req), &ctx, parent, name, mode, rdev, target, st);
}

static void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
	struct stat st;
	int err;
	make_node(req, parent, name, mode, rdev, NULL, &st, &err);
	reply_entry(req, err, &st);
}

static void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	op_mknod(req, parent, name, S_IFDIR | (mode & 07777), 0);
}

static void op_symlink(fuse_req_t req, const char *target, fuse_ino_t parent, const char *name)
{
	struct stat st;
	int err;
	make_node(req, parent, name, S_IFLNK | 0777, 0, target, &st, &err);
	reply_entry(req, err, &st);
}

static void op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		      struct fuse_file_info *fi)
{
	struct stat st;
	int err;
	make_node(req, parent, name, S_IFREG | (mode & 07777), 0, NULL, &st, &err);
	if (err) {
		fuse_reply_err(req, -err);
		return;
	}
	struct fuse_entry_param e = {.ino = st.st_ino,
				     .attr = st,
				     .attr_timeout = TIMEOUT(req),
				     .entry_timeout = TIMEOUT(req)};
	fi->keep_cache = SESSION(req)->keep_cache;
	if (fuse_reply_create(req, &e, fi) == -ENOENT)
		fs_forget(FS(req), st.st_ino, 1);
}

static void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t parent, const char *name)
{
	struct stat st;
	reply_entry(req, fs_link(FS(req), ino, parent, name, &st), &st);
}

static void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	fuse_reply_err(req, -fs_unlink(FS(req), parent, name, false));
}

static void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	fuse_reply_err(req, -fs_unlink(FS(req), parent, name, true));
}

static void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
		      const char *newname, unsigned int flags)
{
	fuse_reply_err(req, -fs_rename(FS(req), parent, name, newparent, newname, flags));
}

/* libfuse asks the kernel for atomic O_TRUNC: the truncation of open(O_TRUNC) is this
 * request's to do (the kernel only drops its own idea of the size). */
static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct stat st, zero = {0};
	int err = fi->flags & O_TRUNC ? fs_setattr(FS(req), ino, &zero, FS_SET_SIZE, &st)
				      : fs_getattr(FS(req), ino, &st);
	if (err) {
		fuse_reply_err(req, -err);
		return;
	}
	fi->keep_cache = SESSION(req)->keep_cache;
	fuse_reply_open(req, fi);
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	(void)fi;
	char *buf = malloc(size ? size : 1);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	ssize_t r = fs_read(FS(req), ino, buf, size, (uint64_t)off);
	if (r < 0)
		fuse_reply_err(req, (int)-r);
	else
		fuse_reply_buf(req, buf, (size_t)r);
	free(buf);
}

/* A write-back (fi->writepage) is the kernel writing cached pages on its own: it drops a short
 * count and keeps only an error (for the file's next fsync and close, which it answers itself,
 * so there is no FLUSH operation), so a short write-back is answered with the error that
 * stopped it. A write(2) that reaches us (O_DIRECT, a follower's mount) gets its short count. */
static void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	ssize_t r = fs_write(FS(req), ino, buf, size, (uint64_t)off);
	int err = r >= 0 && (size_t)r == size ? 0 : fs_take_write_error(FS(req), ino);
	if (r >= 0 && (size_t)r < size && fi->writepage)
		r = err ? err : -EIO;
	if (r < 0)
		fuse_reply_err(req, (int)-r);
	else
		fuse_reply_write(req, (size_t)r);
}

static void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	fuse_reply_err(req, 0);
}

/* A write-back that failed reaches the caller through the kernel (see op_write), before this. */
static void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	(void)ino;
	(void)datasync;
	(void)fi;
	fuse_reply_err(req, -fs_commit(FS(req)));
}

static void op_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	(void)ino;
	(void)datasync;
	(void)fi;
	fuse_reply_err(req, -fs_commit(FS(req)));
}

static void op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	int err = fs_opendir(FS(req), ino);
	if (err) {
		fuse_reply_err(req, -err);
		return;
	}
	fi->cache_readdir = 1;
	fuse_reply_open(req, fi);
}

struct dirbuf {
	fuse_req_t req;
	char *p;
	size_t used, cap;
	bool plus;
};

static int fill(void *arg, const char *name, const struct stat *st, uint64_t next)
{
	struct dirbuf *b = arg;
	size_t rem = b->cap - b->used, need;
	if (b->plus) {
		struct fuse_entry_param e = {.ino = st ? st->st_ino : 0,
					     .attr_timeout = TIMEOUT(b->req),
					     .entry_timeout = TIMEOUT(b->req)};
		if (st)
			e.attr = *st;
		bool dot = strcmp(name, ".") == 0 || strcmp(name, "..") == 0;
		if (dot) /* no lookup is counted for these: the kernel must not use them */
			e.ino = 0, e.attr.st_ino = st->st_ino;
		need = fuse_add_direntry_plus(b->req, b->p + b->used, rem, name, &e, (off_t)next);
	} else {
		need = fuse_add_direntry(b->req, b->p + b->used, rem, name, st, (off_t)next);
	}
	if (need > rem)
		return 1;
	b->used += need;
	return 0;
}

static void readdir_common(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, bool plus)
{
	struct dirbuf b = {.req = req, .p = malloc(size), .cap = size, .plus = plus};
	if (!b.p) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	int err = fs_readdir(FS(req), ino, (uint64_t)off, plus, fill, &b);
	if (err)
		fuse_reply_err(req, -err);
	else
		fuse_reply_buf(req, b.p, b.used);
	free(b.p);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	(void)fi;
	readdir_common(req, ino, size, off, false);
}

static void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			   struct fuse_file_info *fi)
{
	(void)fi;
	readdir_common(req, ino, size, off, true);
}

static void op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)fi;
	fs_releasedir(FS(req), ino);
	fuse_reply_err(req, 0);
}

static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	(void)ino;
	struct statvfs sv;
	int err = fs_statfs(FS(req), &sv);
	if (err)
		fuse_reply_err(req, -err);
	else
		fuse_reply_statfs(req, &sv);
}

static void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
			size_t size, int flags)
{
	fuse_reply_err(req, -fs_setxattr(FS(req), ino, name, value, size, flags));
}

static void reply_xattr(fuse_req_t req, ssize_t r, size_t size, const char *buf)
{
	if (r < 0)
		fuse_reply_err(req, (int)-r);
	else if (size == 0)
		fuse_reply_xattr(req, (size_t)r);
	else
		fuse_reply_buf(req, buf, (size_t)r);
}

static void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	char *buf = malloc(size ? size : 1);
	ssize_t r = buf ? fs_getxattr(FS(req), ino, name, buf, size) : -ENOMEM;
	reply_xattr(req, r, size, buf);
	free(buf);
}

static void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	char *buf = malloc(size ? size : 1);
	ssize_t r = buf ? fs_listxattr(FS(req), ino, buf, size) : -ENOMEM;
	reply_xattr(req, r, size, buf);
	free(buf);
}

static void op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	fuse_reply_err(req, -fs_removexattr(FS(req), ino, name));
}

const struct fuse_lowlevel_ops coffer_fuse_ops = {
	.init = op_init,
	.lookup = op_lookup,
	.forget = op_forget,
	.forget_multi = op_forget_multi,
	.getattr = op_getattr,
	.setattr = op_setattr,
	.readlink = op_readlink,
	.mknod = op_mknod,
	.mkdir = op_mkdir,
	.symlink = op_symlink,
	.create = op_create,
	.link = op_link,
	.unlink = op_unlink,
	.rmdir = op_rmdir,
	.rename = op_rename,
	.open = op_open,
	.read = op_read,
	.write = op_write,
	.release = op_release,
	.fsync = op_fsync,
	.opendir = op_opendir,
	.readdir = op_readdir,
	.readdirplus = op_readdirplus,
	.releasedir = op_releasedir,
	.fsyncdir = op_fsyncdir,
	.statfs = op_statfs,
	.setxattr = op_setxattr,
	.getxattr = op_getxattr,
	.listxattr = op_listxattr,
	.removexattr = op_removexattr,
};

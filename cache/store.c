/* store: the cache folder's handle and its objects (see store.h). Objects live flat under
 * objects/ as 32 hex chars, opened with O_NOFOLLOW. Must never leave a partly written file under
 * a final name: new files are written under a temporary name, fsynced and renamed, and the
 * folder is fsynced before anything relies on them. */
#include "cache/folder.h"
#include "crypto/crypto.h"
#include "lib/fileio.h"
#include <stdlib.h>
#include <dirent.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

void oname_new(struct oname *n)
{
	do
		random_bytes(n->b, NAME_BYTES);
	while (oname_is_zero(n));
}

/* Asks the filesystem to place the folders made in the cache folder as it places top-level ones
 * (FS_TOPDIR_FL; ext4's Orlov allocator then puts objects/ in a block group with room) before
 * objects/ is made: every object is an inode of that one folder, and one that shares its group
 * with the rest of a busy disk makes each new inode a search (untar of /usr/include on ext4,
 * median of 5 alternating rounds: 5.52 -> 3.19 s; see docs/design.md). A hint: ignored where
 * the filesystem has no such flag (tmpfs). */
static void spread_subfolders(int dirfd)
{
	int flags;
	if (ioctl(dirfd, FS_IOC_GETFLAGS, &flags) == 0 && !(flags & FS_TOPDIR_FL)) {
		flags |= FS_TOPDIR_FL;
		ioctl(dirfd, FS_IOC_SETFLAGS, &flags);
	}
}

static int open_folder(struct store **out, const char *path, bool create)
{
	struct store *s = calloc(1, sizeof(*s));
	int err = 0;
	*out = NULL;
	if (!s)
		return -ENOMEM;
	*s = (struct store){.dirfd = -1, .objfd = -1, .lockfd = -1};
	pthread_mutex_init(&s->freed_mu, NULL);
	pthread_mutex_init(&s->gone_mu, NULL);
	if (create && mkdir(path, 0700) < 0 && errno != EEXIST)
		goto fail;
	s->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dirfd < 0)
		goto fail;
	/* checked on the descriptor before anything is created in it */
	if (create && (err = store_check_owner(s)))
		goto refuse;
	if (create && faccessat(s->dirfd, "objects", F_OK, AT_SYMLINK_NOFOLLOW) < 0)
		spread_subfolders(s->dirfd);
	if (create && mkdirat(s->dirfd, "objects", 0700) < 0 && errno != EEXIST)
		goto fail;
	s->objfd = openat(s->dirfd, "objects", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (s->objfd < 0 && (create || errno != ENOENT))
		goto fail;
	*out = s;
	return 0;
fail:
	err = -errno;
refuse:
	store_close(s);
	return err;
}

int store_check_owner(const struct store *s)
{
	struct stat st;
	if (fstat(s->dirfd, &st) < 0)
		return -errno;
	return st.st_uid == geteuid() && !(st.st_mode & (S_IWGRP | S_IWOTH)) ? 0 : -EPERM;
}

int store_open(struct store **out, const char *path)
{
	return open_folder(out, path, true);
}

int store_open_existing(struct store **out, const char *path)
{
	return open_folder(out, path, false);
}

void store_close(struct store *s)
{
	if (!s)
		return;
	if (s->objfd >= 0)
		close(s->objfd);
	if (s->dirfd >= 0)
		close(s->dirfd);
	if (s->lockfd >= 0)
		close(s->lockfd);
	pthread_mutex_destroy(&s->freed_mu);
	pthread_mutex_destroy(&s->gone_mu);
	free(s);
}

void store_set_fetch(struct store *s, store_fetch_fn fetch, void *arg)
{
	s->fetch = fetch;
	s->fetch_arg = arg;
}

int store_watch_gone(struct store *s, store_gone_fn fn, void *arg)
{
	int err = -ENOSPC;
	pthread_mutex_lock(&s->gone_mu);
	for (int k = 0; err && k < STORE_WATCHERS; k++)
		if (!s->gone[k].fn) {
			s->gone[k].fn = fn;
			s->gone[k].arg = arg;
			err = 0;
		}
	pthread_mutex_unlock(&s->gone_mu);
	return err;
}

void store_unwatch_gone(struct store *s, void *arg)
{
	pthread_mutex_lock(&s->gone_mu);
	for (int k = 0; k < STORE_WATCHERS; k++)
		if (s->gone[k].fn && s->gone[k].arg == arg)
			s->gone[k].fn = NULL;
	pthread_mutex_unlock(&s->gone_mu);
}

/* Tells the watchers that n left objects/ (or was replaced); returns err, for the callers'
 * tails. */
static int gone(struct store *s, const struct oname *n, int err)
{
	pthread_mutex_lock(&s->gone_mu);
	for (int k = 0; k < STORE_WATCHERS; k++)
		if (s->gone[k].fn)
			s->gone[k].fn(s->gone[k].arg, n);
	pthread_mutex_unlock(&s->gone_mu);
	return err;
}

int store_obj_open(struct store *s, const struct oname *n, int flags)
{
	char hex[2 * NAME_BYTES + 1];
	oname_hex(n, hex);
	int fd = openat(s->objfd, hex, flags | O_NOFOLLOW | O_CLOEXEC, 0600);
	return fd < 0 ? -errno : fd;
}

int store_obj_ensure(struct store *s, const struct oname *n, const struct obj_want *w)
{
	char hex[2 * NAME_BYTES + 1];
	oname_hex(n, hex);
	struct stat st;
	if (fstatat(s->objfd, hex, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return 0;
	if (errno != ENOENT)
		return -errno;
	return s->fetch ? s->fetch(s->fetch_arg, n, w, false) : -ENOENT;
}

int store_obj_refetch(struct store *s, const struct oname *n, const struct obj_want *w)
{
	return s->fetch ? s->fetch(s->fetch_arg, n, w, true) : -ENOENT;
}

int store_obj_quarantine(struct store *s, const struct oname *n)
{
	char hex[2 * NAME_BYTES + 1], bad[2 * NAME_BYTES + 8];
	oname_hex(n, hex);
	snprintf(bad, sizeof(bad), "%s.bad", hex);
	if (renameat(s->objfd, hex, s->objfd, bad) < 0)
		return errno == ENOENT ? 0 : -errno;
	return gone(s, n, fsync(s->objfd) < 0 ? -errno : 0);
}

int store_obj_read(struct store *s, const struct oname *n, struct buf *out)
{
	char hex[2 * NAME_BYTES + 1];
	oname_hex(n, hex);
	return file_read_nofollow_at(s->objfd, hex, out, (size_t)1 << 30);
}

int store_obj_read_kept(struct store *s, const struct oname *n, struct buf *out, bool *kept)
{
	int fd = store_obj_open(s, n, O_RDONLY);
	if (fd < 0)
		return fd;
	struct stat st;
	int err = fstat(fd, &st) < 0 ? -errno : file_read_fd(fd, out, (size_t)1 << 30);
	*kept = !err && store_mode_kept(st.st_mode);
	close(fd);
	return err;
}

bool store_obj_cached(struct store *s, const struct oname *n)
{
	char hex[2 * NAME_BYTES + 1];
	struct stat st;
	oname_hex(n, hex);
	return fstatat(s->objfd, hex, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

int store_obj_install(struct store *s, const struct oname *n, const void *p, size_t len)
{
	char hex[2 * NAME_BYTES + 1];
	oname_hex(n, hex);
	int err = file_replace_at(s->objfd, hex, p, len, 0);
	return err ? err : gone(s, n, 0); /* a descriptor held of a copy it replaced is stale */
}

int store_obj_write(struct store *s, const struct oname *n, const void *p, size_t len)
{
	return store_obj_write_mode(s, n, p, len, 0600);
}

int store_obj_write_mode(struct store *s, const struct oname *n, const void *p, size_t len,
			 mode_t mode)
{
	int fd = store_obj_open(s, n, O_WRONLY | O_CREAT | O_EXCL);
	if (fd < 0)
		return fd;
	int err = mode != 0600 && fchmod(fd, mode) < 0 ? -errno : file_write_all(fd, p, len);
	if (!err && fdatasync(fd) < 0)
		err = -errno;
	close(fd);
	if (err)
		store_obj_unlink(s, n);
	return err;
}

int store_obj_keep(struct store *s, const struct oname *n)
{
	int fd = store_obj_open(s, n, O_RDONLY);
	if (fd < 0)
		return fd;
	struct stat st;
	int err = fstat(fd, &st) < 0 ? -errno : 0;
	if (!err && !store_mode_kept(st.st_mode) && fchmod(fd, STORE_KEEP_MODE) < 0)
		err = -errno;
	close(fd);
	return err;
}

bool store_mode_kept(mode_t mode)
{
	return (mode & 07777) == STORE_KEEP_MODE;
}

int store_obj_unlink(struct store *s, const struct oname *n)
{
	char hex[2 * NAME_BYTES + 1];
	oname_hex(n, hex);
	return unlinkat(s->objfd, hex, 0) < 0 ? -errno : gone(s, n, 0);
}

int store_obj_sync(struct store *s, const struct oname *n)
{
	int fd = store_obj_open(s, n, O_RDONLY);
	if (fd < 0)
		return fd;
	int err = fdatasync(fd) < 0 ? -errno : 0;
	close(fd);
	return err;
}

int store_sync_all(struct store *s)
{
	return syncfs(s->objfd) < 0 ? -errno : 0;
}

int store_sync_objects(struct store *s)
{
	return fsync(s->objfd) < 0 ? -errno : 0;
}

int store_statvfs(struct store *s, struct statvfs *sv)
{
	return fstatvfs(s->dirfd, sv) < 0 ? -errno : 0;
}

/* Removes the temporaries (".NAME.tmp", ".NAME.XXXXXXXX.tmp") a crash left in one folder. */
static int sweep_temp(int dirfd)
{
	int fd = dup(dirfd);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	rewinddir(d);
	for (struct dirent *e; (e = readdir(d));) {
		size_t len = strlen(e->d_name);
		if (e->d_name[0] == '.' && len > 4 && strcmp(e->d_name + len - 4, ".tmp") == 0)
			unlinkat(dirfd, e->d_name, 0);
	}
	closedir(d);
	return 0;
}

int store_clean_temp(struct store *s)
{
	int err = sweep_temp(s->objfd);
	int top = sweep_temp(s->dirfd); /* a root, config or state replaced when the crash came */
	return err ? err : top;
}

int store_each(struct store *s, int (*fn)(const struct oname *n, void *arg), void *arg)
{
	int fd = dup(s->objfd);
	if (fd < 0)
		return -errno;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	rewinddir(d);
	struct dirent *e;
	int err = 0;
	while (!err && (e = readdir(d))) {
		struct oname n;
		if (oname_parse(&n, e->d_name) == 0)
			err = fn(&n, arg);
	}
	closedir(d);
	return err;
}

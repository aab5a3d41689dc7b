/* store: the local cache folder (see store.h). Objects live flat under objects/ as 32 hex chars.
 * Must never leave a partly written file under a final name: new files are written under a
 * temporary name, fsynced and renamed, and the folder is fsynced before anything relies on them. */
#include "fs/store.h"
#include "crypto/crypto.h"
#include <dirent.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

void oname_new(struct oname *n)
{
	do
		random_bytes(n->b, NAME_BYTES);
	while (oname_is_zero(n));
}

int oname_is_zero(const struct oname *n)
{
	static const uint8_t zero[NAME_BYTES];
	return memcmp(n->b, zero, NAME_BYTES) == 0;
}

void oname_hex(const struct oname *n, char out[2 * NAME_BYTES + 1])
{
	static const char hx[] = "0123456789abcdef";
	for (int i = 0; i < NAME_BYTES; i++) {
		out[2 * i] = hx[n->b[i] >> 4];
		out[2 * i + 1] = hx[n->b[i] & 15];
	}
	out[2 * NAME_BYTES] = 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int oname_parse(struct oname *n, const char *hex)
{
	if (strlen(hex) != 2 * NAME_BYTES)
		return -EINVAL;
	for (int i = 0; i < NAME_BYTES; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		n->b[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

int store_open(struct store *s, const char *path)
{
	*s = (struct store){.dirfd = -1, .objfd = -1, .lockfd = -1};
	pthread_mutex_init(&s->freed_mu, NULL);
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return -errno;
	s->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dirfd < 0)
		return -errno;
	if (mkdirat(s->dirfd, "objects", 0700) < 0 && errno != EEXIST)
		goto fail;
	s->objfd = openat(s->dirfd, "objects", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->objfd < 0)
		goto fail;
	return 0;
fail:;
	int err = -errno;
	store_close(s);
	return err;
}

void store_close(struct store *s)
{
	if (s->objfd >= 0)
		close(s->objfd);
	if (s->dirfd >= 0)
		close(s->dirfd);
	if (s->lockfd >= 0)
		close(s->lockfd);
	s->objfd = s->dirfd = s->lockfd = -1;
}

int store_lock(struct store *s)
{
	s->lockfd = openat(s->dirfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (s->lockfd < 0)
		return -errno;
	if (flock(s->lockfd, LOCK_EX | LOCK_NB) < 0)
		return errno == EWOULDBLOCK ? -EBUSY : -errno;
	return 0;
}

int store_obj_open(struct store *s, const struct oname *n, int flags)
{
	char hex[2 * NAME_BYTES + 1];
	oname_hex(n, hex);
	int fd = openat(s->objfd, hex, flags | O_CLOEXEC, 0600);
	return fd < 0 ? -errno : fd;
}

int store_obj_ensure(struct store *s, const struct oname *n)
{
	char hex[2 * NAME_BYTES + 1];
	oname_hex(n, hex);
	struct stat st;
	if (fstatat(s->objfd, hex, &st, 0) == 0)
		return 0;
	if (errno != ENOENT)
		return -errno;
	return s->fetch ? s->fetch(s->fetch_arg, n) : -ENOENT;
}

static int read_fd(int fd, struct buf *out, size_t max)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if ((uint64_t)st.st_size > max)
		return -EFBIG;
	if (buf_reserve(out, (size_t)st.st_size + 1))
		return -ENOMEM;
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t r =
			pread(fd, out->data + out->len + got, (size_t)st.st_size - got, (off_t)got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	out->len += got;
	return 0;
}

int store_obj_read(struct store *s, const struct oname *n, struct buf *out)
{
	char hex[2 * NAME_BYTES + 1];
	oname_hex(n, hex);
	return file_read_at(s->objfd, hex, out, (size_t)1 << 30);
}

int store_obj_install(struct store *s, const struct oname *n, const void *p, size_t len)
{
	char hex[2 * NAME_BYTES + 1];
	oname_hex(n, hex);
	return file_replace_at(s->objfd, hex, p, len, 0);
}

static int write_all(int fd, const void *p, size_t len)
{
	const unsigned char *c = p;
	while (len) {
		ssize_t w = write(fd, c, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		c += w;
		len -= (size_t)w;
	}
	return 0;
}

int store_obj_write(struct store *s, const struct oname *n, const void *p, size_t len)
{
	int fd = store_obj_open(s, n, O_WRONLY | O_CREAT | O_EXCL);
	if (fd < 0)
		return fd;
	int err = write_all(fd, p, len);
	if (!err && fdatasync(fd) < 0)
		err = -errno;
	close(fd);
	if (err)
		store_obj_unlink(s, n);
	return err;
}

int store_obj_unlink(struct store *s, const struct oname *n)
{
	char hex[2 * NAME_BYTES + 1];
	oname_hex(n, hex);
	return unlinkat(s->objfd, hex, 0) < 0 ? -errno : 0;
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

int store_clean_temp(struct store *s)
{
	int fd = dup(s->objfd);
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
			unlinkat(s->objfd, e->d_name, 0);
	}
	closedir(d);
	return 0;
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

int file_read_at(int dirfd, const char *name, struct buf *out, size_t max)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int err = read_fd(fd, out, max);
	close(fd);
	return err;
}

int file_replace_at(int dirfd, const char *name, const void *p, size_t len, int excl)
{
	char tmp[300];
	/* unique: two threads may install the same object at once (parallel reads of a fresh cache)
	 */
	snprintf(tmp, sizeof(tmp), ".%s.%08x.tmp", name, random_u32());
	int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	int err = write_all(fd, p, len);
	if (!err && fsync(fd) < 0)
		err = -errno;
	close(fd);
	if (!err) {
		/* excl: link fails with EEXIST instead of replacing an existing file */
		int r = excl ? linkat(dirfd, tmp, dirfd, name, 0)
			     : renameat(dirfd, tmp, dirfd, name);
		if (r < 0)
			err = -errno;
	}
	unlinkat(dirfd, tmp, 0);
	if (!err && fsync(dirfd) < 0)
		err = -errno;
	return err;
}

int store_reserve_fill(struct store *s)
{
	struct stat st;
	if (fstatat(s->dirfd, "reserve", &st, 0) == 0 &&
	    (size_t)st.st_blocks * 512 >= STORE_RESERVE)
		return 0;
	int fd = openat(s->dirfd, "reserve.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	int err = -posix_fallocate(fd, 0, (off_t)STORE_RESERVE);
	close(fd);
	if (!err && renameat(s->dirfd, "reserve.tmp", s->dirfd, "reserve") < 0)
		err = -errno;
	if (err)
		unlinkat(s->dirfd, "reserve.tmp", 0);
	return err;
}

int store_reserve_release(struct store *s)
{
	return unlinkat(s->dirfd, "reserve", 0) < 0 ? -errno : 0;
}

int store_file_read(struct store *s, const char *name, struct buf *out)
{
	return file_read_at(s->dirfd, name, out, (size_t)64 << 20);
}

int store_file_replace(struct store *s, const char *name, const void *p, size_t len)
{
	return file_replace_at(s->dirfd, name, p, len, 0);
}

#define FREED_LOG "freed.log"

int store_freed_append(struct store *s, uint64_t gen, const struct oname *names, size_t n)
{
	if (n == 0)
		return 0;
	struct buf b = {0};
	buf_u64(&b, gen);
	buf_u32(&b, (uint32_t)n);
	buf_put(&b, names, n * NAME_BYTES);
	pthread_mutex_lock(&s->freed_mu);
	int fd = openat(s->dirfd, FREED_LOG, O_WRONLY | O_APPEND | O_CLOEXEC);
	bool created = false;
	if (fd < 0 && errno == ENOENT) {
		fd = openat(s->dirfd, FREED_LOG, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
		created = true;
	}
	int err = fd < 0 ? -errno : b.err ? b.err : write_all(fd, b.data, b.len);
	if (!err && fdatasync(fd) < 0)
		err = -errno;
	if (!err && created && fsync(s->dirfd) < 0)
		err = -errno;
	if (fd >= 0)
		close(fd);
	pthread_mutex_unlock(&s->freed_mu);
	buf_free(&b);
	return err;
}

/* Walks freed.log; keep (when not NULL) collects the records for which want() is false. */
static int freed_walk(struct store *s, uint64_t upto, bool newer,
		      int (*fn)(const struct oname *, void *), void *arg, struct buf *keep,
		      bool *changed)
{
	struct buf log = {0};
	int err = file_read_at(s->dirfd, FREED_LOG, &log, (size_t)1 << 30);
	if (err == -ENOENT)
		return 0;
	struct rd r = {.p = log.data, .left = log.len};
	while (!err && r.left >= 12) {
		const unsigned char *start = r.p;
		uint64_t gen = rd_u64(&r);
		uint32_t n = rd_u32(&r);
		const unsigned char *names = rd_take(&r, (size_t)n * NAME_BYTES);
		if (!names)
			break; /* a torn last record */
		bool due = newer ? gen > upto : gen <= upto;
		for (uint32_t k = 0; due && fn && !err && k < n; k++)
			err = fn((const struct oname *)(names + (size_t)k * NAME_BYTES), arg);
		if (keep && !due)
			buf_put(keep, start, (size_t)(r.p - start));
		*changed |= due;
	}
	*changed |= r.left != 0;
	buf_free(&log);
	return err;
}

int store_freed_each(struct store *s, uint64_t upto, int (*fn)(const struct oname *n, void *arg),
		     void *arg)
{
	bool changed = false;
	pthread_mutex_lock(&s->freed_mu);
	int err = freed_walk(s, upto, false, fn, arg, NULL, &changed);
	pthread_mutex_unlock(&s->freed_mu);
	return err;
}

/* Rewrites freed.log without the records at or below upto (or above it, for newer). */
static int freed_rewrite(struct store *s, uint64_t upto, bool newer)
{
	struct buf keep = {0};
	bool changed = false;
	int err = freed_walk(s, upto, newer, NULL, NULL, &keep, &changed);
	if (!err && changed)
		err = file_replace_at(s->dirfd, FREED_LOG, keep.data ? (void *)keep.data : "",
				      keep.len, 0);
	buf_free(&keep);
	return err;
}

int store_freed_drop(struct store *s, uint64_t upto)
{
	pthread_mutex_lock(&s->freed_mu);
	int err = freed_rewrite(s, upto, false);
	pthread_mutex_unlock(&s->freed_mu);
	return err;
}

int store_freed_trim(struct store *s, uint64_t max_gen)
{
	pthread_mutex_lock(&s->freed_mu);
	int err = freed_rewrite(s, max_gen, true);
	pthread_mutex_unlock(&s->freed_mu);
	return err;
}

/* fileio: whole-file helpers for any folder (see fileio.h). Temporaries are always created new
 * (O_CREAT|O_EXCL|O_NOFOLLOW), so a symlink planted at a temporary name is never followed.
 * Must never leave a partly written file under a final name: write, fsync, then rename. */
#include "lib/fileio.h"
#include "crypto/crypto.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define COPY_BUF ((size_t)256 << 10) /* the read/write fallback's buffer */

int file_read_fd(int fd, struct buf *out, size_t max)
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

static int read_at(int dirfd, const char *name, int flags, struct buf *out, size_t max)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | flags);
	if (fd < 0)
		return -errno;
	int err = file_read_fd(fd, out, max);
	close(fd);
	return err;
}

int file_read_at(int dirfd, const char *name, struct buf *out, size_t max)
{
	return read_at(dirfd, name, 0, out, max);
}

int file_read_nofollow_at(int dirfd, const char *name, struct buf *out, size_t max)
{
	return read_at(dirfd, name, O_NOFOLLOW, out, max);
}

int file_write_all(int fd, const void *p, size_t len)
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

/* The rest of a copy from src offset *off that copy_file_range refused: pread/write. */
static int copy_rw(int src, int dst, off_t *off, size_t left)
{
	unsigned char *b = malloc(left < COPY_BUF ? left : COPY_BUF);
	int err = b ? 0 : -ENOMEM;
	while (!err && left) {
		ssize_t r = pread(src, b, left < COPY_BUF ? left : COPY_BUF, *off);
		if (r < 0 && errno == EINTR)
			continue;
		err = r < 0 ? -errno : r == 0 ? -EIO : file_write_all(dst, b, (size_t)r);
		if (r > 0) {
			*off += r;
			left -= (size_t)r;
		}
	}
	free(b);
	return err;
}

int file_copy_fd(int src, int dst, size_t len)
{
	off_t off = 0;
	while (len) {
		ssize_t r = copy_file_range(src, &off, dst, NULL, len, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 &&
		    (errno == EXDEV || errno == EOPNOTSUPP || errno == ENOSYS || errno == EINVAL))
			return copy_rw(src, dst, &off, len);
		if (r < 0)
			return -errno;
		if (r == 0)
			return -EIO; /* src is shorter than len */
		len -= (size_t)r;
	}
	return 0;
}

/* The contents of a replacement: bytes in memory (p), or the first len bytes of a file. */
struct source {
	const void *p;
	int fd;
	size_t len;
};

static int replace(int dirfd, const char *name, const struct source *src, int excl)
{
	char tmp[300];
	/* unique: two threads may install the same object at once (parallel reads of a fresh cache)
	 */
	snprintf(tmp, sizeof(tmp), ".%s.%08x.tmp", name, random_u32());
	int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	int err =
		src->p ? file_write_all(fd, src->p, src->len) : file_copy_fd(src->fd, fd, src->len);
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

int file_replace_at(int dirfd, const char *name, const void *p, size_t len, int excl)
{
	static const unsigned char none[1];
	const struct source src = {.p = p ? p : none, .fd = -1, .len = len};
	return replace(dirfd, name, &src, excl);
}

int file_replace_copy_at(int dirfd, const char *name, int fd, size_t len, int excl)
{
	const struct source src = {.p = NULL, .fd = fd, .len = len};
	return replace(dirfd, name, &src, excl);
}

int file_create_fresh(int dirfd, const char *name)
{
	if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
		return -errno;
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	return fd < 0 ? -errno : fd;
}

int file_install_fresh(int fd, int dirfd, const char *tmp, const char *name, int err)
{
	close(fd);
	if (!err && renameat(dirfd, tmp, dirfd, name) < 0)
		err = -errno;
	if (err)
		unlinkat(dirfd, tmp, 0);
	return err;
}

/* known: the `known` journal's I/O (see known.h). Opened with O_NOFOLLOW; created with O_EXCL;
 * rewritten atomically (tmp, fsync, rename). Must never act on a torn last record. */
#include "cache/known.h"
#include "cache/folder.h"
#include "format/known.h"
#include "lib/fileio.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#define KNOWN_FILE "known"

/* Cuts a torn last record off, so that the next append starts a whole one. */
static int cut_torn(struct store *s, size_t len)
{
	size_t whole = len - (len - KNOWN_HEADER_BYTES) % KNOWN_RECORD_BYTES;
	if (whole == len)
		return 0;
	int fd = openat(s->dirfd, KNOWN_FILE, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	int err = fd < 0 ? -errno : ftruncate(fd, (off_t)whole) < 0 ? -errno : 0;
	if (fd >= 0)
		close(fd);
	return err;
}

int cache_known_load(struct store *s, int (*fn)(const struct oname *n, bool add, void *arg),
		     void *arg, size_t *records)
{
	struct buf b = {0};
	*records = 0;
	int err = file_read_nofollow_at(s->dirfd, KNOWN_FILE, &b, CACHE_FILE_MAX);
	if (!err && known_header_check(b.data, b.len))
		err = -EBADMSG;
	for (size_t at = KNOWN_HEADER_BYTES; !err && at + KNOWN_RECORD_BYTES <= b.len;
	     at += KNOWN_RECORD_BYTES) {
		struct oname n;
		bool add;
		err = known_record_decode(b.data + at, &n, &add) ? -EBADMSG : fn(&n, add, arg);
		*records += !err;
	}
	if (!err)
		err = cut_torn(s, b.len);
	buf_free(&b);
	return err;
}

static int open_journal(struct store *s)
{
	int fd = openat(s->dirfd, KNOWN_FILE, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0 || errno != ENOENT)
		return fd < 0 ? -errno : fd;
	struct buf hdr = {0};
	buf_put(&hdr, KNOWN_MAGIC, KNOWN_HEADER_BYTES);
	int err = hdr.err ? -ENOMEM : file_replace_at(s->dirfd, KNOWN_FILE, hdr.data, hdr.len, 1);
	buf_free(&hdr);
	if (err && err != -EEXIST)
		return err;
	fd = openat(s->dirfd, KNOWN_FILE, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int cache_known_append(struct store *s, const struct oname *n, bool add)
{
	unsigned char rec[KNOWN_RECORD_BYTES];
	known_record_encode(rec, n, add);
	int fd = open_journal(s);
	if (fd < 0)
		return fd;
	int err = file_write_all(fd, rec, sizeof(rec)); /* one write: O_APPEND keeps it whole */
	close(fd);
	return err;
}

int cache_known_sync(struct store *s)
{
	int fd = openat(s->dirfd, KNOWN_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	int err = fdatasync(fd) < 0 ? -errno : 0;
	close(fd);
	return err;
}

int cache_known_rewrite(struct store *s, const struct oname *names, size_t n)
{
	struct buf b = {0};
	unsigned char rec[KNOWN_RECORD_BYTES];
	buf_put(&b, KNOWN_MAGIC, KNOWN_HEADER_BYTES);
	for (size_t k = 0; k < n; k++) {
		known_record_encode(rec, &names[k], true);
		buf_put(&b, rec, sizeof(rec));
	}
	int err = b.err ? -ENOMEM : file_replace_at(s->dirfd, KNOWN_FILE, b.data, b.len, 0);
	buf_free(&b);
	return err;
}

/* freed: the freed.log journal's I/O (see freed.h); its records are coded by format/freed.c.
 * Appends are fdatasynced under the store's freed_mu; rewrites are atomic (tmp, rename). Must
 * never follow a symlink at freed.log, and never act on the bytes of a torn last record. */
#include "cache/freed.h"
#include "cache/folder.h"
#include "format/freed.h"
#include "lib/fileio.h"
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#define FREED_LOG     "freed.log"
#define FREED_LOG_MAX ((size_t)1 << 30)

/* Opens freed.log for appending; *created says whether it had to be made. */
static int open_log(struct store *s, bool *created)
{
	int fd = openat(s->dirfd, FREED_LOG, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
	*created = false;
	if (fd < 0 && errno == ENOENT) {
		fd = openat(s->dirfd, FREED_LOG,
			    O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		*created = true;
	}
	return fd < 0 ? -errno : fd;
}

int cache_freed_append(struct store *s, uint64_t gen, const struct oname *names, size_t n)
{
	if (n == 0)
		return 0;
	struct buf b = {0};
	int err = freed_record_encode(&b, gen, names, n);
	if (!err)
		err = b.err;
	if (err) {
		buf_free(&b);
		return err;
	}
	pthread_mutex_lock(&s->freed_mu);
	bool created;
	int fd = open_log(s, &created);
	err = fd < 0 ? fd : file_write_all(fd, b.data, b.len);
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

/* Walks freed.log; keep (when not NULL) collects the records that are not due. */
static int freed_walk(struct store *s, uint64_t upto, bool newer,
		      int (*fn)(const struct oname *, void *), void *arg, struct buf *keep,
		      bool *changed)
{
	struct buf log = {0};
	int err = file_read_nofollow_at(s->dirfd, FREED_LOG, &log, FREED_LOG_MAX);
	if (err == -ENOENT)
		return 0;
	size_t at = 0;
	struct freed_record rec;
	while (!err && freed_record_decode(log.data + at, log.len - at, &rec) == 0) {
		bool due = newer ? rec.gen > upto : rec.gen <= upto;
		for (uint32_t k = 0; due && fn && !err && k < rec.count; k++)
			err = fn((const struct oname *)(rec.names + (size_t)k * NAME_BYTES), arg);
		if (keep && !due)
			buf_put(keep, log.data + at, rec.len);
		*changed |= due;
		at += rec.len;
	}
	*changed |= at != log.len; /* a torn last record */
	buf_free(&log);
	return err;
}

int cache_freed_each(struct store *s, uint64_t upto, int (*fn)(const struct oname *n, void *arg),
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
	if (!err && keep.err)
		err = keep.err;
	if (!err && changed)
		err = file_replace_at(s->dirfd, FREED_LOG, keep.data ? (void *)keep.data : "",
				      keep.len, 0);
	buf_free(&keep);
	return err;
}

int cache_freed_drop(struct store *s, uint64_t upto)
{
	pthread_mutex_lock(&s->freed_mu);
	int err = freed_rewrite(s, upto, false);
	pthread_mutex_unlock(&s->freed_mu);
	return err;
}

int cache_freed_trim(struct store *s, uint64_t max_gen)
{
	pthread_mutex_lock(&s->freed_mu);
	int err = freed_rewrite(s, max_gen, true);
	pthread_mutex_unlock(&s->freed_mu);
	return err;
}

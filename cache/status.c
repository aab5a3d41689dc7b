/* status: the status file's I/O (see status.h): encoded by format/status.c, written under a
 * fresh .status.tmp (created new, never through a symlink) and renamed over "status".
 * Must never block the sync on the disk: no fsync, and a failed write is simply skipped. */
#include "cache/status.h"
#include "cache/folder.h"
#include "lib/fileio.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#define STATUS_FILE	"status"
#define STATUS_TMP	".status.tmp"
#define STATUS_READ_MAX 65536

int cache_status_write(struct store *s, const struct status *st)
{
	char text[STATUS_TEXT_MAX];
	int n = status_encode(st, text, sizeof(text));
	if (n < 0)
		return n;
	int fd = file_create_fresh(s->dirfd, STATUS_TMP);
	if (fd < 0)
		return fd;
	int err = file_write_all(fd, text, (size_t)n);
	return file_install_fresh(fd, s->dirfd, STATUS_TMP, STATUS_FILE, err);
}

int cache_status_read(struct store *s, struct status *st)
{
	struct buf b = {0};
	int err = file_read_nofollow_at(s->dirfd, STATUS_FILE, &b, STATUS_READ_MAX);
	if (!err)
		err = status_parse((const char *)b.data, b.len, st);
	buf_free(&b);
	return err;
}

/* reserve: the reserve file (see reserve.h), allocated under reserve.tmp (created new, never
 * through a symlink) and renamed into place.
 * Must never leave reserve.tmp behind after a failure. */
#include "cache/reserve.h"
#include "cache/folder.h"
#include "lib/fileio.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#define RESERVE_FILE "reserve"
#define RESERVE_TMP  "reserve.tmp"

int cache_reserve_fill(struct store *s)
{
	struct stat st;
	if (fstatat(s->dirfd, RESERVE_FILE, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
	    (size_t)st.st_blocks * 512 >= CACHE_RESERVE)
		return 0;
	int fd = file_create_fresh(s->dirfd, RESERVE_TMP);
	if (fd < 0)
		return fd;
	int err = -posix_fallocate(fd, 0, (off_t)CACHE_RESERVE);
	return file_install_fresh(fd, s->dirfd, RESERVE_TMP, RESERVE_FILE, err);
}

int cache_reserve_release(struct store *s)
{
	return unlinkat(s->dirfd, RESERVE_FILE, 0) < 0 ? -errno : 0;
}

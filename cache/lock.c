/* lock: the mount lock (see lock.h). The lock file's descriptor stays inside the store handle.
 * Must never create the lock file for a watcher, nor keep a watcher's shared lock. */
#include "cache/lock.h"
#include "cache/folder.h"
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#define LOCK_FILE "lock"

static int open_lock(struct store *s, int flags)
{
	if (s->lockfd >= 0)
		close(s->lockfd);
	s->lockfd = openat(s->dirfd, LOCK_FILE, flags | O_NOFOLLOW | O_CLOEXEC, 0600);
	return s->lockfd < 0 ? -errno : 0;
}

int cache_lock_take(struct store *s)
{
	int err = open_lock(s, O_RDWR | O_CREAT);
	if (err)
		return err;
	if (flock(s->lockfd, LOCK_EX | LOCK_NB) < 0)
		return errno == EWOULDBLOCK ? -EBUSY : -errno;
	return 0;
}

int cache_lock_watch(struct store *s)
{
	return open_lock(s, O_RDONLY);
}

bool cache_lock_held(struct store *s)
{
	if (flock(s->lockfd, LOCK_SH | LOCK_NB) < 0)
		return errno == EWOULDBLOCK;
	flock(s->lockfd, LOCK_UN);
	return false;
}

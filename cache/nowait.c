/* nowait: the nowait flag (see nowait.h), an empty file whose presence is the flag.
 * Must never follow a symlink planted at its name. */
#include "cache/nowait.h"
#include "cache/folder.h"
#include "lib/fileio.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#define NOWAIT_FILE "nowait"

int cache_nowait_set(struct store *s)
{
	return file_replace_at(s->dirfd, NOWAIT_FILE, "", 0, 0);
}

bool cache_nowait_isset(struct store *s)
{
	struct stat st;
	return fstatat(s->dirfd, NOWAIT_FILE, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

void cache_nowait_clear(struct store *s)
{
	unlinkat(s->dirfd, NOWAIT_FILE, 0);
}

/* cmd_umount: `coffer umount` unmounts a coffer mount and waits until its daemon has made the
 * final commit, mirrored it to the vault and exited (it holds the cache lock until then),
 * showing progress on a terminal. --no-wait stops waiting for the upload and says what is left.
 * Must never report success before the daemon has released the cache. */
#include "cli/cli.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

static const char usage[] =
	"usage: coffer umount [--no-wait] MOUNTPOINT\n"
	"\n"
	"Commits, unmounts, and waits until the vault holds the final state.\n"
	"  --no-wait  do not wait for the upload; it resumes at the next mount\n";

/* Reads one number field from the daemon's status file (a flat JSON object). */
static long long status_field(int dirfd, const char *field)
{
	struct buf b = {0};
	char pat[64];
	long long v = -1;
	if (file_read_at(dirfd, "status", &b, 65536) == 0) {
		buf_u8(&b, 0);
		snprintf(pat, sizeof(pat), "\"%s\":", field);
		char *p = strstr((char *)b.data, pat);
		if (p)
			v = strtoll(p + strlen(pat), NULL, 10);
	}
	buf_free(&b);
	return v;
}

static void show_progress(int dirfd, bool final)
{
	long long objs = status_field(dirfd, "objects_waiting");
	long long bytes = status_field(dirfd, "bytes_waiting");
	long long rate = status_field(dirfd, "upload_rate");
	if (objs < 0)
		return;
	if (final) {
		if (objs > 0)
			fprintf(stderr,
				"coffer: %lld objects (%lld bytes) are not on the vault yet; they upload "
				"at the next mount\n",
				objs, bytes);
		return;
	}
	fprintf(stderr, "\rcoffer: uploading: %lld objects, %.1f MiB left, %.1f MiB/s   ", objs,
		(double)bytes / 1048576, (double)rate / 1048576);
}

/* Waits for the daemon to let go of the cache lock, showing progress on a terminal. */
static void wait_daemon(int dirfd, int lockfd)
{
	bool tty = isatty(2);
	bool shown = false;
	while (flock(lockfd, LOCK_SH | LOCK_NB) < 0) {
		if (tty) {
			show_progress(dirfd, false);
			shown = true;
		}
		usleep(200000);
	}
	flock(lockfd, LOCK_UN);
	if (shown)
		fputc('\n', stderr);
}

int cmd_umount(int argc, char **argv)
{
	struct opts o;
	char mp[PATH_MAX], cache[4096];
	if (parse_opts(argc, argv, &o, usage) || o.nargs != 1)
		die_usage(usage);
	if (!realpath(o.args[0], mp)) {
		fprintf(stderr, "coffer: '%s': %s\n", o.args[0], strerror(errno));
		return 1;
	}
	if (mounted_cache(mp, cache, sizeof(cache))) {
		fprintf(stderr, "coffer: nothing of coffer's is mounted on '%s'\n", mp);
		return 1;
	}
	int dirfd = open(cache, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int lockfd = dirfd < 0 ? -1 : openat(dirfd, "lock", O_RDONLY | O_CLOEXEC);
	if (lockfd < 0) {
		fprintf(stderr, "coffer: cannot open the cache '%s' of %s\n", cache, mp);
		return 1;
	}
	if (o.no_wait)
		file_replace_at(dirfd, "nowait", "", 0, 0);
	if (run_fusermount(mp, false, false) != 0) {
		fprintf(stderr, "coffer: could not unmount '%s' (is a file on it still open?)\n",
			mp);
		unlinkat(dirfd, "nowait", 0);
		return 1;
	}
	wait_daemon(dirfd, lockfd);
	show_progress(dirfd, true);
	unlinkat(dirfd, "nowait", 0);
	close(lockfd);
	close(dirfd);
	return 0;
}

/* cmd_umount: `coffer umount` unmounts a coffer mount and waits until its daemon has made the
 * final commit, mirrored it to the vault and exited (it holds the cache lock until then),
 * showing progress on a terminal. --no-wait stops waiting for the upload and says what is left.
 * Must never report success before the daemon has released the cache. */
#include "cli/cli.h"
#include "cache/lock.h"
#include "cache/nowait.h"
#include "cache/status.h"
#include <inttypes.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char usage[] =
	"usage: coffer umount [--no-wait] MOUNTPOINT\n"
	"\n"
	"Commits, unmounts, and waits until the vault holds the final state.\n"
	"  --no-wait  do not wait for the upload; it resumes at the next mount\n";

static void show_progress(struct store *c, bool final)
{
	struct status st;
	if (cache_status_read(c, &st))
		return;
	if (final) {
		if (st.objects_waiting > 0)
			fprintf(stderr,
				"coffer: %" PRIu64 " objects (%" PRIu64
				" bytes) are not on the vault yet; they upload "
				"at the next mount\n",
				st.objects_waiting, st.bytes_waiting);
		return;
	}
	fprintf(stderr, "\rcoffer: uploading: %" PRIu64 " objects, %.1f MiB left, %.1f MiB/s   ",
		st.objects_waiting, (double)st.bytes_waiting / 1048576, st.upload_rate / 1048576);
}

/* Waits for the daemon to let go of the cache lock, showing progress on a terminal. */
static void wait_daemon(struct store *c)
{
	bool tty = isatty(2);
	bool shown = false;
	while (cache_lock_held(c)) {
		if (tty) {
			show_progress(c, false);
			shown = true;
		}
		usleep(200000);
	}
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
	struct store *c;
	if (store_open_existing(&c, cache) || cache_lock_watch(c)) {
		fprintf(stderr, "coffer: cannot open the cache '%s' of %s\n", cache, mp);
		store_close(c);
		return 1;
	}
	if (o.no_wait)
		cache_nowait_set(c);
	if (run_fusermount(mp, false, false) != 0) {
		fprintf(stderr, "coffer: could not unmount '%s' (is a file on it still open?)\n",
			mp);
		cache_nowait_clear(c);
		store_close(c);
		return 1;
	}
	wait_daemon(c);
	show_progress(c, true);
	cache_nowait_clear(c);
	store_close(c);
	return 0;
}

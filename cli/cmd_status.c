/* cmd_status: `coffer status MOUNTPOINT` prints the sync state that the mount's daemon keeps in
 * its cache (status file): generations, what waits to upload, rate, last error, cache size.
 * Must never print anything from inside the vault: names, sizes of files. */
#include "cli/cli.h"
#include "cache/status.h"
#include "sync/sync.h"
#include <inttypes.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
	"usage: coffer status [--json] MOUNTPOINT\n"
	"\n"
	"Prints the local and vault generation, what waits to upload, the upload\n"
	"rate, the last error and the cache size, one 'key: value' per line\n"
	"(or the daemon's JSON with --json).\n";

static void print_time(int64_t t, const char *label)
{
	char when[64] = "never";
	if (t > 0 && t <= INT64_MAX / 1000000000)
		sync_format_time(t * 1000000000, when, sizeof(when));
	else if (t > 0) /* beyond what a time in ns holds: the status file was not the daemon's */
		snprintf(when, sizeof(when), "%" PRId64 " s since the epoch", t);
	printf("%s: %s\n", label, when);
}

static void print_text(const char *label, const char *v)
{
	printf("%s: %s\n", label, v[0] ? v : "none");
}

static void print_u64(const char *label, uint64_t v)
{
	printf("%s: %" PRIu64 "\n", label, v);
}

static void print_human(const struct status *st, const char *mp)
{
	printf("mountpoint: %s\n", mp);
	print_text("state", st->state);
	print_text("vault", st->remote);
	print_u64("local generation", st->local_generation);
	print_u64("vault generation", st->remote_generation);
	print_text("vault root", st->remote_root);
	print_u64("objects waiting", st->objects_waiting);
	print_u64("bytes waiting", st->bytes_waiting);
	printf("upload rate (bytes/s): %.0f\n", st->upload_rate);
	print_u64("objects uploaded", st->objects_uploaded);
	print_u64("bytes uploaded", st->bytes_uploaded);
	print_u64("cache bytes", st->cache_bytes);
	print_text("last error", st->last_error);
	print_text("last merge", st->last_merge);
	print_time(st->remote_committed, "vault generation committed");
	print_time(st->last_error_time, "last error time");
}

/* Reads the status of the cache folder at path. */
static int read_status(const char *path, struct status *st)
{
	struct store *c;
	int err = store_open_existing(&c, path);
	if (!err)
		err = cache_status_read(c, st);
	store_close(c);
	return err;
}

int cmd_status(int argc, char **argv)
{
	struct opts o;
	char mp[PATH_MAX], cache[4096];
	if (parse_opts(argc, argv, &o, usage) || o.nargs != 1)
		die_usage(usage);
	if (!realpath(o.args[0], mp) || mounted_cache(mp, cache, sizeof(cache))) {
		fprintf(stderr, "coffer: nothing of coffer's is mounted on '%s'\n", o.args[0]);
		return 1;
	}
	struct status st;
	char text[STATUS_TEXT_MAX];
	int err = read_status(cache, &st);
	if (err == -EINVAL) {
		fprintf(stderr, "coffer: the status of '%s' is damaged\n", mp);
		return 1;
	}
	if (err) {
		fprintf(stderr, "coffer: no status for '%s' yet (%s)\n", mp, strerror(-err));
		return 1;
	}
	if (o.json && status_encode(&st, text, sizeof(text)) > 0)
		fputs(text, stdout);
	else if (!o.json)
		print_human(&st, mp);
	return 0;
}

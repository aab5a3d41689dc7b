/* cmd_status: `coffer status MOUNTPOINT` prints the sync state that the mount's daemon keeps in
 * its cache (status file): generations, what waits to upload, rate, last error, cache size.
 * Must never print anything from inside the vault: names, sizes of files. */
#include "cli/cli.h"
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

/* The value text of "key": in a flat JSON object, without quotes. */
static void field(const char *json, const char *key, char *out, size_t cap)
{
	char pat[64];
	snprintf(pat, sizeof(pat), "\"%s\":", key);
	const char *p = strstr(json, pat);
	out[0] = 0;
	if (!p)
		return;
	p += strlen(pat);
	bool quoted = *p == '"';
	p += quoted;
	size_t n = 0;
	for (; *p && n + 1 < cap; p++) {
		if (quoted && *p == '\\' && p[1]) {
			out[n++] = *++p;
			continue;
		}
		if (quoted ? *p == '"' : (*p == ',' || *p == '}'))
			break;
		out[n++] = *p;
	}
	out[n] = 0;
}

static void print_time(const char *json, const char *key, const char *label)
{
	char v[64], when[64] = "never";
	field(json, key, v, sizeof(v));
	time_t t = (time_t)strtoll(v, NULL, 10);
	struct tm tm;
	if (t > 0)
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %Z", localtime_r(&t, &tm));
	printf("%s: %s\n", label, when);
}

static void print_human(const char *json, const char *mp)
{
	static const char *keys[][2] = {
		{"state", "state"},
		{"remote", "vault"},
		{"local_generation", "local generation"},
		{"remote_generation", "vault generation"},
		{"objects_waiting", "objects waiting"},
		{"bytes_waiting", "bytes waiting"},
		{"upload_rate", "upload rate (bytes/s)"},
		{"objects_uploaded", "objects uploaded"},
		{"bytes_uploaded", "bytes uploaded"},
		{"cache_bytes", "cache bytes"},
		{"last_error", "last error"},
	};
	char v[512];
	printf("mountpoint: %s\n", mp);
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		field(json, keys[k][0], v, sizeof(v));
		printf("%s: %s\n", keys[k][1], v[0] ? v : "none");
	}
	print_time(json, "remote_committed", "vault generation committed");
	print_time(json, "last_error_time", "last error time");
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
	int dirfd = open(cache, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct buf b = {0};
	int err = dirfd < 0 ? -errno : file_read_at(dirfd, "status", &b, 65536);
	if (dirfd >= 0)
		close(dirfd);
	if (err) {
		fprintf(stderr, "coffer: no status for '%s' yet (%s)\n", mp, strerror(-err));
		return 1;
	}
	buf_u8(&b, 0);
	if (o.json)
		fputs((char *)b.data, stdout);
	else
		print_human((char *)b.data, mp);
	buf_free(&b);
	return 0;
}

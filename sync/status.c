/* status: the sync's statistics as the outside sees them: the last error (logged once when it
 * changes) and the status file that `coffer status` and `coffer umount` read.
 * Must never block on the vault: it is called with the sync's lock held. */
#include "sync/engine.h"
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include "fs/log.h"

void sync_error(struct sync *s, int err, const char *what)
{
	char msg[256];
	snprintf(msg, sizeof(msg), "%s: %s", what,
		 err == -EHOSTDOWN ? "remote unreachable"
		 : err == -EAGAIN  ? "server error or timeout"
				   : strerror(-err));
	if (strcmp(msg, s->stats.last_error) != 0)
		log_msg(LOG_WARNING, "sync: %s", msg);
	snprintf(s->stats.last_error, sizeof(s->stats.last_error), "%s", msg);
	s->stats.last_error_time = time(NULL);
	s->stats.failing = true;
}

void sync_report(struct sync *s, int err, const char *what)
{
	pthread_mutex_lock(&s->mu);
	sync_error(s, err, what);
	sync_write_status(s);
	pthread_mutex_unlock(&s->mu);
}

void sync_format_time(int64_t ns, char *out, size_t cap)
{
	time_t t = (time_t)(ns / 1000000000);
	struct tm tm;
	strftime(out, cap, "%Y-%m-%d %H:%M:%S %Z", localtime_r(&t, &tm));
}

/* Copies s into out as the inside of a JSON string. */
static void json_str(char *out, size_t cap, const char *s)
{
	size_t o = 0;
	for (; *s && o + 7 < cap; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			o += (size_t)snprintf(out + o, cap - o, "\\%c", c);
		else if (c < 0x20)
			o += (size_t)snprintf(out + o, cap - o, "\\u%04x", c);
		else
			out[o++] = (char)c;
	}
	out[o] = 0;
}

static const char *state_name(const struct sync *s)
{
	if (s->v.conflict)
		return "conflict";
	if (s->stats.failing)
		return "retrying";
	if (htab_count(s->q.pending) || s->q.newest_gen > s->v.gen)
		return "uploading";
	return "idle";
}

void sync_write_status(struct sync *s)
{
	char text[2048], url[512], error[512];
	json_str(url, sizeof(url), s->r->url);
	json_str(error, sizeof(error), s->stats.last_error);
	int n = snprintf(text, sizeof(text),
			 "{\"state\":\"%s\",\"remote\":\"%s\",\"local_generation\":%" PRIu64
			 ",\"remote_generation\":%" PRIu64 ",\"remote_committed\":%lld"
			 ",\"objects_waiting\":%zu"
			 ",\"bytes_waiting\":%" PRIu64 ",\"upload_rate\":%.0f"
			 ",\"objects_uploaded\":%" PRIu64 ",\"bytes_uploaded\":%" PRIu64
			 ",\"cache_bytes\":%" PRIu64
			 ",\"last_error\":\"%s\",\"last_error_time\":%lld"
			 ",\"pid\":%d}\n",
			 state_name(s), url, s->q.newest_gen, s->v.gen,
			 (long long)(s->v.time / 1000000000), htab_count(s->q.pending),
			 s->q.bytes_waiting, s->stats.rate, s->stats.objects_sent,
			 s->stats.bytes_sent, s->stats.cache_bytes, error,
			 (long long)s->stats.last_error_time, (int)getpid());
	int fd =
		openat(s->st->dirfd, ".status.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	bool ok = write(fd, text, (size_t)n) == n;
	close(fd);
	if (ok)
		renameat(s->st->dirfd, ".status.tmp", s->st->dirfd, "status");
}

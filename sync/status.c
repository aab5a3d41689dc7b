/* status: the sync's statistics as the outside sees them: the last error (logged once when it
 * changes) and the status file that `coffer status` and `coffer umount` read.
 * Must never block on the vault: it is called with the sync's lock held. */
#include "sync/engine.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include "cache/status.h"
#include "lib/log.h"

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
	struct status st = {
		.local_generation = s->q.newest_gen,
		.remote_generation = s->v.gen,
		.remote_committed = s->v.time / 1000000000,
		.objects_waiting = htab_count(s->q.pending),
		.bytes_waiting = s->q.bytes_waiting,
		.upload_rate = s->stats.rate,
		.objects_uploaded = s->stats.objects_sent,
		.bytes_uploaded = s->stats.bytes_sent,
		.cache_bytes = s->stats.cache_bytes,
		.last_error_time = s->stats.last_error_time,
		.pid = (int)getpid(),
	};
	snprintf(st.state, sizeof(st.state), "%s", state_name(s));
	snprintf(st.remote, sizeof(st.remote), "%s", s->r->url);
	snprintf(st.last_error, sizeof(st.last_error), "%s", s->stats.last_error);
	snprintf(st.last_merge, sizeof(st.last_merge), "%s", s->stats.last_merge);
	if (s->v.has_root)
		chain_short_hash(s->v.hash, st.remote_root);
	cache_status_write(s->st, &st);
}

/* follow: read-only mounts: every 5 s, reads the vault's root and adopts it when it is newer
 * than the one being served (the filesystem reloads its tree from it).
 * Must never adopt a root older than one this cache has seen (rollback), and never write to
 * the vault. */
#include "sync/engine.h"
#include "sync/remote/keys.h"
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include "cache/files.h"
#include "lib/log.h"

static void adopt(struct sync *s, const struct buf *R, const struct root_info *ri, const char *tag)
{
	if (cache_root_replace(s->st, R->data, R->len) || fs_reload(s->fs))
		return;
	log_msg(LOG_INFO, "following generation %" PRIu64, ri->gen);
	pthread_mutex_lock(&s->mu);
	s->v.gen = s->q.newest_gen = ri->gen;
	s->v.time = ri->time_ns;
	s->state.seen = s->state.synced = ri->gen;
	snprintf(s->v.root_tag, sizeof(s->v.root_tag), "%s", tag);
	pthread_mutex_unlock(&s->mu);
	state_save(s->st, &s->state);
}

/* 0 when the vault answered. */
static int follow_round(struct sync *s)
{
	struct buf R = {0};
	struct root_info ri;
	char tag[TAG_MAX];
	int err = s->r->ops->get(s->r, remote_key_root(), REMOTE_ROOT_MAX, &R, tag);
	if (!err && strcmp(tag, s->v.root_tag) != 0 &&
	    root_peek(s->keys, s->vid, R.data, R.len, &ri) == 0) {
		if (ri.gen < s->state.seen)
			log_msg(LOG_ERR,
				"rollback detected: the vault holds generation %" PRIu64
				", this cache has seen %" PRIu64 "; keeping the newer",
				ri.gen, s->state.seen);
		else if (ri.gen > s->v.gen)
			adopt(s, &R, &ri, tag);
	} else if (err && err != -ENOENT) {
		pthread_mutex_lock(&s->mu);
		sync_error(s, err, "following the vault");
		pthread_mutex_unlock(&s->mu);
	}
	buf_free(&R);
	return err == -ENOENT ? 0 : err;
}

void *follow_main(void *arg)
{
	struct sync *s = arg;
	pthread_mutex_lock(&s->mu);
	while (!s->stop) {
		pthread_mutex_unlock(&s->mu);
		int err = follow_round(s);
		pthread_mutex_lock(&s->mu);
		if (!err)
			s->stats.failing = false;
		sync_write_status(s);
		sync_wait(s, 5);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

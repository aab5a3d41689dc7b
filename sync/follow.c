/* follow: read-only mounts: every 5 s, reads the vault's root and adopts it when it is newer
 * than the one being served (the filesystem reloads its tree from it).
 * Must never adopt a root that does not descend from the last one seen there (fork or
 * rollback: chain.c), and never write to the vault. */
#include "sync/engine.h"
#include "sync/remote/keys.h"
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include "cache/files.h"
#include "lib/log.h"

static void adopt(struct sync *s, const struct buf *R, const struct root_plain *rp,
		  const uint8_t hash[ROOT_HASH_BYTES], const char *tag)
{
	if (cache_root_replace(s->st, R->data, R->len) || fs_reload(s->fs))
		return;
	log_msg(LOG_INFO, "following generation %" PRIu64, rp->gen);
	pthread_mutex_lock(&s->mu);
	chain_seen(s, rp, hash);
	s->q.newest_gen = rp->gen;
	s->state.synced = rp->gen;
	memcpy(s->state.synced_hash, hash, ROOT_HASH_BYTES);
	snprintf(s->v.root_tag, sizeof(s->v.root_tag), "%s", tag);
	pthread_mutex_unlock(&s->mu);
	state_save(s->st, s->vid, &s->state);
}

/* 0 when the vault answered. A root that does not descend from the last one seen is refused
 * (logged once per root, shown in the status) and the served tree stays. */
static int follow_round(struct sync *s)
{
	struct buf R = {0};
	struct root_plain rp = {0};
	uint8_t hash[ROOT_HASH_BYTES];
	char tag[TAG_MAX];
	int err = s->r->ops->get(s->r, remote_key_root(), REMOTE_ROOT_MAX, &R, tag);
	bool fresh = !err && strcmp(tag, s->v.root_tag) != 0 && strcmp(tag, s->v.refused_tag) != 0;
	int oerr = fresh ? chain_open(s, R.data, R.len, &rp, hash) : 0;
	if (fresh && oerr == -EPROTONOSUPPORT) {
		snprintf(s->v.refused_tag, sizeof(s->v.refused_tag), "%s", tag);
		log_msg(LOG_ERR,
			"sync: the root on %s: %s; this mount keeps serving generation %" PRIu64,
			s->r->url, FORMAT_NEWER_MSG, s->v.gen);
		pthread_mutex_lock(&s->mu);
		sync_error(s, oerr, "following the vault (its root is of a newer format)");
		pthread_mutex_unlock(&s->mu);
	} else if (fresh && oerr == 0) {
		int cerr = chain_check(s, &rp, hash, true);
		if (cerr) {
			snprintf(s->v.refused_tag, sizeof(s->v.refused_tag), "%s", tag);
			pthread_mutex_lock(&s->mu);
			sync_error(s, cerr,
				   cerr == -ESTALE ? "refusing the vault's root (fork or "
						     "rollback detected)"
						   : "checking the vault's root");
			pthread_mutex_unlock(&s->mu);
		} else if (rp.gen > s->v.gen) {
			adopt(s, &R, &rp, hash, tag);
		}
		if (cerr && cerr != -ESTALE && cerr != -EBADMSG)
			s->v.refused_tag[0] = 0; /* the vault failed: try again */
	} else if (err && err != -ENOENT) {
		pthread_mutex_lock(&s->mu);
		sync_error(s, err, "following the vault");
		pthread_mutex_unlock(&s->mu);
	}
	root_plain_free(&rp);
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

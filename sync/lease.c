/* lease: this device's hold on the vault's writer lease (docs/design.md, "One writer"): taking
 * it (at attach, or at the first round that reaches the vault after an offline attach),
 * renewing it while mounted, and releasing it at unmount. The lease object's bytes and I/O are
 * format/lease.c's and state.c's.
 * Must never replace or delete a live lease of another device. */
#include "sync/engine.h"
#include "sync/remote/keys.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include "lib/log.h"

void sync_lease_holder(const struct lease *l, char *out, size_t cap)
{
	char when[64];
	sync_format_time((int64_t)l->expiry * 1000000000, when, sizeof(when));
	snprintf(out, cap, "%s (its lease expires %s)", l->host[0] ? l->host : "another device",
		 when);
}

int sync_lease_take(struct sync *s, struct lease *holder)
{
	char tag[TAG_MAX], mine[TAG_MAX];
	int err = lease_get(s->r, s->keys, s->vid, holder, tag);
	if (!err && memcmp(holder->device, s->state.device, DEVICE_ID_BYTES) != 0 &&
	    holder->expiry > time(NULL))
		return -EBUSY;
	if (err && err != -ENOENT && err != -EBADMSG)
		return err;
	err = lease_put(s->r, s->keys, s->vid, s->state.device, s->o.lease_ttl,
			err == -ENOENT ? NULL : tag, mine);
	if (err)
		return err;
	pthread_mutex_lock(&s->mu);
	s->v.has_lease = true;
	s->v.lease_renewed = time(NULL);
	snprintf(s->v.lease_tag, sizeof(s->v.lease_tag), "%s", mine);
	pthread_mutex_unlock(&s->mu);
	return 0;
}

/* A writer that attached without the vault takes the lease once it reaches it; while another
 * device holds it, uploads wait (the round fails and is retried with backoff). */
static int take_late(struct sync *s)
{
	struct lease l;
	int err = sync_lease_take(s, &l);
	if (!err) {
		log_msg(LOG_INFO, "sync: %s is reachable: this device holds the writer lease",
			s->r->url);
		return 0;
	}
	if (err == -EBUSY) {
		char who[LEASE_HOST_MAX + 96], what[LEASE_HOST_MAX + 160];
		sync_lease_holder(&l, who, sizeof(who));
		snprintf(what, sizeof(what), "waiting for the writer lease held by %s", who);
		sync_report(s, err, what);
	} else {
		sync_report(s, err, "taking the writer lease");
	}
	return err;
}

int sync_lease_renew(struct sync *s)
{
	pthread_mutex_lock(&s->mu);
	bool has = s->v.has_lease;
	bool due = time(NULL) - s->v.lease_renewed >= (time_t)s->o.lease_ttl / 3;
	char expect[TAG_MAX];
	snprintf(expect, sizeof(expect), "%s", s->v.lease_tag);
	pthread_mutex_unlock(&s->mu);
	if (!has)
		return take_late(s);
	if (!due)
		return 0;
	char tag[TAG_MAX];
	int err = lease_put(s->r, s->keys, s->vid, s->state.device, s->o.lease_ttl, expect, tag);
	pthread_mutex_lock(&s->mu);
	if (!err) {
		snprintf(s->v.lease_tag, sizeof(s->v.lease_tag), "%s", tag);
		s->v.lease_renewed = time(NULL);
	} else {
		if (err == -ESTALE) {
			s->v.conflict = true;
			log_msg(LOG_ERR,
				"sync: another device took the writer lease; uploads stop, "
				"local data is kept");
		}
		sync_error(s, err, "renewing the lease");
		sync_write_status(s);
	}
	pthread_mutex_unlock(&s->mu);
	return err;
}

/* The lease may be released only while it is still this device's own version: after another
 * device took it (a renewal lost, or an expired lease replaced), deleting it would let a third
 * writer in beside that device. The vault has no conditional delete, so this check narrows the
 * window to one request. */
static bool still_ours(struct sync *s)
{
	struct lease l;
	char tag[TAG_MAX];
	if (s->v.conflict || lease_get(s->r, s->keys, s->vid, &l, tag))
		return false;
	return memcmp(l.device, s->state.device, sizeof(l.device)) == 0 &&
	       strcmp(tag, s->v.lease_tag) == 0;
}

void sync_lease_release(struct sync *s)
{
	if (s->v.has_lease && still_ours(s) && s->r->ops->del(s->r, remote_key_lease()) == 0)
		s->v.has_lease = false;
}

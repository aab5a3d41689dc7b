/* known: the set of objects this device knows to be in the vault (vault_view.objects): those it
 * uploaded, or fetched and authenticated, kept durably in the cache's `known` journal so that it
 * survives a remount. A listing of the vault never enters it: a forged listing can neither skip
 * an upload nor allow the eviction of the only copy. While the journal is intact, a mount never
 * lists the vault (sync.c asks v.known_lost).
 * Must never add a name before the vault holds its bytes. */
#include "sync/engine.h"
#include "cache/known.h"
#include <errno.h>
#include <stdlib.h>
#include <syslog.h>
#include "lib/log.h"

#define COMPACT_SLACK                                                                              \
	4096 /* records beyond twice the live names before the journal is rewritten                \
	      */

static int apply(const struct oname *n, bool add, void *arg)
{
	if (!add) {
		nameset_del(arg, n);
		return 0;
	}
	return nameset_add(arg, n);
}

struct names {
	struct oname *v;
	size_t n;
};

static void collect(void *val, void *arg)
{
	struct names *l = arg;
	l->v[l->n++] = *(struct oname *)val;
}

static int compact(struct sync *s)
{
	struct names l = {.v = malloc((htab_count(s->v.objects) + 1) * sizeof(struct oname))};
	if (!l.v)
		return -ENOMEM;
	htab_each(s->v.objects, collect, &l);
	int err = cache_known_rewrite(s->st, l.v, l.n);
	free(l.v);
	return err;
}

int sync_known_load(struct sync *s, bool fresh)
{
	size_t records;
	int err = cache_known_load(s->st, apply, s->v.objects, &records);
	if (err == -ENOENT) {
		/* A fresh cache starts an empty journal, so that later mounts know it is intact.
		 * One that held a root lost it (or predates it): everything uploads once, and the
		 * mount lists the vault to name objects that are on neither side. */
		s->v.known_lost = !fresh;
		return compact(s);
	}
	if (err == -EBADMSG) {
		s->v.known_lost = true;
		log_msg(LOG_WARNING, "the cache's known journal is damaged: objects upload again");
		nameset_free(s->v.objects);
		s->v.objects = htab_new();
		return s->v.objects ? compact(s) : -ENOMEM;
	}
	if (!err && records > 2 * htab_count(s->v.objects) + COMPACT_SLACK)
		err = compact(s);
	return err;
}

int sync_known_add(struct sync *s, const struct oname *n)
{
	pthread_mutex_lock(&s->mu);
	bool had = nameset_has(s->v.objects, n);
	pthread_mutex_unlock(&s->mu);
	int err = had ? 0 : cache_known_append(s->st, n, true);
	pthread_mutex_lock(&s->mu);
	if (!err)
		err = nameset_add(s->v.objects, n);
	pthread_mutex_unlock(&s->mu);
	return err;
}

int sync_known_del(struct sync *s, const struct oname *n)
{
	pthread_mutex_lock(&s->mu);
	nameset_del(s->v.objects, n);
	pthread_mutex_unlock(&s->mu);
	return cache_known_append(s->st, n, false);
}

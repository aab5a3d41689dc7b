/* fdcache: see fdcache.h. A small array under one mutex, least recently used slot reused;
 * a slot that is forgotten or reused while a caller holds it is closed by the last put.
 * Must never return a descriptor that is closed, nor one of a forgotten object. */
#include "fs/fdcache.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct slot {
	struct oname name;
	int fd;	       /* -1: free */
	unsigned refs; /* callers holding fd */
	bool writable; /* opened O_RDWR */
	bool dead;     /* forgotten or replaced: closed by the last put, never handed out */
	uint64_t used; /* tick of the last get */
};

struct fdcache {
	pthread_mutex_t mu;
	uint64_t tick;
	struct slot s[FDCACHE_SLOTS];
};

struct fdcache *fdcache_new(void)
{
	struct fdcache *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	pthread_mutex_init(&c->mu, NULL);
	for (int k = 0; k < FDCACHE_SLOTS; k++)
		c->s[k].fd = -1;
	return c;
}

void fdcache_free(struct fdcache *c)
{
	if (!c)
		return;
	for (int k = 0; k < FDCACHE_SLOTS; k++)
		if (c->s[k].fd >= 0)
			close(c->s[k].fd);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

static void kill_slot(struct slot *s)
{
	s->dead = true;
	if (s->refs == 0) {
		close(s->fd);
		s->fd = -1;
	}
}

/* Whether the object is still in the store: an evicted or replaced one (unlinked) is never
 * served, so the cache answers exactly as the store's folder would. */
static bool linked(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 && st.st_nlink > 0;
}

/* The live slot of n that serves the access wanted; -1: none. Called with mu held. */
static int find(struct fdcache *c, const struct oname *n, bool writable)
{
	for (int k = 0; k < FDCACHE_SLOTS; k++) {
		struct slot *s = &c->s[k];
		if (s->fd < 0 || s->dead || memcmp(s->name.b, n->b, NAME_BYTES) != 0)
			continue;
		if (!linked(s->fd))
			kill_slot(s);
		else if (s->writable || !writable)
			return k;
	}
	return -1;
}

/* A slot to reuse: a free one, else the least recently used one nobody holds; -1: all held. */
static int victim(struct fdcache *c)
{
	int best = -1;
	for (int k = 0; k < FDCACHE_SLOTS; k++) {
		struct slot *s = &c->s[k];
		if (s->fd < 0)
			return k;
		if (s->refs == 0 && (best < 0 || s->used < c->s[best].used))
			best = k;
	}
	return best;
}

/* Without a cache (c NULL), a descriptor opened for this request only. */
static int open_uncached(struct store *st, const struct oname *n, bool writable, struct fdref *out)
{
	int fd = store_obj_open(st, n, writable ? O_RDWR : O_RDONLY);
	*out = (struct fdref){.fd = fd, .slot = -1};
	return fd < 0 ? fd : 0;
}

int fdcache_get(struct fdcache *c, struct store *st, const struct oname *n, bool writable,
		struct fdref *out)
{
	if (!c)
		return open_uncached(st, n, writable, out);
	pthread_mutex_lock(&c->mu);
	int k = find(c, n, writable);
	if (k >= 0) {
		c->s[k].refs++;
		c->s[k].used = ++c->tick;
		*out = (struct fdref){.fd = c->s[k].fd, .slot = k};
		pthread_mutex_unlock(&c->mu);
		return 0;
	}
	pthread_mutex_unlock(&c->mu);
	int err = open_uncached(st, n, writable, out);
	if (err)
		return err;
	int fd = out->fd;
	/* A held descriptor's readahead state learns the random pattern and stops reading ahead
	 * (a fresh open per request read ahead every time): read the whole object (one chunk, the
	 * unit it was fetched in) into the page cache now, so the next small reads find it. */
	if (!writable)
		posix_fadvise(fd, 0, 0, POSIX_FADV_WILLNEED);
	pthread_mutex_lock(&c->mu);
	if (find(c, n, writable) < 0 && (k = victim(c)) >= 0) {
		if (c->s[k].fd >= 0)
			close(c->s[k].fd);
		c->s[k] = (struct slot){.name = *n,
					.fd = fd,
					.refs = 1,
					.writable = writable,
					.used = ++c->tick};
		out->slot = k;
	}
	pthread_mutex_unlock(&c->mu);
	return 0;
}

void fdcache_put(struct fdcache *c, const struct fdref *r)
{
	if (!c || r->slot < 0) {
		close(r->fd);
		return;
	}
	pthread_mutex_lock(&c->mu);
	struct slot *s = &c->s[r->slot];
	if (--s->refs == 0 && s->dead) {
		close(s->fd);
		s->fd = -1;
	}
	pthread_mutex_unlock(&c->mu);
}

void fdcache_adopt(struct fdcache *c, const struct oname *n, int fd)
{
	struct fdref r = {.fd = fd, .slot = -1};
	if (c) {
		pthread_mutex_lock(&c->mu);
		int k = find(c, n, true) < 0 ? victim(c) : -1;
		if (k >= 0) {
			if (c->s[k].fd >= 0)
				close(c->s[k].fd);
			c->s[k] = (struct slot){.name = *n,
						.fd = fd,
						.writable = true,
						.used = ++c->tick};
			r.slot = k;
		}
		pthread_mutex_unlock(&c->mu);
	}
	if (r.slot < 0)
		close(fd);
}

bool fdcache_has(struct fdcache *c, const struct oname *n)
{
	if (!c)
		return false;
	pthread_mutex_lock(&c->mu);
	bool has = find(c, n, false) >= 0;
	pthread_mutex_unlock(&c->mu);
	return has;
}

void fdcache_forget(struct fdcache *c, const struct oname *n)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->mu);
	for (int k = 0; k < FDCACHE_SLOTS; k++) {
		struct slot *s = &c->s[k];
		if (s->fd >= 0 && !s->dead && memcmp(s->name.b, n->b, NAME_BYTES) == 0)
			kill_slot(s);
	}
	pthread_mutex_unlock(&c->mu);
}

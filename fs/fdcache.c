/* fdcache: see fdcache.h. Sets of FDCACHE_WAYS slots under one mutex, the least recently used
 * slot of a name's set reused; a slot that is forgotten or reused while a caller holds it is
 * closed by the last put.
 * Must never return a descriptor that is closed, nor one of a forgotten object. */
#include "fs/fdcache.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
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
	struct store *st; /* watched, or NULL */
	pthread_mutex_t mu;
	uint64_t tick;
	unsigned nsets; /* a power of two */
	struct slot *s; /* nsets * FDCACHE_WAYS */
};

#define MIN_SETS 8u /* 64 slots: what the cache held before it followed the limit */

/* How many sets the descriptor limit allows (half of it for the cache), after raising its soft
 * value to the hard one as far as the kernel lets us. */
static unsigned sets_for_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return MIN_SETS;
	if (rl.rlim_cur < rl.rlim_max) {
		struct rlimit up = {.rlim_cur = rl.rlim_max, .rlim_max = rl.rlim_max};
		if (setrlimit(RLIMIT_NOFILE, &up) == 0)
			rl = up;
	}
	unsigned n = MIN_SETS;
	while (n < FDCACHE_MAX_SETS && (rlim_t)n * 2 * FDCACHE_WAYS * 2 <= rl.rlim_cur)
		n *= 2;
	return n;
}

static void forget_gone(void *arg, const struct oname *n)
{
	fdcache_forget(arg, n);
}

struct fdcache *fdcache_new(struct store *st)
{
	struct fdcache *c = calloc(1, sizeof(*c));
	unsigned n = sets_for_limit();
	if (c && !(c->s = calloc((size_t)n * FDCACHE_WAYS, sizeof(*c->s)))) {
		free(c);
		c = NULL;
	}
	if (!c)
		return NULL;
	c->nsets = n;
	pthread_mutex_init(&c->mu, NULL);
	for (size_t k = 0; k < (size_t)n * FDCACHE_WAYS; k++)
		c->s[k].fd = -1;
	if (st && store_watch_gone(st, forget_gone, c) == 0)
		c->st = st; /* else the fstat on use is all there is */
	return c;
}

void fdcache_free(struct fdcache *c)
{
	if (!c)
		return;
	if (c->st)
		store_unwatch_gone(c->st, c);
	for (size_t k = 0; k < (size_t)c->nsets * FDCACHE_WAYS; k++)
		if (c->s[k].fd >= 0)
			close(c->s[k].fd);
	pthread_mutex_destroy(&c->mu);
	free(c->s);
	free(c);
}

/* The first slot of n's set. Names are random (or hashes), so their first bytes spread evenly;
 * the multiply mixes them anyway. */
static struct slot *set_of(struct fdcache *c, const struct oname *n)
{
	uint64_t h;
	memcpy(&h, n->b, sizeof(h));
	h *= 0x9e3779b97f4a7c15u;
	return &c->s[(size_t)((h >> 32) & (c->nsets - 1)) * FDCACHE_WAYS];
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

/* The slot of n, not forgotten, that serves the access wanted; NULL: none. Unless only a hint
 * is wanted (!checked), a slot whose object has no link left is killed, not returned. Called
 * with mu held. */
static struct slot *lookup(struct fdcache *c, const struct oname *n, bool writable, bool checked)
{
	struct slot *set = set_of(c, n);
	for (int k = 0; k < FDCACHE_WAYS; k++) {
		struct slot *s = &set[k];
		if (s->fd < 0 || s->dead || memcmp(s->name.b, n->b, NAME_BYTES) != 0)
			continue;
		if (checked && !linked(s->fd))
			kill_slot(s);
		else if (s->writable || !writable)
			return s;
	}
	return NULL;
}

static struct slot *find(struct fdcache *c, const struct oname *n, bool writable)
{
	return lookup(c, n, writable, true);
}

/* A slot of n's set to reuse: a free one, else the least recently used one nobody holds; NULL:
 * all held. Called with mu held. */
static struct slot *victim(struct fdcache *c, const struct oname *n)
{
	struct slot *set = set_of(c, n), *best = NULL;
	for (int k = 0; k < FDCACHE_WAYS; k++) {
		struct slot *s = &set[k];
		if (s->fd < 0)
			return s;
		if (s->refs == 0 && (!best || s->used < best->used))
			best = s;
	}
	return best;
}

/* Puts fd, just opened on n, into slot s (which victim chose), closing what s held. */
static void fill_slot(struct fdcache *c, struct slot *s, const struct oname *n, int fd,
		      bool writable, unsigned refs)
{
	if (s->fd >= 0)
		close(s->fd);
	*s = (struct slot){.name = *n,
			   .fd = fd,
			   .refs = refs,
			   .writable = writable,
			   .used = ++c->tick};
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
	struct slot *s = find(c, n, writable);
	if (s) {
		s->refs++;
		s->used = ++c->tick;
		*out = (struct fdref){.fd = s->fd, .slot = (int)(s - c->s)};
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
	if (!find(c, n, writable) && (s = victim(c, n))) {
		fill_slot(c, s, n, fd, writable, 1);
		out->slot = (int)(s - c->s);
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
		struct slot *s = find(c, n, true) ? NULL : victim(c, n);
		if (s) {
			fill_slot(c, s, n, fd, true, 0);
			r.slot = (int)(s - c->s);
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
	bool has = lookup(c, n, false, false) != NULL; /* no fstat: a hint */
	pthread_mutex_unlock(&c->mu);
	return has;
}

void fdcache_forget(struct fdcache *c, const struct oname *n)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->mu);
	struct slot *set = set_of(c, n);
	for (int k = 0; k < FDCACHE_WAYS; k++) {
		struct slot *s = &set[k];
		if (s->fd >= 0 && !s->dead && memcmp(s->name.b, n->b, NAME_BYTES) == 0)
			kill_slot(s);
	}
	pthread_mutex_unlock(&c->mu);
}

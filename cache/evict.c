/* evict: the cache's size and its eviction (see evict.h). An object's last use is the later of
 * its access and modification times; its size is what it takes on disk (blocks).
 * Must never stat through a symlink, nor decide by itself that an object may go. */
#include "cache/evict.h"
#include "lib/array.h"
#include "cache/folder.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

struct cached_obj {
	struct oname n;
	time_t used;
	uint64_t size;
	bool kept; /* store_obj_keep's mark: metadata the tree reads back on demand, never evicted
		    */
};

struct cached {
	struct store *s;
	uint64_t bytes;
	struct cached_obj *v;
	size_t n, cap;
	bool list; /* false: only count the bytes */
};

static int push(struct cached *c, const struct oname *n, const struct stat *st)
{
	void *grown = array_reserve(c->v, c->n, &c->cap, sizeof(*c->v), 1024);
	if (!grown)
		return -ENOMEM;
	c->v = grown;
	c->v[c->n].n = *n;
	c->v[c->n].used = st->st_atime > st->st_mtime ? st->st_atime : st->st_mtime;
	c->v[c->n].kept = store_mode_kept(st->st_mode);
	c->v[c->n++].size = (uint64_t)st->st_blocks * 512;
	return 0;
}

static int note_cached(const struct oname *n, void *arg)
{
	struct cached *c = arg;
	char hex[2 * NAME_BYTES + 1];
	struct stat st;
	oname_hex(n, hex);
	if (fstatat(c->s->objfd, hex, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	c->bytes += (uint64_t)st.st_blocks * 512;
	return c->list ? push(c, n, &st) : 0;
}

uint64_t cache_bytes_of(struct store *s, const struct oname *names, size_t n)
{
	struct cached c = {.s = s};
	for (size_t k = 0; k < n; k++)
		note_cached(&names[k], &c);
	return c.bytes;
}

static int by_age(const void *a, const void *b)
{
	time_t x = ((const struct cached_obj *)a)->used, y = ((const struct cached_obj *)b)->used;
	return x < y ? -1 : x > y;
}

int cache_evict(struct store *s, uint64_t cap, bool (*may_evict)(const struct oname *n, void *arg),
		void *arg, uint64_t *bytes)
{
	struct cached c = {.s = s, .list = true};
	int err = store_each(s, note_cached, &c);
	*bytes = c.bytes;
	if (cap && *bytes > cap) {
		qsort(c.v, c.n, sizeof(*c.v), by_age);
		for (size_t k = 0; k<c.n && * bytes> cap / 10 * 9; k++)
			if (!c.v[k].kept && may_evict(&c.v[k].n, arg) &&
			    store_obj_unlink(s, &c.v[k].n) == 0)
				*bytes -= c.v[k].size;
	}
	free(c.v);
	return err;
}

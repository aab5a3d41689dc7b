/* mirror: one round of the sync thread's work: renew the lease, upload what the newest root
 * needs (several transfers at once), publish the root once all of it is there, delete what no
 * retained root names, and evict uploaded objects beyond the cache cap.
 * Must never publish a root while any object it names is missing from the remote. */
#include "sync/engine.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>
#include "fs/log.h"

#define BATCH 1024

struct batch {
	struct sync *s;
	struct oname names[BATCH];
	size_t n, next;
	int err;
	pthread_mutex_t mu;
};

static void collect(void *val, void *arg)
{
	struct batch *b = arg;
	if (b->n < BATCH)
		b->names[b->n++] = *(struct oname *)val;
}

static int upload_one(struct sync *s, const struct oname *n)
{
	char hex[2 * NAME_BYTES + 1], key[48];
	struct buf data = {0};
	oname_hex(n, hex);
	snprintf(key, sizeof(key), "objects/%s", hex);
	int err = store_obj_read(s->st, n, &data);
	if (!err)
		err = s->r->ops->put(s->r, key, data.data, data.len);
	pthread_mutex_lock(&s->mu);
	if (!err) {
		nameset_del(s->pending, n);
		nameset_add(s->remote_set, n);
		s->bytes_sent += data.len;
		s->objects_sent++;
	} else if (err == -ENOENT && !htab_get(s->pending, n->b, NAME_BYTES)) {
		err = 0; /* freed by a later commit meanwhile: the newest root does not need it */
	} else {
		sync_error(s, err, "uploading"); /* now, not once the other uploads end */
		sync_write_status(s);
	}
	pthread_mutex_unlock(&s->mu);
	buf_free(&data);
	return err;
}

static void *uploader(void *arg)
{
	struct batch *b = arg;
	for (;;) {
		pthread_mutex_lock(&b->mu);
		size_t k = b->err ? b->n : b->next++;
		pthread_mutex_unlock(&b->mu);
		if (k >= b->n)
			break;
		int err = upload_one(b->s, &b->names[k]);
		if (err) {
			pthread_mutex_lock(&b->mu);
			b->err = b->err ? b->err : err;
			pthread_mutex_unlock(&b->mu);
		}
	}
	return NULL;
}

/* Uploads up to BATCH pending objects; 1 when something was sent. */
static int upload_batch(struct sync *s)
{
	struct batch *b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->s = s;
	pthread_mutex_init(&b->mu, NULL);
	pthread_mutex_lock(&s->mu);
	htab_each(s->pending, collect, b);
	pthread_mutex_unlock(&s->mu);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	uint64_t sent0 = s->bytes_sent;
	pthread_t th[16];
	unsigned nt = s->o.uploaders < 16 ? s->o.uploaders : 16, started = 0;
	for (; b->n > 1 && started + 1 < nt; started++)
		if (pthread_create(&th[started], NULL, uploader, b))
			break;
	uploader(b);
	while (started)
		pthread_join(th[--started], NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	pthread_mutex_lock(&s->mu);
	if (b->n && secs > 0)
		s->rate = 0.5 * s->rate + 0.5 * (double)(s->bytes_sent - sent0) / secs;
	pthread_mutex_unlock(&s->mu);
	int err = b->err ? b->err : b->n ? 1 : 0;
	pthread_mutex_destroy(&b->mu);
	free(b);
	return err;
}

static int delete_object(const struct oname *n, void *arg)
{
	struct sync *s = arg;
	char hex[2 * NAME_BYTES + 1], key[48];
	oname_hex(n, hex);
	snprintf(key, sizeof(key), "objects/%s", hex);
	int err = s->r->ops->del(s->r, key);
	pthread_mutex_lock(&s->mu);
	nameset_del(s->remote_set, n);
	pthread_mutex_unlock(&s->mu);
	return err == -ENOENT ? 0 : err;
}

/* Keeps the newest `keep` roots and deletes the objects only older roots named. */
static int clean_remote(struct sync *s)
{
	uint64_t *gens = NULL;
	size_t n = 0;
	int err = remote_list_gens(s->r, &gens, &n);
	if (!err && n) {
		size_t drop = n > s->o.keep ? n - s->o.keep : 0;
		for (size_t k = 0; !err && k < drop; k++) {
			char key[64];
			snprintf(key, sizeof(key), "roots/%020" PRIu64, gens[k]);
			err = s->r->ops->del(s->r, key);
			err = err == -ENOENT ? 0 : err;
		}
		uint64_t oldest = gens[drop];
		if (!err)
			err = store_freed_each(s->st, oldest, delete_object, s);
		if (!err)
			err = store_freed_drop(s->st, oldest);
	}
	free(gens);
	return err;
}

/* Replaces the remote root with the newest local root once nothing it names is missing. */
static int publish(struct sync *s)
{
	pthread_mutex_lock(&s->mu);
	bool ready = htab_count(s->pending) == 0 && s->newest_gen > s->remote_gen && !s->conflict;
	struct buf root = {0};
	uint64_t gen = s->newest_gen;
	if (ready)
		buf_put(&root, s->newest.data, s->newest.len);
	char expect[TAG_MAX];
	snprintf(expect, sizeof(expect), "%s", s->root_tag);
	bool had_root = s->has_root;
	pthread_mutex_unlock(&s->mu);
	if (!ready)
		return 0;
	char key[64], tag[TAG_MAX];
	snprintf(key, sizeof(key), "roots/%020" PRIu64, gen);
	int err = s->r->ops->put(s->r, key, root.data, root.len);
	if (!err)
		err = s->r->ops->put_if(s->r, "root", root.data, root.len, had_root ? expect : NULL,
					tag);
	struct root_info ri = {0};
	root_peek(s->keys, s->vid, root.data, root.len, &ri);
	buf_free(&root);
	pthread_mutex_lock(&s->mu);
	if (!err) {
		s->remote_gen = gen;
		s->remote_time = ri.time_ns;
		s->has_root = true;
		snprintf(s->root_tag, sizeof(s->root_tag), "%s", tag);
		s->state.synced = gen;
		if (gen > s->state.seen)
			s->state.seen = gen;
	} else if (err == -ESTALE) {
		s->conflict = true;
		log_msg(LOG_ERR,
			"sync: the remote root was replaced by someone else; uploads stop, "
			"local data is kept");
	}
	if (err)
		sync_error(s, err, "publishing the root");
	pthread_mutex_unlock(&s->mu);
	if (err)
		return err;
	err = state_save(s->st, &s->state);
	if (!err)
		err = clean_remote(s);
	if (err) {
		pthread_mutex_lock(&s->mu);
		sync_error(s, err, "cleaning up the remote");
		pthread_mutex_unlock(&s->mu);
	}
	return 2;
}

static int renew_lease(struct sync *s)
{
	if (!s->has_lease || time(NULL) - s->lease_renewed < (time_t)s->o.lease_ttl / 3)
		return 0;
	char tag[TAG_MAX];
	int err = lease_put(s->r, s->keys, s->vid, s->state.device, s->o.lease_ttl, s->lease_tag,
			    tag);
	pthread_mutex_lock(&s->mu);
	if (!err) {
		snprintf(s->lease_tag, sizeof(s->lease_tag), "%s", tag);
		s->lease_renewed = time(NULL);
	} else {
		if (err == -ESTALE) {
			s->conflict = true;
			log_msg(LOG_ERR,
				"sync: another device took the writer lease; uploads stop, "
				"local data is kept");
		}
		sync_error(s, err, "renewing the lease");
	}
	pthread_mutex_unlock(&s->mu);
	return err;
}

struct cached_obj {
	struct oname n;
	time_t used;
	uint64_t size;
};

struct cached {
	struct sync *s;
	uint64_t bytes;
	struct cached_obj *v;
	size_t n, cap;
};

static int note_cached(const struct oname *n, void *arg)
{
	struct cached *c = arg;
	char hex[2 * NAME_BYTES + 1];
	struct stat st;
	oname_hex(n, hex);
	if (fstatat(c->s->st->objfd, hex, &st, 0) < 0)
		return 0;
	c->bytes += (uint64_t)st.st_blocks * 512;
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 1024;
		void *v = realloc(c->v, cap * sizeof(*c->v));
		if (!v)
			return -ENOMEM;
		c->v = v;
		c->cap = cap;
	}
	c->v[c->n].n = *n;
	c->v[c->n].used = st.st_atime > st.st_mtime ? st.st_atime : st.st_mtime;
	c->v[c->n++].size = (uint64_t)st.st_blocks * 512;
	return 0;
}

static int by_age(const void *a, const void *b)
{
	time_t x = ((const struct cached_obj *)a)->used, y = ((const struct cached_obj *)b)->used;
	return x < y ? -1 : x > y;
}

void mirror_evict(struct sync *s, bool force)
{
	static time_t last;
	if (!force && time(NULL) - last < 10)
		return;
	last = time(NULL);
	struct cached c = {.s = s};
	store_each(s->st, note_cached, &c);
	uint64_t bytes = c.bytes;
	if (s->o.cache_size && bytes > s->o.cache_size) {
		qsort(c.v, c.n, sizeof(*c.v), by_age);
		for (size_t k = 0; k < c.n && bytes > s->o.cache_size / 10 * 9; k++) {
			pthread_mutex_lock(&s->mu);
			bool uploaded = htab_get(s->remote_set, c.v[k].n.b, NAME_BYTES) &&
					!htab_get(s->pending, c.v[k].n.b, NAME_BYTES);
			pthread_mutex_unlock(&s->mu);
			if (uploaded && store_obj_unlink(s->st, &c.v[k].n) == 0)
				bytes -= c.v[k].size;
		}
	}
	pthread_mutex_lock(&s->mu);
	s->cache_bytes = bytes;
	pthread_mutex_unlock(&s->mu);
	free(c.v);
}

static void measure_waiting(struct sync *s)
{
	struct cached c = {.s = s};
	pthread_mutex_lock(&s->mu);
	struct batch *b = calloc(1, sizeof(*b));
	if (b)
		htab_each(s->pending, collect, b);
	pthread_mutex_unlock(&s->mu);
	for (size_t k = 0; b && k < b->n; k++)
		note_cached(&b->names[k], &c);
	pthread_mutex_lock(&s->mu);
	s->bytes_waiting = c.bytes;
	pthread_mutex_unlock(&s->mu);
	free(c.v);
	free(b);
}

int mirror_round(struct sync *s)
{
	pthread_mutex_lock(&s->mu);
	bool conflict = s->conflict;
	pthread_mutex_unlock(&s->mu);
	if (conflict)
		return 0;
	int err = renew_lease(s);
	if (err)
		return err;
	measure_waiting(s);
	int r = upload_batch(s);
	if (r == 0)
		r = publish(s);
	mirror_evict(s, false);
	return r;
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

void sync_write_status(struct sync *s)
{
	char text[2048], url[512], error[512];
	json_str(url, sizeof(url), s->r->url);
	json_str(error, sizeof(error), s->last_error);
	const char *state = s->conflict						      ? "conflict"
			    : s->failing					      ? "retrying"
			    : htab_count(s->pending) || s->newest_gen > s->remote_gen ? "uploading"
										      : "idle";
	int n = snprintf(text, sizeof(text),
			 "{\"state\":\"%s\",\"remote\":\"%s\",\"local_generation\":%" PRIu64
			 ",\"remote_generation\":%" PRIu64 ",\"remote_committed\":%lld"
			 ",\"objects_waiting\":%zu"
			 ",\"bytes_waiting\":%" PRIu64 ",\"upload_rate\":%.0f"
			 ",\"objects_uploaded\":%" PRIu64 ",\"bytes_uploaded\":%" PRIu64
			 ",\"cache_bytes\":%" PRIu64
			 ",\"last_error\":\"%s\",\"last_error_time\":%lld"
			 ",\"pid\":%d}\n",
			 state, url, s->newest_gen, s->remote_gen,
			 (long long)(s->remote_time / 1000000000), htab_count(s->pending),
			 s->bytes_waiting, s->rate, s->objects_sent, s->bytes_sent, s->cache_bytes,
			 error, (long long)s->last_error_time, (int)getpid());
	int fd =
		openat(s->st->dirfd, ".status.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	bool ok = write(fd, text, (size_t)n) == n;
	close(fd);
	if (ok)
		renameat(s->st->dirfd, ".status.tmp", s->st->dirfd, "status");
}

/* mem_remote: an in-memory remote for unit tests of the sync engine: every key in a small array,
 * a version counter per key as its tag, conditional writes as a server that honours them does,
 * and switches to make it unreachable or to count requests. Test code only; never linked into
 * coffer. Its fields are the test's to read and change (an operator's view of the vault).
 * Every request and every mem_set/mem_unset holds one lock: the sync's uploaders (and a
 * follower's reads) call it from several threads at once, and an unlocked mem_set lost keys
 * (two uploads taking one slot: an object the vault's root names went missing). */
#ifndef COFFER_MEM_REMOTE_H
#define COFFER_MEM_REMOTE_H
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sync/remote/remote.h"

#define MEM_KEYS 4096

struct mem_entry {
	char *key;
	unsigned char *data;
	size_t len;
	uint64_t version;
};

struct mem_remote {
	struct remote r;
	struct mem_entry v[MEM_KEYS];
	size_t n;
	uint64_t next_version;
	int down; /* nonzero: every request fails with this (negative errno) */
	unsigned puts, gets, dels, lists;
	unsigned object_lists; /* lists of the objects/ prefix alone */
	pthread_mutex_t mu;    /* recursive: requests call mem_set */
};

static struct mem_entry *mem_find(struct mem_remote *m, const char *key)
{
	for (size_t k = 0; k < m->n; k++)
		if (strcmp(m->v[k].key, key) == 0)
			return &m->v[k];
	return NULL;
}

static void mem_tag(const struct mem_entry *e, char tag[TAG_MAX])
{
	if (tag)
		snprintf(tag, TAG_MAX, "v%" PRIu64, e->version);
}

/* Sets key to the bytes as the server would, outside any client (a test's operator). */
static int mem_set(struct mem_remote *m, const char *key, const void *data, size_t len)
{
	pthread_mutex_lock(&m->mu);
	struct mem_entry *e = mem_find(m, key);
	if (!e) {
		if (m->n == MEM_KEYS) {
			pthread_mutex_unlock(&m->mu);
			return -ENOSPC;
		}
		e = &m->v[m->n++];
		*e = (struct mem_entry){.key = strdup(key)};
	}
	free(e->data);
	e->data = malloc(len ? len : 1);
	memcpy(e->data, data, len);
	e->len = len;
	e->version = ++m->next_version;
	pthread_mutex_unlock(&m->mu);
	return 0;
}

static void mem_unset(struct mem_remote *m, const char *key)
{
	pthread_mutex_lock(&m->mu);
	struct mem_entry *e = mem_find(m, key);
	if (e) {
		free(e->key);
		free(e->data);
		*e = m->v[--m->n];
	}
	pthread_mutex_unlock(&m->mu);
}

static int mem_put_locked(struct remote *r, const char *key, const void *data, size_t len)
{
	struct mem_remote *m = (struct mem_remote *)r;
	m->puts++;
	return m->down ? m->down : mem_set(m, key, data, len);
}

static int mem_put(struct remote *r, const char *key, const void *data, size_t len)
{
	struct mem_remote *m = (struct mem_remote *)r;
	pthread_mutex_lock(&m->mu);
	int err = mem_put_locked(r, key, data, len);
	pthread_mutex_unlock(&m->mu);
	return err;
}

static int mem_get_locked(struct remote *r, const char *key, size_t max, struct buf *out,
			  char tag[TAG_MAX])
{
	struct mem_remote *m = (struct mem_remote *)r;
	m->gets++;
	if (m->down)
		return m->down;
	struct mem_entry *e = mem_find(m, key);
	if (!e)
		return -ENOENT;
	if (e->len > max)
		return -EFBIG; /* a server's answer cut off past max */
	buf_put(out, e->data, e->len);
	mem_tag(e, tag);
	return out->err ? -ENOMEM : 0;
}

static int mem_get(struct remote *r, const char *key, size_t max, struct buf *out,
		   char tag[TAG_MAX])
{
	struct mem_remote *m = (struct mem_remote *)r;
	pthread_mutex_lock(&m->mu);
	int err = mem_get_locked(r, key, max, out, tag);
	pthread_mutex_unlock(&m->mu);
	return err;
}

static int mem_del_locked(struct remote *r, const char *key)
{
	struct mem_remote *m = (struct mem_remote *)r;
	m->dels++;
	if (m->down)
		return m->down;
	if (!mem_find(m, key))
		return -ENOENT;
	mem_unset(m, key);
	return 0;
}

static int mem_del(struct remote *r, const char *key)
{
	struct mem_remote *m = (struct mem_remote *)r;
	pthread_mutex_lock(&m->mu);
	int err = mem_del_locked(r, key);
	pthread_mutex_unlock(&m->mu);
	return err;
}

static int mem_list_locked(struct remote *r, const char *prefix,
			   int (*fn)(const char *key, void *arg), void *arg)
{
	struct mem_remote *m = (struct mem_remote *)r;
	m->lists++;
	m->object_lists += strcmp(prefix, "objects/") == 0;
	if (m->down)
		return m->down;
	size_t plen = strlen(prefix);
	for (size_t k = 0; k < m->n; k++)
		if (strncmp(m->v[k].key, prefix, plen) == 0) {
			int err = fn(m->v[k].key + plen, arg);
			if (err)
				return err;
		}
	return 0;
}

static int mem_list(struct remote *r, const char *prefix, int (*fn)(const char *key, void *arg),
		    void *arg)
{
	struct mem_remote *m = (struct mem_remote *)r;
	pthread_mutex_lock(&m->mu);
	int err = mem_list_locked(r, prefix, fn, arg);
	pthread_mutex_unlock(&m->mu);
	return err;
}

static int mem_put_if_locked(struct remote *r, const char *key, const void *data, size_t len,
			     const char *expect, char tag[TAG_MAX])
{
	struct mem_remote *m = (struct mem_remote *)r;
	m->puts++;
	if (m->down)
		return m->down;
	struct mem_entry *e = mem_find(m, key);
	char cur[TAG_MAX];
	if (e)
		mem_tag(e, cur);
	if (expect ? !e || strcmp(cur, expect) != 0 : e != NULL)
		return -ESTALE;
	int err = mem_set(m, key, data, len);
	if (!err)
		mem_tag(mem_find(m, key), tag);
	return err;
}

static int mem_put_if(struct remote *r, const char *key, const void *data, size_t len,
		      const char *expect, char tag[TAG_MAX])
{
	struct mem_remote *m = (struct mem_remote *)r;
	pthread_mutex_lock(&m->mu);
	int err = mem_put_if_locked(r, key, data, len, expect, tag);
	pthread_mutex_unlock(&m->mu);
	return err;
}

static void mem_free(struct remote *r)
{
	struct mem_remote *m = (struct mem_remote *)r;
	for (size_t k = 0; k < m->n; k++) {
		free(m->v[k].key);
		free(m->v[k].data);
	}
	free(m->r.url);
	pthread_mutex_destroy(&m->mu);
	free(m);
}

static const struct remote_ops mem_ops = {
	.put = mem_put,
	.get = mem_get,
	.del = mem_del,
	.list = mem_list,
	.put_if = mem_put_if,
	.free = mem_free,
};

static struct mem_remote *mem_remote_new(void)
{
	struct mem_remote *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	pthread_mutexattr_t a;
	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&m->mu, &a);
	pthread_mutexattr_destroy(&a);
	m->r.ops = &mem_ops;
	m->r.url = strdup("mem://test");
	return m;
}

/* How many keys start with prefix. */
static size_t mem_count(struct mem_remote *m, const char *prefix)
{
	size_t n = 0, plen = strlen(prefix);
	for (size_t k = 0; k < m->n; k++)
		n += strncmp(m->v[k].key, prefix, plen) == 0;
	return n;
}

#endif

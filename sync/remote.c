/* remote: picks the backend for a vault URL (see remote.h).
 * Must never guess: an unknown or malformed URL is an error with a message naming it. */
#include "sync/remote.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>

struct remote *remote_file_open(const char *dir);
struct remote *remote_s3_open(const char *url, const struct remote_opts *o);
struct remote *remote_webdav_open(const char *url, const struct remote_opts *o);
struct remote *remote_sftp_open(const char *url, const struct remote_opts *o);

struct remote *remote_open(const char *url, const struct remote_opts *o)
{
	static const struct remote_opts none;
	o = o ? o : &none;
	if (strncmp(url, "s3://", 5) == 0 || strncmp(url, "s3+http://", 10) == 0)
		return remote_s3_open(url, o);
	if (strncmp(url, "webdav://", 9) == 0 || strncmp(url, "webdavs://", 10) == 0)
		return remote_webdav_open(url, o);
	if (strncmp(url, "sftp://", 7) == 0)
		return remote_sftp_open(url, o);
	if (strncmp(url, "file://", 7) == 0) {
		if (url[7] != '/') {
			fprintf(stderr,
				"coffer: malformed URL '%s': expected file:///absolute/path\n",
				url);
			return NULL;
		}
		url += 7;
	} else if (strstr(url, "://")) {
		fprintf(stderr,
			"coffer: unsupported vault URL '%s': use a folder, file://, s3://, "
			"s3+http://, webdav://, webdavs:// or sftp://\n",
			url);
		return NULL;
	}
	struct remote *r = remote_file_open(url);
	if (!r)
		fprintf(stderr, "coffer: out of memory\n");
	return r;
}

void remote_free(struct remote *r)
{
	if (r)
		r->ops->free(r);
}

struct gens {
	uint64_t *v;
	size_t n, cap;
};

static int add_gen(const char *key, void *arg)
{
	struct gens *g = arg;
	char *end;
	uint64_t gen = strtoull(key, &end, 10);
	if (*end || strlen(key) != 20)
		return 0; /* temporary files and strangers */
	if (g->n == g->cap) {
		size_t cap = g->cap ? 2 * g->cap : 32;
		uint64_t *v = realloc(g->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		g->v = v;
		g->cap = cap;
	}
	g->v[g->n++] = gen;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int remote_list_gens(struct remote *r, uint64_t **out, size_t *n)
{
	struct gens g = {0};
	int err = r->ops->list(r, "roots/", add_gen, &g);
	if (err) {
		free(g.v);
		return err;
	}
	qsort(g.v, g.n, sizeof(*g.v), cmp_u64);
	*out = g.v;
	*n = g.n;
	return 0;
}

const char *remote_strerror(int err)
{
	switch (err) {
	case -EHOSTDOWN:
		return "cannot reach it (no such folder, unknown host or nothing listening)";
	case -EACCES:
		return "access denied: check the credentials";
	case -ENXIO:
		return "the bucket or collection does not exist";
	case -EKEYREJECTED:
		return "the server's identity could not be verified (TLS certificate or SSH host key)";
	case -EPROTO:
		return "the server does not answer as this kind of URL expects";
	case -EAGAIN:
		return "the server failed for now; try again later";
	default:
		return strerror(-err);
	}
}

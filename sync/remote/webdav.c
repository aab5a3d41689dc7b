/* webdav: the WebDAV backend (webdav://HOST[:PORT]/PATH over HTTP, webdavs:// over HTTPS), basic
 * auth from a netrc file, over plain HTTP only with -o insecure_http_auth (else a login in the
 * URL or a netrc entry for the host is refused, and curl is given no netrc at all). Every write is
 * PUT to a private temporary name, then MOVE onto the key; put_if makes that MOVE conditional
 * (Overwrite: F to create, an If: header naming the destination's ETag to replace), so the check
 * and the replace are one request. Collections are made with MKCOL when a PUT finds them missing; a
 * missing parent of the vault's collection is -ENXIO (the vault's own collection is made by the
 * first write). Must never leave a partly written object under its key, put a password in a URL, or
 * send one over plain HTTP unasked. */
#include "sync/remote/backends.h"
#include "sync/remote/listing.h"
#include "sync/remote/parsers.h"
#include "sync/remote/netrc.h"
#include "sync/remote/transfer.h"
#include "sync/remote/url.h"
#include "sync/remote/xml.h"
#include "crypto/crypto.h"
#include "lib/fileio.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dav_remote {
	struct remote base;
	struct xfer_pool *pool;
	char *base_url; /* scheme://host[:port]/path/ (%-encoded, ends with '/') */
};

static struct dav_remote *DAV(struct remote *r)
{
	return (struct dav_remote *)r;
}

/* One request: method on url with up to three extra headers (NULL ones skipped). */
static int dav_do(struct dav_remote *d, struct xfer_req *q, const char *url, const char *h1,
		  const char *h2, const char *h3)
{
	const char *hs[] = {h1, h2, h3, q->body ? "Expect:" : NULL};
	struct curl_slist *l = NULL;
	for (int i = 0; i < 4; i++) {
		if (!hs[i])
			continue;
		struct curl_slist *n = curl_slist_append(l, hs[i]);
		if (!n) {
			curl_slist_free_all(l);
			return -ENOMEM;
		}
		l = n;
	}
	q->url = url;
	q->hdrs = l;
	int err = url ? xfer_do(d->pool, q) : -ENOMEM;
	curl_slist_free_all(l);
	return err;
}

/* MKCOL: 0 when made or already there (405); -ENXIO when its parent is missing (409). */
static int mkcol(struct dav_remote *d, const char *url)
{
	struct xfer_req q = {.method = "MKCOL"};
	int err = dav_do(d, &q, url, NULL, NULL, NULL);
	if (q.status == 405)
		return 0;
	return q.status == 409 ? -ENXIO : err;
}

/* The vault's collection, then the key's ("objects/"). */
static int make_colls(struct dav_remote *d, const char *key)
{
	int err = mkcol(d, d->base_url);
	const char *slash = strrchr(key, '/');
	if (err || !slash)
		return err;
	char dir[256];
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - key + 1), key);
	char *url = url_join(d->base_url, dir);
	err = url ? mkcol(d, url) : -ENOMEM;
	free(url);
	return err;
}

static bool exists(struct dav_remote *d, const char *url)
{
	struct xfer_req q = {.method = "PROPFIND"};
	return dav_do(d, &q, url, "Depth: 0", NULL, NULL) != -ENOENT;
}

/* After a 404: -ENXIO when neither the vault's collection nor its parent exists (init could not
 * create it), else err. */
static int base_check(struct dav_remote *d, int err)
{
	if (err != -ENOENT || exists(d, d->base_url))
		return err;
	char *parent = strdup(d->base_url);
	char *end = parent ? parent + strlen(parent) - 1 : NULL; /* the trailing '/' */
	while (end && end > parent && end[-1] != '/')
		end--;
	if (end && end > parent + 8) /* past "https://" */
		*end = 0;
	bool ok = parent && exists(d, parent);
	free(parent);
	return ok ? err : -ENXIO;
}

/* PUTs data to a fresh temporary name beside key; *tmp gets its URL. */
static int put_tmp(struct dav_remote *d, const char *key, const void *data, size_t len, char **tmp)
{
	char name[300], hex[17];
	const char *slash = strrchr(key, '/');
	random_bytes(name, 8);
	for (int i = 0; i < 8; i++)
		snprintf(hex + 2 * i, 3, "%02x", (unsigned char)name[i]);
	snprintf(name, sizeof(name), "%.*s.tmp-%s", slash ? (int)(slash - key + 1) : 0, key, hex);
	if (!(*tmp = url_join(d->base_url, name)))
		return -ENOMEM;
	struct xfer_req q = {.method = "PUT", .body = data ? data : "", .len = len};
	int err = dav_do(d, &q, *tmp, "Content-Type: application/octet-stream", NULL, NULL);
	if (q.status == 409) { /* a collection is missing */
		err = make_colls(d, key);
		if (!err)
			err = dav_do(d, &q, *tmp, "Content-Type: application/octet-stream", NULL,
				     NULL);
	}
	return err;
}

/* Best effort, one try: a temporary name left behind costs space, never correctness. */
static void del_url(struct dav_remote *d, const char *url)
{
	struct xfer_req q = {.method = "DELETE", .once = true};
	dav_do(d, &q, url, NULL, NULL, NULL);
}

/* MOVE tmp onto key; cond: an If: header, or NULL. */
static int move(struct dav_remote *d, const char *tmp, const char *key, bool overwrite,
		const char *cond)
{
	char *dst = url_join(d->base_url, key), *dest = NULL;
	if (!dst || asprintf(&dest, "Destination: %s", dst) < 0) {
		free(dst);
		return -ENOMEM;
	}
	struct xfer_req q = {.method = "MOVE", .conditional = true};
	int err = dav_do(d, &q, tmp, dest, overwrite ? "Overwrite: T" : "Overwrite: F", cond);
	free(dest);
	free(dst);
	if (err)
		del_url(d, tmp);
	return err;
}

static int dav_put(struct remote *r, const char *key, const void *data, size_t len)
{
	struct dav_remote *d = DAV(r);
	char *tmp = NULL;
	int err = put_tmp(d, key, data, len, &tmp);
	if (!err)
		err = move(d, tmp, key, true, NULL);
	else if (tmp)
		del_url(d, tmp);
	free(tmp);
	return err;
}

/* Apache marks an ETag weak (W/) for a second after a change; the tag is its strong form. */
static void tag_set(char tag[TAG_MAX], const char *etag)
{
	const char *s = strncmp(etag, "W/", 2) == 0 ? etag + 2 : etag;
	size_t n = strnlen(s, TAG_MAX - 1);
	memcpy(tag, s, n);
	tag[n] = 0;
}

static int dav_get(struct remote *r, const char *key, size_t max, struct buf *out,
		   char tag[TAG_MAX])
{
	struct dav_remote *d = DAV(r);
	char *url = url_join(d->base_url, key);
	size_t from = out->len;
	struct xfer_req q = {.out = out, .out_max = from + max, .resumable = true};
	int err = dav_do(d, &q, url, NULL, NULL, NULL);
	free(url);
	if (err)
		out->len = from;
	if (!err && tag)
		tag_set(tag, q.etag);
	return base_check(d, err);
}

static int dav_del(struct remote *r, const char *key)
{
	struct dav_remote *d = DAV(r);
	char *url = url_join(d->base_url, key);
	struct xfer_req q = {.method = "DELETE"};
	int err = dav_do(d, &q, url, NULL, NULL, NULL);
	free(url);
	return err;
}

/* The tag of what key holds now, if it is still the bytes we wrote; else one that matches
 * nothing, so that the next put_if fails as it must. */
static void tag_after(struct remote *r, const char *key, const void *data, size_t len,
		      char tag[TAG_MAX])
{
	struct buf cur = {0};
	char t[TAG_MAX];
	bool ours = dav_get(r, key, len, &cur, t) == 0 && cur.len == len &&
		    (len == 0 || memcmp(cur.data, data, len) == 0);
	snprintf(tag, TAG_MAX, "%s", ours ? t : "\"superseded\"");
	buf_free(&cur);
}

static int dav_put_if(struct remote *r, const char *key, const void *data, size_t len,
		      const char *expect, char tag[TAG_MAX])
{
	struct dav_remote *d = DAV(r);
	char *tmp = NULL, *dst = url_join(d->base_url, key), *cond = NULL;
	int err = dst ? 0 : -ENOMEM;
	/* the destination's ETag in its strong or its weak form (two lists are OR'ed) */
	if (!err && expect && asprintf(&cond, "If: <%s> ([%s]) ([W/%s])", dst, expect, expect) < 0)
		err = -ENOMEM;
	if (!err)
		err = put_tmp(d, key, data, len, &tmp);
	if (!err)
		err = move(d, tmp, key, expect != NULL, cond);
	else if (tmp)
		del_url(d, tmp);
	if (!err && tag)
		tag_after(r, key, data, len, tag);
	free(tmp);
	free(cond);
	free(dst);
	return err;
}

/* ---- PROPFIND Depth 1 ---- */

/* The last path segment of an href ("/v/objects/abc" -> "abc"), %-decoded; NULL for the
 * collection itself (a trailing '/'). */
static char *href_name(const char *href)
{
	size_t n = strlen(href);
	if (!n || href[n - 1] == '/')
		return NULL;
	const char *s = strrchr(href, '/');
	s = s ? s + 1 : href;
	CURL *h = curl_easy_init();
	int len = 0;
	char *dec = h ? curl_easy_unescape(h, s, 0, &len) : NULL;
	char *name = dec && len > 0 && !memchr(dec, 0, (size_t)len) ? strdup(dec) : NULL;
	curl_free(dec);
	curl_easy_cleanup(h);
	return name;
}

static int each_response(xmlNode *top, struct list_guard *g, int (*fn)(const char *key, void *arg),
			 void *arg)
{
	int err = 0;
	for (xmlNode *c = top->children; c && !err; c = c->next) {
		if (!xml_is(c, "response"))
			continue;
		if ((err = list_guard_key(g, "")))
			break;
		xmlNode *rt =
			xml_child(xml_child(xml_child(c, "propstat"), "prop"), "resourcetype");
		if (xml_child(rt, "collection"))
			continue;
		char *href = xml_text(xml_child(c, "href"));
		char *name = href ? href_name(href) : NULL;
		if (name && name[0] != '.') /* temporary names start with '.' */
			err = fn(name, arg);
		free(name);
		free(href);
	}
	return err;
}

static int parse_multistatus(const struct buf *b, struct list_guard *g,
			     int (*fn)(const char *key, void *arg), void *arg)
{
	xmlNode *top;
	xmlDoc *doc = xml_parse(b, "multistatus", &top);
	int err = doc ? each_response(top, g, fn, arg) : -EPROTO;
	xmlFreeDoc(doc);
	return err;
}

static const char propfind_body[] = "<?xml version=\"1.0\" encoding=\"utf-8\"?>"
				    "<D:propfind xmlns:D=\"DAV:\"><D:prop><D:resourcetype/>"
				    "</D:prop></D:propfind>";

static int dav_list(struct remote *r, const char *prefix, int (*fn)(const char *key, void *arg),
		    void *arg)
{
	struct dav_remote *d = DAV(r);
	char *url = url_join(d->base_url, prefix);
	struct buf body = {0};
	struct list_guard g;
	struct xfer_req q = {.method = "PROPFIND",
			     .body = propfind_body,
			     .len = sizeof(propfind_body) - 1,
			     .out = &body,
			     .out_max = LIST_ANSWER_BYTES};
	list_guard_init(&g, LIST_KEYS_MAX, 1, false);
	int err = dav_do(d, &q, url, "Depth: 1", "Content-Type: application/xml", NULL);
	free(url);
	if (err == -EFBIG)
		snprintf(g.why, sizeof(g.why), "an answer of more than %zu bytes",
			 LIST_ANSWER_BYTES);
	if (!err)
		err = parse_multistatus(&body, &g, fn, arg);
	buf_free(&body);
	if (g.why[0])
		fprintf(stderr, "coffer: %s: the listing of %s was refused: %s\n", d->base.url,
			prefix, g.why);
	err = err == -EFBIG ? -EPROTO : err;
	list_guard_free(&g);
	err = base_check(d, err);
	return err == -ENOENT ? 0 : err; /* nothing stored under prefix yet */
}

static void dav_free(struct remote *r)
{
	struct dav_remote *d = DAV(r);
	xfer_pool_free(d->pool);
	free(d->base_url);
	free(d->base.url);
	free(d);
}

static const struct remote_ops dav_ops = {
	.put = dav_put,
	.get = dav_get,
	.del = dav_del,
	.list = dav_list,
	.put_if = dav_put_if,
	.free = dav_free,
};

/* Whether the netrc file holds an entry that curl would use for host (unreadable: none). */
static bool netrc_names(const char *path, const char *host)
{
	struct buf b = {0};
	bool has = file_read_at(AT_FDCWD, path, &b, (size_t)1 << 20) == 0 &&
		   netrc_has_host((const char *)b.data, b.len, host);
	if (b.data)
		wipe(b.data, b.len);
	buf_free(&b);
	return has;
}

/* Over plain HTTP, credentials only with -o insecure_http_auth: refused when there are some
 * (-EPERM, why says so), else the pool gets no netrc, so that curl never sends any. */
static int plain_auth(const struct url_parts *u, const struct remote_opts *o, struct xfer_conf *xc,
		      const char **why)
{
	if (strcmp(u->scheme, "webdavs") == 0 || o->insecure_http_auth)
		return 0;
	if (u->user[0] || netrc_names(xc->netrc, u->host)) {
		*why = "refusing to send the WebDAV login and password in cleartext over plain HTTP, "
		       "where anyone on the path can read them: use webdavs://, or "
		       "-o insecure_http_auth to send them anyway";
		return -EPERM;
	}
	xc->netrc = NULL;
	xc->user = NULL;
	return 0;
}

static int dav_setup(struct dav_remote *d, const char *url, const struct remote_opts *o,
		     const char **why)
{
	struct url_parts u;
	char port[16] = "", netrc[4200];
	int err = url_parse(url, &u, why);
	if (err)
		return err;
	if (strstr(u.path, "//") || strstr(u.path, "/./") || strstr(u.path, "/../")) {
		*why = "the path has an empty, '.' or '..' part";
		return -EINVAL;
	}
	const char *home = getenv("HOME");
	snprintf(netrc, sizeof(netrc), "%s/.netrc", home ? home : "/root");
	struct xfer_conf xc = {.netrc = o->netrc ? o->netrc : netrc,
			       .user = u.user[0] ? u.user : NULL,
			       .cacert = o->cacert,
			       .owner = &d->base};
	if ((err = plain_auth(&u, o, &xc, why)))
		return err;
	if (u.port)
		snprintf(port, sizeof(port), ":%d", u.port);
	struct buf b = {0};
	char *head = NULL;
	size_t plen = strlen(u.path);
	while (plen && u.path[plen - 1] == '/')
		u.path[--plen] = 0;
	if (asprintf(&head, "%s://%s%s", strcmp(u.scheme, "webdavs") == 0 ? "https" : "http",
		     u.host, port) < 0)
		return -ENOMEM;
	buf_put(&b, head, strlen(head));
	url_escape(&b, u.path, true);
	buf_put(&b, "/", 2);
	free(head);
	d->base_url = (char *)b.data;
	d->pool = b.err ? NULL : xfer_pool_new(&xc);
	return d->pool && (d->base.url = strdup(url)) ? 0 : -ENOMEM;
}

struct remote *remote_webdav_open(const char *url, const struct remote_opts *o)
{
	struct dav_remote *d = calloc(1, sizeof(*d));
	const char *why = "out of memory";
	int err = d ? dav_setup(d, url, o, &why) : -ENOMEM;
	if (err == -EINVAL)
		fprintf(stderr, "coffer: malformed URL '%s': %s\n", url, why);
	else if (err == -EPERM)
		fprintf(stderr, "coffer: '%s': %s\n", url, why);
	else if (err)
		fprintf(stderr, "coffer: out of memory\n");
	if (err && d) {
		d->base.ops = &dav_ops;
		dav_free(&d->base);
	}
	if (err)
		return NULL;
	d->base.ops = &dav_ops;
	return &d->base;
}

int dav_list_parse(const struct buf *b, int (*fn)(const char *key, void *arg), void *arg)
{
	struct list_guard g;
	list_guard_init(&g, LIST_KEYS_MAX, LIST_PAGES_MAX, false);
	int err = parse_multistatus(b, &g, fn, arg);
	list_guard_free(&g);
	return err;
}

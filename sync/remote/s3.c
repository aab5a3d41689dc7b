/* s3: the S3-compatible backend (s3://HOST[:PORT]/BUCKET[/PREFIX] over HTTPS, s3+http:// over
 * HTTP), all of its protocol: credentials and region as the AWS CLI finds them (aws.h), AWS
 * Signature V4 by libcurl (CURLOPT_AWS_SIGV4) with the x-amz-content-sha256 payload hash
 * (UNSIGNED-PAYLOAD for bodies over 64 KiB: they are sealed and authenticated on every read),
 * ListObjectsV2 with continuation tokens (bounded by listing.h), conditional PUT (If-None-Match: *,
 * If-Match) for put_if. A missing bucket is -ENXIO, never an empty vault. Must never take
 * credentials from the command line, log them, or sign anything itself. */
#include "sync/remote/backends.h"
#include "sync/remote/aws.h"
#include "sync/remote/listing.h"
#include "sync/remote/parsers.h"
#include "sync/remote/transfer.h"
#include "sync/remote/url.h"
#include "sync/remote/xml.h"
#include "crypto/crypto.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

struct s3_remote {
	struct remote base;
	struct xfer_pool *pool;
	char *bucket_url; /* ends with '/': scheme://host[:port]/bucket/ or scheme://bucket.host/ */
	char *prefix;	  /* "" or "some/prefix/" */
	char *token;	  /* "x-amz-security-token: ..." or NULL */
	char sigv4[128];  /* CURLOPT_AWS_SIGV4: "aws:amz:REGION:s3" */
	struct aws_creds creds;
};

static struct s3_remote *S3(struct remote *r)
{
	return (struct s3_remote *)r;
}

/* ---- URL ---- */

static bool bucket_ok(const char *b, size_t n)
{
	if (n < 3 || n > 63)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((b[i] >= 'a' && b[i] <= 'z') || (b[i] >= '0' && b[i] <= '9') || b[i] == '-' ||
		      b[i] == '.' || b[i] == '_' || (b[i] >= 'A' && b[i] <= 'Z')))
			return false;
	return true;
}

/* "/bucket[/prefix]" -> bucket and "prefix/" (no empty, "." or ".." parts). */
static int split_path(const char *path, char *bucket, size_t bcap, char **prefix, const char **why)
{
	const char *b = path[0] == '/' ? path + 1 : path;
	size_t n = strcspn(b, "/");
	if (!bucket_ok(b, n) || n >= bcap) {
		*why = "expected s3://HOST[:PORT]/BUCKET[/PREFIX] with a bucket name of 3 to 63 "
		       "letters, digits, '.', '-' or '_'";
		return -EINVAL;
	}
	snprintf(bucket, bcap, "%.*s", (int)n, b);
	const char *p = b + n;
	while (*p == '/')
		p++;
	size_t plen = strlen(p);
	while (plen && p[plen - 1] == '/')
		plen--;
	if (plen && (strstr(p, "//") || strstr(p, "/./") || strstr(p, "/../") ||
		     strncmp(p, "./", 2) == 0 || strncmp(p, "../", 3) == 0)) {
		*why = "the prefix has an empty, '.' or '..' part";
		return -EINVAL;
	}
	if (asprintf(prefix, "%.*s%s", (int)plen, p, plen ? "/" : "") < 0)
		return -ENOMEM;
	return 0;
}

static bool is_ip(const char *host)
{
	return host[0] == '[' || strspn(host, "0123456789.") == strlen(host);
}

static int build_base(struct s3_remote *s, const char *url, const struct remote_opts *o,
		      const char **why)
{
	struct url_parts u;
	char bucket[64], port[16] = "";
	int err = url_parse(url, &u, why);
	if (!err && u.user[0]) {
		*why = "credentials do not belong in an s3 URL (use AWS_ACCESS_KEY_ID or "
		       "~/.aws/credentials)";
		err = -EINVAL;
	}
	if (!err)
		err = split_path(u.path, bucket, sizeof(bucket), &s->prefix, why);
	if (err)
		return err;
	bool plain = strcmp(u.scheme, "s3+http") == 0;
	const char *style = o->s3_style				 ? o->s3_style
			    : (plain || u.port || is_ip(u.host)) ? "path"
								 : "virtual";
	if (strcmp(style, "path") != 0 && strcmp(style, "virtual") != 0) {
		*why = "-o s3_style must be path or virtual";
		return -EINVAL;
	}
	if (u.port)
		snprintf(port, sizeof(port), ":%d", u.port);
	const char *scheme = plain ? "http" : "https";
	int n = strcmp(style, "path") == 0
			? asprintf(&s->bucket_url, "%s://%s%s/%s/", scheme, u.host, port, bucket)
			: asprintf(&s->bucket_url, "%s://%s.%s%s/", scheme, bucket, u.host, port);
	if (n < 0 || !(s->base.url = strdup(url))) /* holds no credentials: they were refused */
		return -ENOMEM;
	return 0;
}

/* ---- requests ---- */

/* The URL of key: the bucket URL, then prefix + key, %-encoded. */
static char *obj_url(struct s3_remote *s, const char *key)
{
	char *path = NULL, *url;
	if (asprintf(&path, "%s%s", s->prefix, key) < 0)
		return NULL;
	url = url_join(s->bucket_url, path);
	free(path);
	return url;
}

/* Signs every request: libcurl computes Signature V4 from these (set again on each handle). */
static void s3_sign(CURL *h, void *arg)
{
	struct s3_remote *s = arg;
	curl_easy_setopt(h, CURLOPT_AWS_SIGV4, s->sigv4);
	curl_easy_setopt(h, CURLOPT_USERNAME, s->creds.id);
	curl_easy_setopt(h, CURLOPT_PASSWORD, s->creds.secret);
}

static struct curl_slist *add(struct curl_slist *l, const char *h, bool *bad)
{
	struct curl_slist *n = curl_slist_append(l, h);
	if (!n)
		*bad = true;
	return n ? n : l;
}

/* Headers every request carries: the payload hash (curl does not add it), the token. A PUT of
 * more than SIGNED_MAX bytes (the data objects) goes as UNSIGNED-PAYLOAD: libsodium's SHA-256 of
 * every uploaded byte was 72% of the daemon's CPU while mirroring (perf), and it guards nothing
 * the threat model relies on: every object is AEAD-sealed and authenticated on every read, the
 * remote may alter it at rest anyway, and over plain HTTP the answer is not authenticated
 * either. Smaller bodies (roots, the lease, conditional PUTs) keep the hash. */
#define SIGNED_MAX ((size_t)64 << 10)

static struct curl_slist *base_headers(struct s3_remote *s, const void *body, size_t len,
				       bool sign_body, bool *bad)
{
	char line[100] = "x-amz-content-sha256: " EMPTY_SHA256;
	if (body && !sign_body)
		strcpy(line + strlen("x-amz-content-sha256: "), "UNSIGNED-PAYLOAD");
	else if (body)
		sha256_hex(body, len, line + strlen("x-amz-content-sha256: "));
	struct curl_slist *l = add(NULL, line, bad);
	if (s->token)
		l = add(l, s->token, bad);
	/* No header removals ("Expect:", "Content-Type:"): curl signs every header given, also
	 * those it then does not send, and the server rejects the signature. */
	return l;
}

/* A 404 for a missing bucket is -ENXIO: the vault's place does not exist at all. */
static int bucket_check(int err, const struct buf *body, size_t from)
{
	if (err == -ENOENT && body && body->len > from &&
	    memmem(body->data + from, body->len - from, "<Code>NoSuchBucket</Code>", 25))
		return -ENXIO;
	return err;
}

static int s3_request(struct s3_remote *s, struct xfer_req *q, const char *key,
		      struct curl_slist *extra, bool sign_body)
{
	bool bad = false;
	char *url = obj_url(s, key);
	struct curl_slist *h = base_headers(s, q->body, q->len, sign_body, &bad);
	for (struct curl_slist *e = extra; e; e = e->next)
		h = add(h, e->data, &bad);
	struct buf errbody = {0};
	if (!q->out)
		q->out = &errbody;
	size_t from = q->out->len;
	q->url = url;
	q->hdrs = h;
	int err = url && !bad ? xfer_do(s->pool, q) : -ENOMEM;
	err = bucket_check(err, q->out, from);
	if (err)
		q->out->len = from;
	buf_free(&errbody);
	if (q->out == &errbody)
		q->out = NULL;
	curl_slist_free_all(h);
	free(url);
	return err;
}

static int s3_put(struct remote *r, const char *key, const void *data, size_t len)
{
	struct xfer_req q = {.method = "PUT", .body = data ? data : "", .len = len};
	return s3_request(S3(r), &q, key, NULL, len <= SIGNED_MAX);
}

static int s3_get(struct remote *r, const char *key, size_t max, struct buf *out, char tag[TAG_MAX])
{
	struct xfer_req q = {.out = out, .out_max = out->len + max};
	int err = s3_request(S3(r), &q, key, NULL, true);
	if (!err && tag)
		snprintf(tag, TAG_MAX, "%s", q.etag);
	return err;
}

static int s3_del(struct remote *r, const char *key)
{
	struct xfer_req q = {.method = "DELETE"};
	return s3_request(S3(r), &q, key, NULL, true);
}

/* After a retried conditional PUT answered 412, our own first attempt may be what is there. */
static bool already_there(struct remote *r, const char *key, const void *data, size_t len,
			  char tag[TAG_MAX])
{
	struct buf cur = {0};
	bool same = s3_get(r, key, len, &cur, tag) == 0 && cur.len == len &&
		    (len == 0 || memcmp(cur.data, data, len) == 0);
	buf_free(&cur);
	return same;
}

static int put_cond(struct remote *r, const char *key, const void *data, size_t len,
		    const char *cond, char tag[TAG_MAX])
{
	struct curl_slist one = {.data = (char *)cond};
	struct xfer_req q = {.method = "PUT",
			     .body = data ? data : "",
			     .len = len,
			     .conditional = true};
	int err = s3_request(S3(r), &q, key, &one, true);
	if (err == -ESTALE && q.attempts > 1 && already_there(r, key, data, len, tag))
		return 0;
	if (!err && tag)
		snprintf(tag, TAG_MAX, "%s", q.etag);
	return err;
}

/* ETags compared without their quotes. */
static bool same_tag(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la >= 2 && a[0] == '"' && a[la - 1] == '"')
		a++, la -= 2;
	if (lb >= 2 && b[0] == '"' && b[lb - 1] == '"')
		b++, lb -= 2;
	return la == lb && memcmp(a, b, la) == 0;
}

/* If-Match with the ETag as the server gave it (quoted); Ceph RGW 16 compares the unquoted
 * value, so a 412 for a quoted tag is asked once more without the quotes. */
static int put_if_match(struct remote *r, const char *key, const void *data, size_t len,
			const char *expect, char tag[TAG_MAX])
{
	char cond[TAG_MAX + 16];
	if (!expect)
		return put_cond(r, key, data, len, "If-None-Match: *", tag);
	snprintf(cond, sizeof(cond), "If-Match: %s", expect);
	int err = put_cond(r, key, data, len, cond, tag);
	size_t n = strlen(expect);
	if (err != -ESTALE || n < 2 || expect[0] != '"' || expect[n - 1] != '"')
		return err;
	snprintf(cond, sizeof(cond), "If-Match: %.*s", (int)n - 2, expect + 1);
	return put_cond(r, key, data, len, cond, tag);
}

/* The conditional headers, plus a fallback for servers that ignore them: the current version is
 * checked before the write and the object read back after it, so a competing write is caught
 * unless both land within the same moment (see coffer(1)). */
static int s3_put_if(struct remote *r, const char *key, const void *data, size_t len,
		     const char *expect, char tag[TAG_MAX])
{
	char cur[TAG_MAX] = "";
	struct buf b = {0};
	int err = s3_get(r, key, REMOTE_PUT_IF_MAX, &b, cur);
	buf_free(&b);
	if (err == 0 ? !expect || !same_tag(cur, expect) : err == -ENOENT && expect)
		return -ESTALE;
	if (err && err != -ENOENT)
		return err;
	err = put_if_match(r, key, data, len, expect, tag);
	if (!err && !already_there(r, key, data, len, cur))
		return -ESTALE;
	return err;
}

/* ---- listing ---- */

struct page {
	size_t skip; /* length of bucket prefix + list prefix */
	int (*fn)(const char *key, void *arg);
	void *arg;
	char *next; /* continuation token, or NULL when done */
	struct list_guard guard;
};

static int page_keys(xmlNode *top, struct page *pg)
{
	int err = 0;
	for (xmlNode *c = top->children; c && !err; c = c->next) {
		if (!xml_is(c, "Contents"))
			continue;
		char *key = xml_text(xml_child(c, "Key"));
		if (key)
			err = list_guard_key(&pg->guard, key);
		if (!err && key && strlen(key) > pg->skip && !strchr(key + pg->skip, '/'))
			err = pg->fn(key + pg->skip, pg->arg);
		free(key);
	}
	return err;
}

static int parse_page(const struct buf *b, struct page *pg)
{
	xmlNode *top;
	xmlDoc *doc = xml_parse(b, "ListBucketResult", &top);
	if (!doc)
		return -EPROTO;
	int err = page_keys(top, pg);
	free(pg->next);
	pg->next = NULL;
	if (!err && xml_text_is(xml_child(top, "IsTruncated"), "true")) {
		pg->next = xml_text(xml_child(top, "NextContinuationToken"));
		if (pg->next && !*pg->next) {
			free(pg->next);
			pg->next = NULL;
		}
		err = pg->next ? 0 : -EPROTO;
	}
	if (!err)
		err = list_guard_page(&pg->guard, pg->next);
	xmlFreeDoc(doc);
	return err;
}

/* ?[continuation-token=T&]list-type=2&prefix=P: canonical (sorted, %-encoded), as curl signs
 * the query exactly as written. */
static char *list_url(struct s3_remote *s, const char *prefix, const char *token)
{
	struct buf b = {0};
	buf_put(&b, s->bucket_url, strlen(s->bucket_url));
	buf_put(&b, "?", 1);
	if (token) {
		buf_put(&b, "continuation-token=", 19);
		url_escape(&b, token, false);
		buf_put(&b, "&", 1);
	}
	buf_put(&b, "list-type=2&prefix=", 19);
	url_escape(&b, s->prefix, false);
	url_escape(&b, prefix, false);
	buf_put(&b, "", 1);
	if (b.err)
		buf_free(&b);
	return (char *)b.data;
}

static int list_page(struct s3_remote *s, const char *prefix, struct page *pg)
{
	bool bad = false;
	struct buf body = {0};
	char *url = list_url(s, prefix, pg->next);
	struct curl_slist *h = base_headers(s, NULL, 0, true, &bad);
	struct xfer_req q = {.url = url, .hdrs = h, .out = &body, .out_max = LIST_PAGE_BYTES};
	int err = url && !bad ? xfer_do(s->pool, &q) : -ENOMEM;
	err = bucket_check(err, &body, 0);
	if (err == -EFBIG) {
		snprintf(pg->guard.why, sizeof(pg->guard.why), "a page of more than %zu bytes",
			 LIST_PAGE_BYTES);
		err = -EPROTO;
	}
	if (!err)
		err = parse_page(&body, pg);
	curl_slist_free_all(h);
	free(url);
	buf_free(&body);
	return err;
}

static int s3_list(struct remote *r, const char *prefix, int (*fn)(const char *key, void *arg),
		   void *arg)
{
	struct s3_remote *s = S3(r);
	struct page pg = {.skip = strlen(s->prefix) + strlen(prefix), .fn = fn, .arg = arg};
	list_guard_init(&pg.guard, LIST_KEYS_MAX, LIST_PAGES_MAX, true);
	int err;
	do
		err = list_page(s, prefix, &pg);
	while (!err && pg.next);
	if (err && pg.guard.why[0])
		fprintf(stderr, "coffer: %s: the listing of %s was refused: %s\n", s->base.url,
			prefix, pg.guard.why);
	list_guard_free(&pg.guard);
	free(pg.next);
	return err;
}

static void s3_free(struct remote *r)
{
	struct s3_remote *s = S3(r);
	xfer_pool_free(s->pool);
	wipe_str_free(s->token);
	aws_creds_free(&s->creds);
	free(s->bucket_url);
	free(s->prefix);
	free(s->base.url);
	free(s);
}

static const struct remote_ops s3_ops = {
	.put = s3_put,
	.get = s3_get,
	.del = s3_del,
	.list = s3_list,
	.put_if = s3_put_if,
	.free = s3_free,
};

static int s3_setup(struct s3_remote *s, const struct remote_opts *o, const char *region)
{
	snprintf(s->sigv4, sizeof(s->sigv4), "aws:amz:%s:s3", region);
	struct xfer_conf xc = {.cacert = o->cacert,
			       .setup = s3_sign,
			       .setup_arg = s,
			       .owner = &s->base};
	const char *tok = s->creds.token;
	if (tok && asprintf(&s->token, "x-amz-security-token: %s", tok) < 0)
		return -ENOMEM;
	s->pool = xfer_pool_new(&xc);
	return s->pool ? 0 : -ENOMEM;
}

struct remote *remote_s3_open(const char *url, const struct remote_opts *o)
{
	struct s3_remote *s = calloc(1, sizeof(*s));
	const char *why = "out of memory";
	char where[9000], region[AWS_REGION_MAX];
	const char *from;
	int err = s ? build_base(s, url, o, &why) : -ENOMEM;
	if (err) {
		fprintf(stderr, "coffer: malformed URL '%s': %s\n", url, why);
	} else if ((err = aws_region(o->region, region, &from))) {
		fprintf(stderr,
			"coffer: the region from %s must be lowercase letters, digits and '-' "
			"(like eu-west-1)\n",
			from);
	} else if ((err = aws_creds_load(&s->creds, where, sizeof(where))) == -ENOKEY) {
		fprintf(stderr,
			"coffer: no S3 credentials for '%s': set AWS_ACCESS_KEY_ID and "
			"AWS_SECRET_ACCESS_KEY, or write them to %s\n",
			s->base.url, where);
	} else if (!err && (err = s3_setup(s, o, region))) {
		fprintf(stderr, "coffer: out of memory\n");
	}
	if (err) {
		if (s)
			s3_free(&s->base);
		return NULL;
	}
	s->base.ops = &s3_ops;
	return &s->base;
}

int s3_list_parse(const struct buf *b, size_t skip, int (*fn)(const char *key, void *arg),
		  void *arg, char **next)
{
	struct page pg = {.skip = skip, .fn = fn, .arg = arg};
	list_guard_init(&pg.guard, LIST_KEYS_MAX, LIST_PAGES_MAX, true);
	int err = parse_page(b, &pg);
	list_guard_free(&pg.guard);
	*next = pg.next;
	return err;
}

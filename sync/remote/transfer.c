/* transfer: the libcurl layer shared by the s3, webdav and sftp backends (see transfer.h): a pool
 * of easy handles behind a mutex (each keeps its connections between requests), one table from
 * curl errors and HTTP statuses to errno, and a few retries with backoff and jitter.
 * Must never log a credential, follow a redirect, accept an unverified TLS peer or unknown SSH
 * host key (unless asked to add new ones), or retry without bound. */
#include "sync/remote/transfer.h"
#include "crypto/crypto.h"
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define POOL_MAX 16 /* idle handles kept: the uploads and fetches in flight */
#define TRIES	 4
#define BODY_MAX ((size_t)1 << 30)

struct xfer_pool {
	pthread_mutex_t mu;
	CURL *idle[POOL_MAX];
	int nidle;
	char *user, *netrc, *cacert, *key, *pub, *known;
	bool accept_new;
	void (*setup)(CURL *h, void *arg);
	void *setup_arg;
	struct remote *owner;
};

static int global_rc;
static pthread_once_t global_once = PTHREAD_ONCE_INIT;

static void global_init_once(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -ENOMEM;
}

/* Once, before the first handle (the first pool is made by remote_open, before any thread). */
static int global_init(void)
{
	pthread_once(&global_once, global_init_once);
	return global_rc;
}

static char *dup_or_null(const char *s, bool *bad)
{
	char *d = s ? strdup(s) : NULL;
	if (s && !d)
		*bad = true;
	return d;
}

/* Files are read when a connection is made, after the daemon moved to "/": keep them absolute. */
static char *dup_path(const char *s, bool *bad)
{
	char cwd[4096], *d = NULL;
	if (!s || s[0] == '/' || !getcwd(cwd, sizeof(cwd)))
		return dup_or_null(s, bad);
	if (asprintf(&d, "%s/%s", cwd, s) < 0) {
		*bad = true;
		d = NULL;
	}
	return d;
}

struct xfer_pool *xfer_pool_new(const struct xfer_conf *c)
{
	struct xfer_pool *p = calloc(1, sizeof(*p));
	if (!p || global_init()) {
		free(p);
		return NULL;
	}
	bool bad = false;
	pthread_mutex_init(&p->mu, NULL);
	p->user = dup_or_null(c->user, &bad);
	p->netrc = dup_path(c->netrc, &bad);
	p->cacert = dup_path(c->cacert, &bad);
	p->key = dup_path(c->ssh_key, &bad);
	p->known = dup_path(c->known_hosts, &bad);
	p->accept_new = c->accept_new_host_key;
	p->setup = c->setup;
	p->setup_arg = c->setup_arg;
	p->owner = c->owner;
	if (p->key && !bad && asprintf(&p->pub, "%s.pub", p->key) < 0)
		bad = true;
	if (bad) {
		xfer_pool_free(p);
		return NULL;
	}
	return p;
}

void xfer_pool_free(struct xfer_pool *p)
{
	if (!p)
		return;
	for (int i = 0; i < p->nidle; i++)
		curl_easy_cleanup(p->idle[i]);
	free(p->user);
	free(p->netrc);
	free(p->cacert);
	free(p->key);
	free(p->pub);
	free(p->known);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

static CURL *take(struct xfer_pool *p)
{
	pthread_mutex_lock(&p->mu);
	CURL *h = p->nidle ? p->idle[--p->nidle] : NULL;
	pthread_mutex_unlock(&p->mu);
	if (h)
		curl_easy_reset(h); /* options go; the connection cache stays */
	return h ? h : curl_easy_init();
}

static void give_back(struct xfer_pool *p, CURL *h)
{
	pthread_mutex_lock(&p->mu);
	if (p->nidle < POOL_MAX) {
		p->idle[p->nidle++] = h;
		h = NULL;
	}
	pthread_mutex_unlock(&p->mu);
	if (h)
		curl_easy_cleanup(h);
}

struct io {
	struct xfer_req *q;
	size_t sent;
	bool too_big; /* the answer went past q->out_max */
};

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	struct io *x = arg;
	size_t len = size * n;
	if (!x->q->out)
		return len;
	size_t max = x->q->out_max ? x->q->out_max : BODY_MAX;
	if (x->q->out->len + len > max) {
		x->too_big = true;
		return 0;
	}
	buf_put(x->q->out, data, len);
	return x->q->out->err ? 0 : len;
}

static size_t on_header(char *line, size_t size, size_t n, void *arg)
{
	struct io *x = arg;
	size_t len = size * n;
	if (len > 5 && strncasecmp(line, "ETag:", 5) == 0) {
		size_t i = 5, j = len;
		while (i < j && (line[i] == ' ' || line[i] == '\t'))
			i++;
		while (j > i && (line[j - 1] == '\r' || line[j - 1] == '\n' || line[j - 1] == ' '))
			j--;
		if (j - i < TAG_MAX) {
			memcpy(x->q->etag, line + i, j - i);
			x->q->etag[j - i] = 0;
		}
	}
	return len;
}

static size_t on_read(char *dst, size_t size, size_t n, void *arg)
{
	struct io *x = arg;
	size_t left = x->q->len - x->sent, want = size * n;
	size_t k = left < want ? left : want;
	memcpy(dst, (const char *)x->q->body + x->sent, k);
	x->sent += k;
	return k;
}

static int on_seek(void *arg, curl_off_t off, int origin)
{
	struct io *x = arg;
	if (origin != SEEK_SET || off < 0 || (size_t)off > x->q->len)
		return CURL_SEEKFUNC_CANTSEEK;
	x->sent = (size_t)off;
	return CURL_SEEKFUNC_OK;
}

static int on_host_key(CURL *h, const struct curl_khkey *known, const struct curl_khkey *found,
		       enum curl_khmatch match, void *arg)
{
	struct xfer_pool *p = arg;
	(void)h, (void)known, (void)found;
	if (match == CURLKHMATCH_OK)
		return CURLKHSTAT_FINE;
	if (match == CURLKHMATCH_MISSING && p->accept_new)
		return CURLKHSTAT_FINE_ADD_TO_FILE;
	return CURLKHSTAT_REJECT; /* unknown, or changed: never talk to it */
}

static void set_common(struct xfer_pool *p, CURL *h, struct io *x)
{
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 512L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 30L);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https,sftp");
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
	if (p->cacert)
		curl_easy_setopt(h, CURLOPT_CAINFO, p->cacert);
	if (p->netrc) { /* login from the URL or the netrc file, password from the netrc file */
		if (p->user)
			curl_easy_setopt(h, CURLOPT_USERNAME, p->user);
		curl_easy_setopt(h, CURLOPT_NETRC, (long)CURL_NETRC_OPTIONAL);
		curl_easy_setopt(h, CURLOPT_NETRC_FILE, p->netrc);
		curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
	}
	if (p->key) {
		curl_easy_setopt(h, CURLOPT_SSH_AUTH_TYPES, (long)CURLSSH_AUTH_PUBLICKEY);
		curl_easy_setopt(h, CURLOPT_SSH_PRIVATE_KEYFILE, p->key);
		curl_easy_setopt(h, CURLOPT_SSH_PUBLIC_KEYFILE, p->pub);
		curl_easy_setopt(h, CURLOPT_SSH_KNOWNHOSTS, p->known);
		curl_easy_setopt(h, CURLOPT_SSH_KEYFUNCTION, on_host_key);
		curl_easy_setopt(h, CURLOPT_SSH_KEYDATA, p);
		curl_easy_setopt(h, CURLOPT_NEW_FILE_PERMS, 0600L);
		curl_easy_setopt(h, CURLOPT_NEW_DIRECTORY_PERMS, 0700L);
	}
	if (p->setup)
		p->setup(h, p->setup_arg);
}

static void set_request(CURL *h, struct xfer_req *q, struct io *x)
{
	curl_easy_setopt(h, CURLOPT_URL, q->url);
	if (q->hdrs)
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, q->hdrs);
	if (q->upload) {
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(h, CURLOPT_READDATA, x);
		curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, on_seek);
		curl_easy_setopt(h, CURLOPT_SEEKDATA, x);
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)q->len);
	} else if (q->body) {
		/* in memory, so that curl can sign it (sigv4 hashes the post fields) and resend it
		 */
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, q->body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)q->len);
	}
	if (q->method)
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, q->method);
	if (q->quote)
		curl_easy_setopt(h, CURLOPT_POSTQUOTE, q->quote);
	if (q->prequote)
		curl_easy_setopt(h, CURLOPT_QUOTE, q->prequote);
	if (q->nobody)
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	if (q->dirlist)
		curl_easy_setopt(h, CURLOPT_DIRLISTONLY, 1L);
	if (q->create_dirs)
		curl_easy_setopt(h, CURLOPT_FTP_CREATE_MISSING_DIRS, (long)CURLFTP_CREATE_DIR);
}

static int status_errno(long st, bool conditional)
{
	if (st >= 200 && st < 300)
		return 0;
	if (st == 404 || st == 410)
		return -ENOENT;
	if (st == 412 || (st == 409 && conditional))
		return -ESTALE;
	if (st == 401 || st == 403)
		return -EACCES;
	if (st == 507)
		return -ENOSPC;
	if (st == 413)
		return -EFBIG;
	if (st == 408 || st == 429 || st >= 500)
		return -EAGAIN;
	return -EPROTO;
}

int xfer_errno(CURLcode rc, long status, bool conditional, bool connected)
{
	switch (rc) {
	case CURLE_OK:
		return status ? status_errno(status, conditional) : 0;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
		return -EHOSTDOWN;
	case CURLE_OPERATION_TIMEDOUT:
		return connected ? -EAGAIN : -EHOSTDOWN;
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_UPLOAD_FAILED:
	case CURLE_SSH:
	case CURLE_AGAIN:
		return -EAGAIN;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_ISSUER_ERROR:
		return -EKEYREJECTED;
	case CURLE_LOGIN_DENIED:
	case CURLE_REMOTE_ACCESS_DENIED:
		return -EACCES;
	case CURLE_REMOTE_FILE_NOT_FOUND:
		return -ENOENT;
	case CURLE_REMOTE_FILE_EXISTS:
		return -EEXIST;
	case CURLE_REMOTE_DISK_FULL:
		return -ENOSPC;
	case CURLE_OUT_OF_MEMORY:
		return -ENOMEM;
	case CURLE_SSL_CONNECT_ERROR: /* not TLS there, or no common ground */
		return -EPROTO;
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
		return -EINVAL;
	default:
		return -EIO;
	}
}

/* Asks for the rest of a body from q->resume_from on, only if it is still the same entity. */
static struct curl_slist *set_resume(CURL *h, struct xfer_req *q)
{
	char line[TAG_MAX + 16];
	struct curl_slist *l = NULL, *n;
	for (const struct curl_slist *t = q->hdrs; t; t = t->next) {
		if (!(n = curl_slist_append(l, t->data))) {
			curl_slist_free_all(l);
			return NULL;
		}
		l = n;
	}
	snprintf(line, sizeof(line), "If-Range: %s", q->resume_tag);
	if (!(n = curl_slist_append(l, line))) {
		curl_slist_free_all(l);
		return NULL;
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, n);
	curl_easy_setopt(h, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)q->resume_from);
	return n;
}

/* Whether the request reached the server: a new connection was made, or a kept one was used
 * (curl reports no connect time for those), or an answer came. A timeout before that means the
 * server is unreachable; after it, that the server is slow (worth a retry). */
static bool was_connected(CURL *h, const struct xfer_req *q)
{
	curl_off_t ct = 0, pre = 0;
	curl_easy_getinfo(h, CURLINFO_CONNECT_TIME_T, &ct);
	curl_easy_getinfo(h, CURLINFO_PRETRANSFER_TIME_T, &pre);
	return ct > 0 || pre > 0 || q->status > 0;
}

static int perform_once(struct xfer_pool *p, struct xfer_req *q)
{
	CURL *h = take(p);
	if (!h)
		return -ENOMEM;
	struct io x = {.q = q};
	q->etag[0] = 0;
	q->status = 0;
	set_common(p, h, &x);
	set_request(h, q, &x);
	struct curl_slist *resume = q->resume_from ? set_resume(h, q) : NULL;
	if (q->resume_from && !resume) { /* never a whole body after the bytes kept */
		curl_easy_cleanup(h);
		return -ENOMEM;
	}
	CURLcode rc = curl_easy_perform(h);
	curl_slist_free_all(resume);
	if (rc == CURLE_RANGE_ERROR) { /* the entity changed, or no ranges: start again */
		curl_easy_cleanup(h);
		return -ERANGE;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &q->status);
	if (rc == CURLE_WRITE_ERROR && q->out && q->out->err)
		rc = CURLE_OUT_OF_MEMORY;
	int err =
		x.too_big ? -EFBIG : xfer_errno(rc, q->status, q->conditional, was_connected(h, q));
	if (rc != CURLE_OK) { /* the connection may be broken: do not keep it */
		curl_easy_cleanup(h);
		return err;
	}
	give_back(p, h);
	return err;
}

static void backoff(int attempt)
{
	long ms = 200L << attempt; /* 200, 400, 800 ms, plus up to as much again */
	ms += (long)(random_u32() % (uint32_t)ms);
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* After a broken GET: how many received bytes a retry may keep (0: start the body again). */
static size_t keepable(const struct xfer_req *q, size_t start)
{
	bool ok = q->resumable && q->out && q->out->len > start && q->etag[0] &&
		  (q->status == 200 || q->status == 206) &&
		  (!q->resume_from || strcmp(q->etag, q->resume_tag) == 0);
	return ok ? q->out->len - start : 0;
}

int xfer_do(struct xfer_pool *p, struct xfer_req *q)
{
	size_t start = q->out ? q->out->len : 0;
	int err = 0;
	q->resume_from = 0;
	for (q->attempts = 1;; q->attempts++) {
		if (q->out)
			q->out->len = start + q->resume_from; /* keep only what may be resumed */
		err = perform_once(p, q);
		if (err == -ERANGE && q->attempts < TRIES) {
			q->resume_from = 0;
			continue;
		}
		if (err != -EAGAIN || q->attempts == TRIES || q->once) {
			q->resume_from = 0;
			return err == -ERANGE ? -EAGAIN : err;
		}
		size_t keep = keepable(q, start);
		if (keep && !q->resume_from)
			snprintf(q->resume_tag, sizeof(q->resume_tag), "%s", q->etag);
		q->resume_from = keep;
		if (p->owner && p->owner->on_retry)
			p->owner->on_retry(p->owner->retry_arg, err);
		backoff(q->attempts - 1);
	}
}

/* transfer: the one libcurl layer under the s3, webdav and sftp backends: a thread-safe pool of
 * easy handles (connection reuse, several transfers at once), the options every connection
 * needs (TLS checks, netrc, CA bundle, SSH keys and known hosts), the only place that maps curl
 * errors and HTTP statuses to negative errno, and bounded retries with backoff and jitter.
 * Must never log a credential, know a protocol's requests, follow redirects or retry without
 * bound. */
#ifndef COFFER_REMOTE_TRANSFER_H
#define COFFER_REMOTE_TRANSFER_H
#include <stdbool.h>
#include <stddef.h>
#include <curl/curl.h>
#include "sync/remote/remote.h"

/* How every handle of a pool is set up. Strings are copied. */
struct xfer_conf {
	const char *user;	 /* the netrc login, or NULL */
	const char *netrc;	 /* netrc file for basic auth, or NULL */
	const char *cacert;	 /* CA bundle, or NULL for the system's */
	const char *ssh_key;	 /* sftp: private key; its public key is ssh_key.pub */
	const char *known_hosts; /* sftp: must hold the server's key */
	bool accept_new_host_key;
	/* Called on each handle before each request, after the common options, for a backend's
	 * own ones (S3 signing); arg must outlive the pool. May be NULL. */
	void (*setup)(CURL *h, void *arg);
	void *setup_arg;
	struct remote *owner; /* whose on_retry hook hears of each retry (may be NULL) */
};

struct xfer_pool;

struct xfer_req {
	const char *method;	 /* NULL: GET */
	const char *url;	 /* already %-encoded */
	struct curl_slist *hdrs; /* extra request headers, or NULL */
	const void *body;	 /* request body (PUT, PROPFIND, sftp upload) */
	size_t len;
	bool upload;		     /* sftp: send body as an upload */
	struct curl_slist *quote;    /* sftp: commands after the transfer (CURLOPT_POSTQUOTE) */
	struct curl_slist *prequote; /* sftp: commands before it (CURLOPT_QUOTE) */
	bool nobody;		     /* no transfer (sftp quote-only requests) */
	bool dirlist;		     /* sftp: names only */
	bool create_dirs;	     /* sftp: make missing folders on upload */
	bool conditional;	     /* a 409 also means -ESTALE */
	bool resumable;		     /* GET: a retry continues a broken body (Range, If-Range) */
	bool once;		     /* no retries (best-effort clean-up) */
	struct buf *out;	     /* response body, or NULL to drop it */
	size_t out_max;		     /* bytes out may take (0: 1 GiB); past it -EFBIG */
	char etag[TAG_MAX];	     /* out: the ETag header, "" if none */
	long status;		     /* out: HTTP status, 0 for sftp */
	int attempts;		     /* out: how many tries it took */
	size_t resume_from;	     /* internal: bytes kept from a broken attempt */
	char resume_tag[TAG_MAX];    /* internal: the ETag those bytes came with */
};

struct xfer_pool *xfer_pool_new(const struct xfer_conf *c);
void xfer_pool_free(struct xfer_pool *p);
/* Performs q, retrying transient failures (a few times, backoff with jitter). 0 for a 2xx (or a
 * successful sftp transfer), else a negative errno (see xfer_errno). */
int xfer_do(struct xfer_pool *p, struct xfer_req *q);
/* An answer longer than q->out_max is -EFBIG (not retried). 404 -ENOENT, 412 (and 409 when
 * conditional) -ESTALE, 401/403 -EACCES, 408/429/5xx and broken transfers -EAGAIN, no connection
 * -EHOSTDOWN, TLS or host key rejected -EKEYREJECTED. */
int xfer_errno(CURLcode rc, long status, bool conditional, bool connected);

#endif

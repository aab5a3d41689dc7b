/* http: the one libcurl layer under the s3, webdav and sftp backends: a thread-safe pool of easy
 * handles (connection reuse, several transfers at once), the only place that maps curl errors and
 * HTTP statuses to negative errno, and bounded retries with backoff and jitter.
 * Must never log a credential, and never follow redirects or retry without bound. */
#ifndef COFFER_HTTP_H
#define COFFER_HTTP_H
#include <stdbool.h>
#include <stddef.h>
#include <curl/curl.h>
#include "sync/remote.h"

/* How every handle of a pool is set up. Strings are copied; secrets are wiped at free. */
struct http_conf {
	const char *sigv4;	 /* CURLOPT_AWS_SIGV4 ("aws:amz:REGION:s3") or NULL */
	const char *user, *pass; /* sigv4 keys (never logged); user: also the netrc login */
	const char *netrc;	 /* netrc file for basic auth, or NULL */
	const char *cacert;	 /* CA bundle, or NULL for the system's */
	const char *ssh_key;	 /* sftp: private key; its public key is ssh_key.pub */
	const char *known_hosts; /* sftp: must hold the server's key */
	bool accept_new_host_key;
	struct remote *owner; /* whose on_retry hook hears of each retry (may be NULL) */
};

struct http_pool;

struct http_req {
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
	char etag[TAG_MAX];	     /* out: the ETag header, "" if none */
	long status;		     /* out: HTTP status, 0 for sftp */
	int attempts;		     /* out: how many tries it took */
	size_t resume_from;	     /* internal: bytes kept from a broken attempt */
	char resume_tag[TAG_MAX];    /* internal: the ETag those bytes came with */
};

/* The parts of scheme://[USER@]HOST[:PORT][/PATH]. */
struct http_url {
	char scheme[16];
	char user[64];	 /* "" if none */
	char host[256];	 /* an IPv6 address keeps its brackets */
	int port;	 /* 0 if none */
	char path[1024]; /* "" or starting with '/', raw */
};

/* Splits url; on a malformed one returns -EINVAL with *why naming the problem. A password in the
 * URL is always refused (credentials never come from the command line). */
int http_url_parse(const char *url, struct http_url *u, const char **why);

/* Once, before any thread: curl_global_init and xmlInitParser. */
int http_global_init(void);
struct http_pool *http_pool_new(const struct http_conf *c);
void http_pool_free(struct http_pool *p);
/* Performs q, retrying transient failures (a few times, backoff with jitter). 0 for a 2xx (or a
 * successful sftp transfer), else a negative errno (see http_errno). */
int http_do(struct http_pool *p, struct http_req *q);
/* 404 -ENOENT, 412 (and 409 when conditional) -ESTALE, 401/403 -EACCES, 408/429/5xx and broken
 * transfers -EAGAIN, no connection -EHOSTDOWN, TLS or host key rejected -EKEYREJECTED. */
int http_errno(CURLcode rc, long status, bool conditional, bool connected);
/* Appends s to b %-encoded as AWS wants (unreserved characters kept; '/' kept if keep_slash). */
void http_escape(struct buf *b, const char *s, bool keep_slash);
/* Hex SHA-256 of data (65 bytes with the NUL). */
void http_sha256_hex(const void *data, size_t len, char out[65]);
/* A NUL-terminated copy of b's bytes (for XML and messages), or NULL. */
char *http_cstr(const struct buf *b);

#endif

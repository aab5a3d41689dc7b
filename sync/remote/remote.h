/* remote: the one interface every remote store implements (folder, S3, WebDAV, SFTP; one file
 * each in sync/remote/), in the manner of libgit2's odb backends. Keys are relative paths made
 * only by sync/remote/keys.h ("objects/<name>", "root", "roots/<gen>", "lease", "config").
 * Values are opaque bytes.
 * All functions return 0 or a negative errno; -ENOENT means the key does not exist,
 * -EAGAIN a transient failure worth retrying, -ESTALE a failed conditional write.
 * Must never see plaintext: everything handed to a backend is already sealed. */
#ifndef COFFER_REMOTE_REMOTE_H
#define COFFER_REMOTE_REMOTE_H
#include <stddef.h>
#include <stdint.h>
#include "lib/buf.h"

#define TAG_MAX 80
/* What a backend's own get of a put_if key (root, lease) may return, to compare versions. */
#define REMOTE_PUT_IF_MAX ((size_t)64 << 20)

struct remote;

struct remote_ops {
	int (*put)(struct remote *r, const char *key, const void *data, size_t len);
	/* Optional (NULL: use put): the same with the first len bytes of the open file fd as the
	 * value, for a backend that can copy from a file without reading it into memory. */
	int (*put_fd)(struct remote *r, const char *key, int fd, size_t len);
	/* Whole object of at most max bytes (the exact size when the caller knows it, else a cap
	 * of keys.h); an answer longer than max is -EFBIG, and no more of it is kept than max.
	 * tag (may be NULL) receives a version tag for put_if. */
	int (*get)(struct remote *r, const char *key, size_t max, struct buf *out,
		   char tag[TAG_MAX]);
	int (*del)(struct remote *r, const char *key);
	/* Calls fn with each key (relative, without the prefix) under prefix ("objects/"). */
	int (*list)(struct remote *r, const char *prefix, int (*fn)(const char *key, void *arg),
		    void *arg);
	/* Atomic replace that fails with -ESTALE unless the current version has tag expect
	 * (expect NULL: the key must not exist); tag receives the new version's tag. */
	int (*put_if)(struct remote *r, const char *key, const void *data, size_t len,
		      const char *expect, char tag[TAG_MAX]);
	void (*free)(struct remote *r);
};

struct remote {
	const struct remote_ops *ops;
	char *url; /* for messages */
	/* Set by the owner, or NULL: called from the requesting thread each time a request failed
	 * transiently and is about to be tried again, so that a failing or silent server shows at
	 * once rather than after the last try. Must not call back into the remote. */
	void (*on_retry)(void *arg, int err);
	void *retry_arg;
};

/* The -o options that concern remotes; every command that talks to one takes them. */
struct remote_opts {
	const char *region;	 /* S3 region (default us-east-1) */
	const char *s3_style;	 /* "path" or "virtual" */
	const char *cacert;	 /* CA bundle for TLS */
	const char *netrc;	 /* WebDAV credentials (default ~/.netrc) */
	const char *ssh_key;	 /* SFTP private key (default ~/.ssh/id_ed25519) */
	const char *known_hosts; /* SFTP host keys (default ~/.ssh/known_hosts) */
	int accept_new_host_key;
	int insecure_http_auth; /* webdav://: send the netrc password over plain HTTP anyway */
};

/* Opens the backend for a URL or folder path; prints a one-line error and returns NULL when the
 * URL is malformed or unsupported. */
struct remote *remote_open(const char *url, const struct remote_opts *o);
void remote_free(struct remote *r);
/* A user-facing explanation of a remote's error (a negative errno). */
const char *remote_strerror(int err);

#endif

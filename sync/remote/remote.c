/* remote: picks the backend for a vault URL (see remote.h), and says what a remote's error
 * means to the user.
 * Must never guess: an unknown or malformed URL is an error with a message naming it. */
#include "sync/remote/remote.h"
#include "sync/remote/backends.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>

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

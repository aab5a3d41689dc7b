/* remote: picks the backend for a vault URL (see remote.h).
 * Must never guess: an unknown or malformed URL is an error with a message naming it. */
#include "sync/remote.h"
#include <stdio.h>
#include <string.h>

struct remote *remote_file_open(const char *dir);

struct remote *remote_open(const char *url)
{
	if (strncmp(url, "file://", 7) == 0) {
		if (url[7] != '/') {
			fprintf(stderr, "coffer: malformed URL '%s': expected file:///absolute/path\n",
				url);
			return NULL;
		}
		url += 7;
	} else if (strstr(url, "://")) {
		fprintf(stderr,
			"coffer: unsupported vault URL '%s': this version supports folders and "
			"file:// URLs\n",
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

/* webdav: the webdav backend (issue 4, not built yet): refuses webdav URLs with a clear message.
 * Must never pretend to have stored anything. */
#include "sync/remote.h"
#include <stdio.h>

struct remote *remote_webdav_open(const char *url, const struct remote_opts *o);
struct remote *remote_webdav_open(const char *url, const struct remote_opts *o)
{
	(void)o;
	fprintf(stderr, "coffer: '%s': this version cannot use webdav vaults yet\n", url);
	return NULL;
}

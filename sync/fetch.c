/* fetch: the object store's fetch hook: brings an object missing from the cache in from the
 * vault. Called by the filesystem without any of its locks held, from any thread.
 * Must never install bytes the vault did not send for that name. */
#include "sync/engine.h"
#include <errno.h>
#include <stdio.h>

int fetch_object(void *arg, const struct oname *n)
{
	struct sync *s = arg;
	char hex[2 * NAME_BYTES + 1], key[48];
	oname_hex(n, hex);
	snprintf(key, sizeof(key), "objects/%s", hex);
	struct buf b = {0};
	int err = s->r->ops->get(s->r, key, &b, NULL);
	if (!err)
		err = store_obj_install(s->st, n, b.data, b.len);
	buf_free(&b);
	if (err && err != -ENOENT) {
		pthread_mutex_lock(&s->mu);
		sync_error(s, err, "fetching an object");
		pthread_mutex_unlock(&s->mu);
		return -EIO;
	}
	return err;
}

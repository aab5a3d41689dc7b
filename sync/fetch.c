/* fetch: the object store's fetch hook: brings an object missing from the cache in from the
 * vault. Called by the filesystem without any of its locks held, from any thread.
 * Must never install bytes the vault did not send for that name. */
#include "sync/engine.h"
#include "sync/remote/keys.h"
#include <errno.h>
#include <stdio.h>

int fetch_object(void *arg, const struct oname *n)
{
	struct sync *s = arg;
	char key[REMOTE_KEY_MAX];
	remote_key_object(key, n);
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

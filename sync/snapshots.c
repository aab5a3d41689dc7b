/* snapshots: listing the roots a vault retains under roots/, each authenticated and checked
 * against the generation its key names. Reads only; must never trust a listed name alone. */
#include "sync/sync.h"
#include "sync/remote/keys.h"
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

int sync_list_snapshots(struct remote *r, const struct keyring *keys, const uint8_t vault_id[16],
			struct snapshot **out, size_t *n)
{
	uint64_t *gens = NULL;
	int err = remote_list_gens(r, &gens, n);
	struct snapshot *v = err ? NULL : calloc(*n ? *n : 1, sizeof(*v));
	if (!err && !v)
		err = -ENOMEM;
	for (size_t k = 0; !err && k < *n; k++) {
		char key[REMOTE_KEY_MAX];
		struct buf b = {0};
		v[k].gen = gens[k];
		remote_key_retained_root(key, gens[k]);
		err = r->ops->get(r, key, REMOTE_ROOT_MAX, &b, NULL);
		if (!err && (root_peek(keys, vault_id, b.data, b.len, &v[k].info) ||
			     v[k].info.gen != gens[k]))
			err = -EBADMSG;
		buf_free(&b);
	}
	free(gens);
	if (err) {
		free(v);
		return err;
	}
	*out = v;
	return 0;
}

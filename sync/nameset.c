/* nameset: sets of 16-byte object names over the hash table (the upload queue, the vault's
 * object list). Owns the copies of the names it holds; knows nothing of what they mean. */
#include "sync/engine.h"
#include <errno.h>
#include <stdlib.h>

int nameset_add(struct htab *t, const struct oname *n)
{
	if (htab_get(t, n->b, NAME_BYTES))
		return 0;
	struct oname *copy = malloc(sizeof(*copy));
	if (!copy)
		return -ENOMEM;
	*copy = *n;
	if (htab_put(t, copy->b, NAME_BYTES, copy)) {
		free(copy);
		return -ENOMEM;
	}
	return 0;
}

void nameset_del(struct htab *t, const struct oname *n)
{
	free(htab_del(t, n->b, NAME_BYTES));
}

bool nameset_has(struct htab *t, const struct oname *n)
{
	return htab_get(t, n->b, NAME_BYTES) != NULL;
}

static void free_val(void *val, void *arg)
{
	(void)arg;
	free(val);
}

void nameset_free(struct htab *t)
{
	if (!t)
		return;
	htab_each(t, free_val, NULL);
	htab_free(t);
}

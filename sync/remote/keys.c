/* keys: building and parsing the remote's key names (see keys.h), and listing the retained
 * roots' generations.
 * Must never build a key any other way than these functions, or trust a listed name unparsed. */
#include "sync/remote/keys.h"
#include "lib/array.h"
#include "format/format.h"
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OBJECTS	   "objects/"
#define ROOTS	   "roots/"
#define GEN_DIGITS 20
#define GENS_MAX   (1u << 20) /* retained roots a listing may name: 8 MiB of generations */

void remote_key_object(char key[REMOTE_KEY_MAX], const struct oname *n)
{
	char hex[2 * NAME_BYTES + 1];
	oname_hex(n, hex);
	snprintf(key, REMOTE_KEY_MAX, OBJECTS "%s", hex);
}

void remote_key_retained_root(char key[REMOTE_KEY_MAX], uint64_t gen)
{
	snprintf(key, REMOTE_KEY_MAX, ROOTS "%0*" PRIu64, GEN_DIGITS, gen);
}

void remote_key_history(char key[REMOTE_KEY_MAX], const uint8_t hash[32])
{
	struct oname n; /* the first 16 bytes of the hash, written as an object name is */
	char hex[2 * NAME_BYTES + 1];
	memcpy(n.b, hash, NAME_BYTES);
	oname_hex(&n, hex);
	snprintf(key, REMOTE_KEY_MAX, "history/%s", hex);
}

const char *remote_key_root(void)
{
	return "root";
}

const char *remote_key_lease(void)
{
	return "lease";
}

const char *remote_key_config(void)
{
	return "config";
}

const char *remote_prefix_objects(void)
{
	return OBJECTS;
}

const char *remote_prefix_roots(void)
{
	return ROOTS;
}

bool remote_key_is_object(const char *key)
{
	return strncmp(key, OBJECTS, strlen(OBJECTS)) == 0;
}

int remote_parse_root_gen(const char *name, uint64_t *gen)
{
	uint64_t v = 0;
	size_t i = 0;
	for (; i < GEN_DIGITS; i++) {
		if (name[i] < '0' || name[i] > '9')
			return -EINVAL; /* also the end of a shorter name */
		unsigned d = (unsigned)(name[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	if (name[i])
		return -EINVAL;
	*gen = v;
	return 0;
}

struct gens {
	uint64_t *v;
	size_t n, cap;
};

static int add_gen(const char *name, void *arg)
{
	struct gens *g = arg;
	uint64_t gen;
	if (remote_parse_root_gen(name, &gen))
		return 0; /* temporary files and strangers */
	if (g->n == GENS_MAX)
		return -E2BIG;
	void *grown = array_reserve(g->v, g->n, &g->cap, sizeof(*g->v), 32);
	if (!grown)
		return -ENOMEM;
	g->v = grown;
	g->v[g->n++] = gen;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int remote_list_gens(struct remote *r, uint64_t **out, size_t *n)
{
	struct gens g = {0};
	int err = r->ops->list(r, ROOTS, add_gen, &g);
	if (err) {
		free(g.v);
		return err;
	}
	if (g.n) /* an empty listing leaves g.v NULL, which qsort must not get */
		qsort(g.v, g.n, sizeof(*g.v), cmp_u64);
	*out = g.v;
	*n = g.n;
	return 0;
}

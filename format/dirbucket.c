/* dirbucket: a split directory's bucket objects as bytes (see dirbucket.h): a header naming the
 * directory and the bucket's position, then entries exactly as in an inode page.
 * Must never accept a bucket it cannot fully validate (a name twice included) nor allocate by a
 * count that the remaining bytes cannot hold. */
#include "format/dirbucket.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

void dirbucket_aad(const struct oname *n, uint8_t aad[DIRBUCKET_AAD_BYTES])
{
	memcpy(aad, DIRBUCKET_MAGIC, 4);
	memcpy(aad + 4, n->b, NAME_BYTES);
}

uint64_t dirbucket_hash(const char *name, size_t len)
{
	return hash64(name, len);
}

uint32_t dirbucket_of(uint64_t h, uint32_t n)
{
	if (n <= 1)
		return 0;
	unsigned l = 31u - (unsigned)__builtin_clz(n);
	uint64_t k = h & ((1ull << l) - 1);
	if (k < n - (1u << l))
		k = h & ((2ull << l) - 1);
	return (uint32_t)k;
}

void dirbucket_encode(const struct dirbucket_plain *b, struct buf *out)
{
	buf_put(out, DIRBUCKET_MAGIC, 4);
	buf_u32(out, DIRBUCKET_VERSION);
	buf_u64(out, b->dir);
	buf_u32(out, b->index);
	buf_u32(out, b->nbuckets);
	page_dents_put(out, b->dent, b->count);
}

static int cmp_dent(const void *a, const void *b)
{
	const struct page_dent *x = *(const struct page_dent *const *)a;
	const struct page_dent *y = *(const struct page_dent *const *)b;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return memcmp(x->name, y->name, x->len);
}

/* -EINVAL when two entries have one name (sorted copies of the pointers compared). */
static int unique_names(const struct page_dent *d, uint32_t n)
{
	const struct page_dent **v = malloc((n ? n : 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (uint32_t k = 0; k < n; k++)
		v[k] = &d[k];
	qsort(v, n, sizeof(*v), cmp_dent);
	int err = 0;
	for (uint32_t k = 1; !err && k < n; k++)
		if (cmp_dent(&v[k - 1], &v[k]) == 0)
			err = -EINVAL;
	free(v);
	return err;
}

int dirbucket_decode(const unsigned char *b, size_t len, struct dirbucket_plain *out)
{
	struct rd r = {.p = b, .left = len};
	memset(out, 0, sizeof(*out));
	const void *magic = rd_take(&r, 4);
	uint32_t version = rd_u32(&r);
	out->dir = rd_u64(&r);
	out->index = rd_u32(&r);
	out->nbuckets = rd_u32(&r);
	if (r.err || memcmp(magic, DIRBUCKET_MAGIC, 4) != 0 || version != DIRBUCKET_VERSION ||
	    out->dir == 0 || out->nbuckets > DIR_BUCKETS_MAX || out->index >= out->nbuckets)
		return -EINVAL;
	int err = page_dents_get(&r, &out->dent, &out->count);
	if (!err && r.left != 0)
		err = -EINVAL;
	if (!err)
		err = unique_names(out->dent, out->count);
	if (err)
		dirbucket_plain_free(out);
	return err;
}

void dirbucket_plain_free(struct dirbucket_plain *b)
{
	free(b->dent);
	memset(b, 0, sizeof(*b));
}

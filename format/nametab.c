/* nametab: name tables as bytes (see nametab.h).
 * Must never accept a table whose position, kind or length it has not checked, nor bytes left
 * over after the last name. */
#include "format/nametab.h"
#include <errno.h>
#include <string.h>
#include "format/meta.h"

/* A full table, its length field included, fits one 4 KiB bucket (4068 bytes: 253 names would
 * be the most; 252 = 4 * 63 keeps the slack of 28 bytes). */
_Static_assert(META_LEN_BYTES + NAMETAB_PLAIN_MAX <= 4096u, "a name table fits 4 KiB");

void nametab_aad(const struct oname *n, uint8_t aad[NAMETAB_AAD_BYTES])
{
	memcpy(aad, NAMETAB_MAGIC, 4);
	memcpy(aad + 4, n->b, NAME_BYTES);
}

void nametab_encode(const struct nametab_plain *t, struct buf *out)
{
	uint32_t count = t->count <= NAMETAB_MAX ? t->count : NAMETAB_MAX;
	buf_put(out, NAMETAB_MAGIC, 4);
	buf_u32(out, NAMETAB_VERSION);
	buf_u32(out, t->kind);
	buf_u64(out, t->owner);
	buf_u64(out, t->first);
	buf_u32(out, count);
	for (uint32_t k = 0; k < count; k++)
		buf_put(out, t->names[k].b, NAME_BYTES);
}

/* Whether the header fields describe a table this version can hold. */
static int header_ok(const struct nametab_plain *t)
{
	if (t->kind != NAMETAB_BUCKETS && (t->kind != NAMETAB_PAGES || t->owner != 0))
		return 0;
	return t->count >= 1 && t->count <= NAMETAB_MAX && t->first % NAMETAB_MAX == 0 &&
	       t->first <= UINT64_MAX - NAMETAB_MAX;
}

int nametab_bind(const struct nametab_plain *t, uint32_t kind, uint64_t owner, uint64_t index,
		 uint64_t total)
{
	if (index > (UINT64_MAX - NAMETAB_MAX) / NAMETAB_MAX)
		return -EINVAL;
	uint64_t first = index * NAMETAB_MAX;
	if (t->kind != kind || t->owner != owner || t->first != first || first >= total)
		return -EINVAL;
	uint64_t room = total - first < NAMETAB_MAX ? total - first : NAMETAB_MAX;
	return t->count <= room ? 0 : -EINVAL;
}

int nametab_decode(const unsigned char *b, size_t len, struct nametab_plain *t)
{
	struct rd rd = {.p = b, .left = len};
	memset(t, 0, sizeof(*t));
	const void *m = rd_take(&rd, 4);
	uint32_t version = rd_u32(&rd);
	t->kind = rd_u32(&rd);
	t->owner = rd_u64(&rd);
	t->first = rd_u64(&rd);
	t->count = rd_u32(&rd);
	if (rd.err || memcmp(m, NAMETAB_MAGIC, 4) || version != NAMETAB_VERSION || !header_ok(t) ||
	    rd.left != (size_t)t->count * NAME_BYTES) {
		memset(t, 0, sizeof(*t));
		return -EINVAL;
	}
	memcpy(t->names, rd_take(&rd, rd.left), (size_t)t->count * NAME_BYTES);
	return 0;
}

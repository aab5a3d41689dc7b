/* history: chain sections and history segments as bytes, and the steps of the skip list (see
 * history.h).
 * Must never accept counts beyond the bounds of format.h, unordered generations or bytes left
 * over, and never loop: every step of a lookup moves to an older segment. */
#include "format/history.h"
#include "format/meta.h"
#include <errno.h>
#include <string.h>

static unsigned bitlen(uint64_t v)
{
	return v ? 64u - (unsigned)__builtin_clzll(v) : 0;
}

unsigned hist_levels(uint64_t nsegs)
{
	return nsegs ? bitlen(nsegs - 1) + 1 : 0;
}

unsigned hist_pointers(uint64_t index)
{
	return index ? (unsigned)__builtin_ctzll(index) + 1 : 0;
}

uint64_t hist_level_index(uint64_t nsegs, unsigned j)
{
	return j >= 64 ? 0 : ((nsegs - 1) >> j) << j;
}

bool link_is_zero(const struct root_link *l)
{
	static const uint8_t zero[ROOT_HASH_BYTES];
	return l->gen == 0 && memcmp(l->hash, zero, ROOT_HASH_BYTES) == 0;
}

static void put_link(struct buf *out, const struct root_link *l)
{
	buf_u64(out, l->gen);
	buf_put(out, l->hash, ROOT_HASH_BYTES);
}

static void get_link(struct rd *rd, struct root_link *l)
{
	l->gen = rd_u64(rd);
	const void *h = rd_take(rd, ROOT_HASH_BYTES);
	if (h)
		memcpy(l->hash, h, ROOT_HASH_BYTES);
}

void chain_encode(const struct root_chain *c, struct buf *out)
{
	static const uint8_t zero[6];
	put_link(out, &c->parent);
	buf_u64(out, c->nsegs);
	buf_u8(out, c->ntail);
	buf_u8(out, c->nlevels);
	buf_put(out, zero, sizeof(zero));
	for (unsigned k = 0; k < c->ntail && k < HIST_ENTRIES; k++)
		put_link(out, &c->tail[k]);
	for (unsigned k = 0; k < c->nlevels && k < HIST_LEVELS; k++)
		put_link(out, &c->level[k]);
}

int chain_decode(struct rd *rd, struct root_chain *c)
{
	static const uint8_t zero[6];
	memset(c, 0, sizeof(*c));
	get_link(rd, &c->parent);
	c->nsegs = rd_u64(rd);
	c->ntail = rd_u8(rd);
	c->nlevels = rd_u8(rd);
	const void *pad = rd_take(rd, sizeof(zero));
	if (rd->err || memcmp(pad, zero, sizeof(zero)) || c->ntail >= HIST_ENTRIES ||
	    c->nlevels != hist_levels(c->nsegs) || c->nlevels > HIST_LEVELS)
		return -EINVAL;
	for (unsigned k = 0; k < c->ntail; k++) {
		get_link(rd, &c->tail[k]);
		if (k && c->tail[k].gen <= c->tail[k - 1].gen)
			return -EINVAL;
	}
	for (unsigned k = 0; k < c->nlevels; k++)
		get_link(rd, &c->level[k]);
	return rd->err ? -EINVAL : 0;
}

void hist_aad(const uint8_t vault_id[VAULT_ID_BYTES], uint8_t aad[HIST_AAD_BYTES])
{
	meta_vault_aad(HIST_MAGIC, vault_id, aad);
}

void hist_encode(const struct hist_seg *s, struct buf *out)
{
	buf_put(out, HIST_MAGIC, 4);
	buf_u32(out, HIST_VERSION);
	buf_u64(out, s->index);
	buf_u32(out, s->n);
	buf_u32(out, s->np);
	for (uint32_t k = 0; k < s->n && k < HIST_ENTRIES; k++)
		put_link(out, &s->e[k]);
	for (uint32_t k = 0; k < s->np && k < HIST_LEVELS; k++)
		put_link(out, &s->ptr[k]);
}

int hist_decode(const unsigned char *b, size_t len, struct hist_seg *s)
{
	struct rd rd = {.p = b, .left = len};
	memset(s, 0, sizeof(*s));
	const void *m = rd_take(&rd, 4);
	uint32_t v = rd_u32(&rd);
	s->index = rd_u64(&rd);
	s->n = rd_u32(&rd);
	s->np = rd_u32(&rd);
	if (rd.err || memcmp(m, HIST_MAGIC, 4) || v != HIST_VERSION || s->n != HIST_ENTRIES ||
	    s->np != hist_pointers(s->index) || rd.left != (size_t)(s->n + s->np) * ROOT_LINK_BYTES)
		return -EINVAL;
	for (uint32_t k = 0; k < s->n; k++) {
		get_link(&rd, &s->e[k]);
		if (k && s->e[k].gen <= s->e[k - 1].gen)
			return -EINVAL;
	}
	for (uint32_t k = 0; k < s->np; k++) {
		get_link(&rd, &s->ptr[k]);
		if (s->ptr[k].gen >= (k ? s->ptr[k - 1].gen : s->e[0].gen))
			return -EINVAL;
	}
	return rd.err ? -EINVAL : 0;
}

int chain_advance(struct root_chain *c, const struct root_link *replaced, struct hist_seg *seg)
{
	c->parent = *replaced;
	c->tail[c->ntail++] = *replaced;
	if (c->ntail < HIST_ENTRIES)
		return 0;
	memset(seg, 0, sizeof(*seg));
	seg->index = c->nsegs;
	seg->n = HIST_ENTRIES;
	seg->np = hist_pointers(seg->index);
	memcpy(seg->e, c->tail, sizeof(seg->e));
	for (uint32_t j = 0; j < seg->np; j++) /* level j is segment index - 2^j: 2^j divides it */
		seg->ptr[j] = c->level[j];
	return 1;
}

void chain_add_segment(struct root_chain *c, const struct hist_seg *seg,
		       const uint8_t hash[ROOT_HASH_BYTES])
{
	uint64_t k = seg->index, n = k + 1;
	unsigned old = c->nlevels, levels = hist_levels(n);
	struct root_link top = old ? c->level[old - 1] : (struct root_link){0};
	for (unsigned j = 0; j < levels; j++) {
		if (hist_level_index(n, j) == k) {
			c->level[j].gen = seg->e[0].gen;
			memcpy(c->level[j].hash, hash, ROOT_HASH_BYTES);
		} else if (j >= old) {
			c->level[j] = top; /* segment 0, the old top level */
		}
	}
	c->nsegs = n;
	c->nlevels = (uint8_t)levels;
	c->ntail = 0;
	memset(c->tail, 0, sizeof(c->tail));
}

static int find(const struct root_link *v, unsigned n, uint64_t g, struct root_link *out)
{
	for (unsigned k = 0; k < n; k++)
		if (v[k].gen == g) {
			*out = v[k];
			return 0;
		}
	return -ENOENT;
}

/* The pointer to follow among v[0..n) (indexes below `from` by 2^j): the farthest whose first
 * generation is still above g, else v[0], the segment just below, which then holds g. */
static int descend(const struct root_link *v, unsigned n, uint64_t from, uint64_t g,
		   uint64_t *next_index, uint8_t next_hash[ROOT_HASH_BYTES], bool levels)
{
	unsigned j = 0;
	while (j + 1 < n && v[j + 1].gen > g)
		j++;
	if (levels && v[0].gen <= g)
		j = 0; /* the newest segment itself */
	*next_index = levels ? hist_level_index(from, j) : from - ((uint64_t)1 << j);
	memcpy(next_hash, v[j].hash, ROOT_HASH_BYTES);
	return 1;
}

int chain_locate(const struct root_chain *c, uint64_t g, struct root_link *out,
		 uint64_t *next_index, uint8_t next_hash[ROOT_HASH_BYTES])
{
	if (!link_is_zero(&c->parent) && c->parent.gen == g) {
		*out = c->parent;
		return 0;
	}
	if (!find(c->tail, c->ntail, g, out))
		return 0;
	if ((c->ntail && g >= c->tail[0].gen) || !c->nsegs || c->level[c->nlevels - 1].gen > g)
		return -ENOENT;
	return descend(c->level, c->nlevels, c->nsegs, g, next_index, next_hash, true);
}

int hist_step(const struct hist_seg *s, uint64_t g, struct root_link *out, uint64_t *next_index,
	      uint8_t next_hash[ROOT_HASH_BYTES])
{
	if (s->e[0].gen <= g)
		return find(s->e, s->n, g, out);
	if (!s->index)
		return -ENOENT;
	if (s->ptr[0].gen > g) /* some pointer stays above g: take the farthest */
		return descend(s->ptr, s->np, s->index, g, next_index, next_hash, false);
	*next_index = s->index - 1;
	memcpy(next_hash, s->ptr[0].hash, ROOT_HASH_BYTES);
	return 1;
}

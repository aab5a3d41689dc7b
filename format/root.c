/* root: roots as bytes (see root.h); writes version 3 (the pages through name tables), reads
 * versions 2 (pages inline) and 1 (no chain section) too.
 * Must never accept a root made with other format parameters or with bytes left over, never
 * allocate by a page count the root's bytes cannot back, and never fill a page from a table
 * that is not the one at its position. */
#include "format/root.h"
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "format/meta.h"

void root_aad(const uint8_t vault_id[VAULT_ID_BYTES], uint8_t aad[ROOT_AAD_BYTES])
{
	meta_vault_aad(ROOT_MAGIC, vault_id, aad);
}

uint32_t root_tables_for(uint64_t npages)
{
	return (uint32_t)((npages + NAMETAB_MAX - 1) / NAMETAB_MAX);
}

/* Version 3: the page count and the table names; version 2: the page names. */
static void put_names(const struct root_plain *r, bool inline_pages, struct buf *out)
{
	static const struct oname zero;
	if (inline_pages) {
		buf_u32(out, r->npages);
		for (uint32_t k = 0; k < r->npages; k++)
			buf_put(out, r->pages[k].b, NAME_BYTES);
		return;
	}
	buf_u64(out, r->npages);
	for (uint32_t t = 0, n = root_tables_for(r->npages); t < n; t++)
		buf_put(out, (t < r->ntables ? &r->tables[t] : &zero)->b, NAME_BYTES);
}

void root_encode(const struct root_plain *r, struct buf *out)
{
	bool inline_pages = r->version == ROOT_VERSION_2 || r->version == ROOT_VERSION_1;
	buf_put(out, ROOT_MAGIC, 4);
	buf_u32(out, inline_pages ? ROOT_VERSION_2 : ROOT_VERSION);
	buf_u64(out, r->gen);
	buf_u64(out, (uint64_t)r->time_ns);
	buf_u64(out, r->next_ino);
	buf_u64(out, r->live_inodes);
	buf_u64(out, r->live_bytes);
	buf_u32(out, DATA_BLOCK);
	buf_u32(out, CHUNK_BLOCKS);
	buf_u32(out, PAGE_INODES);
	put_names(r, inline_pages, out);
	chain_encode(&r->chain, out);
}

/* The page (versions 1, 2) or table (3) names: their count, checked against the bytes left
 * (the chain section, of at least chain_min bytes, follows them, except in version 1). */
static int list_count(struct rd *rd, struct root_plain *r, uint64_t chain_min, uint32_t *n)
{
	uint64_t np = r->version == ROOT_VERSION ? rd_u64(rd) : rd_u32(rd);
	*n = r->version == ROOT_VERSION ? root_tables_for(np) : (uint32_t)np;
	if (rd->err || np > ROOT_PAGES_MAX || (uint64_t)*n * NAME_BYTES + chain_min > rd->left ||
	    (r->version == ROOT_VERSION_1 && (uint64_t)*n * NAME_BYTES != rd->left))
		return -EINVAL;
	r->npages = (uint32_t)np;
	return 0;
}

/* The names after the header: pages (versions 1, 2) or tables (3, the pages all zero). */
static int take_names(struct rd *rd, struct root_plain *r, uint32_t n)
{
	const void *names = rd_take(rd, (size_t)n * NAME_BYTES);
	struct oname **dst = r->version == ROOT_VERSION ? &r->tables : &r->pages;
	if (!(*dst = calloc(n ? n : 1, sizeof(**dst))) ||
	    !(r->pages =
		      r->pages ? r->pages : calloc(r->npages ? r->npages : 1, sizeof(*r->pages))))
		return -ENOMEM;
	if (n)
		memcpy(*dst, names, (size_t)n * NAME_BYTES);
	r->ntables = r->version == ROOT_VERSION ? n : 0;
	return 0;
}

static int decode(const unsigned char *b, size_t len, struct root_plain *r)
{
	struct rd rd = {.p = b, .left = len};
	const void *m = rd_take(&rd, 4);
	r->version = rd_u32(&rd);
	if (!rd.err && !memcmp(m, ROOT_MAGIC, 4) && r->version > ROOT_VERSION)
		return -EPROTONOSUPPORT; /* a newer coffer's root (its bytes authenticated) */
	if (rd.err || memcmp(m, ROOT_MAGIC, 4) ||
	    (r->version != ROOT_VERSION && r->version != ROOT_VERSION_2 &&
	     r->version != ROOT_VERSION_1))
		return -EINVAL;
	r->gen = rd_u64(&rd);
	r->time_ns = (int64_t)rd_u64(&rd);
	r->next_ino = rd_u64(&rd);
	r->live_inodes = rd_u64(&rd);
	r->live_bytes = rd_u64(&rd);
	uint32_t bs = rd_u32(&rd), cb = rd_u32(&rd), pi = rd_u32(&rd), n;
	uint64_t chain_min = r->version == ROOT_VERSION_1 ? 0 : ROOT_LINK_BYTES + ROOT_CHAIN_FIXED;
	if (rd.err || bs != DATA_BLOCK || cb != CHUNK_BLOCKS || pi != PAGE_INODES ||
	    list_count(&rd, r, chain_min, &n))
		return -EINVAL;
	struct rd names = rd;
	rd_take(&rd, (size_t)n * NAME_BYTES);
	if (r->version != ROOT_VERSION_1 && (chain_decode(&rd, &r->chain) || rd.left))
		return -EINVAL;
	return take_names(&names, r, n);
}

int root_decode(const unsigned char *b, size_t len, struct root_plain *r)
{
	memset(r, 0, sizeof(*r));
	int err = decode(b, len, r);
	if (err)
		root_plain_free(r);
	return err;
}

int root_unseal(const struct aead_key *key, const uint8_t vault_id[VAULT_ID_BYTES],
		const void *sealed, size_t len, struct root_plain *r)
{
	struct buf plain = {0};
	uint8_t aad[ROOT_AAD_BYTES];
	root_aad(vault_id, aad);
	memset(r, 0, sizeof(*r));
	int err = meta_open(key, aad, sizeof(aad), sealed, len, &plain);
	if (!err && (err = root_decode(plain.data, plain.len, r)) == -EINVAL)
		err = -EBADMSG;
	buf_free(&plain);
	return err;
}

void root_plain_free(struct root_plain *r)
{
	free(r->pages);
	free(r->tables);
	memset(r, 0, sizeof(*r));
}

int root_fill_table(struct root_plain *r, uint32_t t, const struct nametab_plain *tab)
{
	if (r->version != ROOT_VERSION || t >= r->ntables ||
	    nametab_bind(tab, NAMETAB_PAGES, 0, t, r->npages))
		return -EINVAL;
	memcpy(r->pages + tab->first, tab->names, (size_t)tab->count * sizeof(*r->pages));
	return 0;
}

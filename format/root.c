/* root: roots as bytes (see root.h); version 1 roots (no chain section) are still read.
 * Must never accept a root made with other format parameters or with bytes left over. */
#include "format/root.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "format/meta.h"

void root_aad(const uint8_t vault_id[VAULT_ID_BYTES], uint8_t aad[ROOT_AAD_BYTES])
{
	meta_vault_aad(ROOT_MAGIC, vault_id, aad);
}

void root_encode(const struct root_plain *r, struct buf *out)
{
	buf_put(out, ROOT_MAGIC, 4);
	buf_u32(out, ROOT_VERSION);
	buf_u64(out, r->gen);
	buf_u64(out, (uint64_t)r->time_ns);
	buf_u64(out, r->next_ino);
	buf_u64(out, r->live_inodes);
	buf_u64(out, r->live_bytes);
	buf_u32(out, DATA_BLOCK);
	buf_u32(out, CHUNK_BLOCKS);
	buf_u32(out, PAGE_INODES);
	buf_u32(out, r->npages);
	for (uint32_t k = 0; k < r->npages; k++)
		buf_put(out, r->pages[k].b, NAME_BYTES);
	chain_encode(&r->chain, out);
}

int root_decode(const unsigned char *b, size_t len, struct root_plain *r)
{
	struct rd rd = {.p = b, .left = len};
	memset(r, 0, sizeof(*r));
	const void *m = rd_take(&rd, 4);
	r->version = rd_u32(&rd);
	if (rd.err || memcmp(m, ROOT_MAGIC, 4) ||
	    (r->version != ROOT_VERSION && r->version != ROOT_VERSION_1))
		return -EINVAL;
	r->gen = rd_u64(&rd);
	r->time_ns = (int64_t)rd_u64(&rd);
	r->next_ino = rd_u64(&rd);
	r->live_inodes = rd_u64(&rd);
	r->live_bytes = rd_u64(&rd);
	uint32_t bs = rd_u32(&rd), cb = rd_u32(&rd), pi = rd_u32(&rd), np = rd_u32(&rd);
	uint64_t chain_min = r->version == ROOT_VERSION_1 ? 0 : ROOT_LINK_BYTES + ROOT_CHAIN_FIXED;
	if (rd.err || bs != DATA_BLOCK || cb != CHUNK_BLOCKS || pi != PAGE_INODES ||
	    (uint64_t)np * NAME_BYTES + chain_min > rd.left ||
	    (r->version == ROOT_VERSION_1 && (uint64_t)np * NAME_BYTES != rd.left))
		return -EINVAL;
	const void *names = rd_take(&rd, (size_t)np * NAME_BYTES);
	if (r->version != ROOT_VERSION_1 && (chain_decode(&rd, &r->chain) || rd.left))
		return -EINVAL;
	if (!(r->pages = calloc(np ? np : 1, sizeof(*r->pages))))
		return -ENOMEM;
	r->npages = np;
	if (np)
		memcpy(r->pages, names, (size_t)np * NAME_BYTES);
	return 0;
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
	memset(r, 0, sizeof(*r));
}

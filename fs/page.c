/* page: the byte layout of inode records, inode pages and roots, and the padded sealing of these
 * metadata objects (format in man/coffer-format.5).
 * Must never accept a record it cannot fully validate: a bad page is reported, not half-loaded. */
#include "fs/fs.h"
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "lib/buf.h"

#define PAGE_MAGIC     "CFPG"
#define ROOT_MAGIC     "CFRT"
#define FORMAT_VERSION 1u

static void put_time(struct buf *b, const struct timespec *t)
{
	buf_u64(b, (uint64_t)t->tv_sec);
	buf_u32(b, (uint32_t)t->tv_nsec);
}

static void put_record(struct buf *b, const struct inode *i)
{
	buf_u64(b, i->ino);
	buf_u32(b, i->mode);
	buf_u32(b, i->uid);
	buf_u32(b, i->gid);
	buf_u32(b, i->nlink);
	buf_u64(b, i->size);
	buf_u64(b, i->rdev);
	put_time(b, &i->atime);
	put_time(b, &i->mtime);
	put_time(b, &i->ctime);
	buf_u32(b, (uint32_t)i->nxa);
	for (size_t k = 0; k < i->nxa; k++) {
		size_t nl = strlen(i->xa[k].name);
		buf_u16(b, (uint16_t)nl);
		buf_put(b, i->xa[k].name, nl);
		buf_u32(b, (uint32_t)i->xa[k].len);
		buf_put(b, i->xa[k].val, i->xa[k].len);
	}
	if (S_ISLNK(i->mode)) {
		size_t tl = strlen(i->target);
		buf_u32(b, (uint32_t)tl);
		buf_put(b, i->target, tl);
	} else if (S_ISREG(i->mode)) {
		buf_u32(b, (uint32_t)i->nch);
		for (size_t k = 0; k < i->nch; k++) {
			buf_put(b, i->ch[k].name.b, NAME_BYTES);
			buf_u32(b, i->ch[k].nblocks);
		}
	} else if (S_ISDIR(i->mode)) {
		buf_u32(b, (uint32_t)i->dir->live);
		size_t pos = 0;
		struct dent *e;
		while ((e = dir_next(i->dir, &pos))) {
			buf_u64(b, e->ino);
			buf_u8(b, e->type);
			buf_u16(b, e->len);
			buf_put(b, e->name, e->len);
		}
	}
}

/* Serializes the live inodes (nlink > 0) of one page; called with mu held. */
void page_serialize(struct fs *fs, size_t page, struct buf *out)
{
	uint64_t first = (uint64_t)page * PAGE_INODES;
	uint32_t count = 0;
	buf_put(out, PAGE_MAGIC, 4);
	buf_u32(out, FORMAT_VERSION);
	buf_u64(out, page);
	size_t count_at = out->len;
	buf_u32(out, 0);
	for (uint64_t ino = first; ino < first + PAGE_INODES; ino++) {
		struct inode *i = inode_get(fs, ino);
		if (i && i->nlink > 0) {
			put_record(out, i);
			count++;
		}
	}
	if (!out->err)
		for (int k = 0; k < 4; k++)
			out->data[count_at + k] = (unsigned char)(count >> (8 * k));
}

static void get_time(struct rd *r, struct timespec *t)
{
	t->tv_sec = (time_t)rd_u64(r);
	t->tv_nsec = rd_u32(r);
	if (t->tv_nsec >= 1000000000L)
		r->err = 1;
}

static char *take_str(struct rd *r, size_t len, size_t max)
{
	const char *p = rd_take(r, len);
	if (!p || len > max || memchr(p, 0, len)) {
		r->err = 1;
		return NULL;
	}
	char *s = malloc(len + 1);
	if (!s) {
		r->err = 1;
		return NULL;
	}
	memcpy(s, p, len);
	s[len] = 0;
	return s;
}

static int get_xattrs(struct rd *r, struct inode *i)
{
	uint32_t n = rd_u32(r);
	if (r->err || n > 65536)
		return -EINVAL;
	for (uint32_t k = 0; k < n && !r->err; k++) {
		uint16_t nl = rd_u16(r);
		char *name = take_str(r, nl, 255);
		uint32_t vl = rd_u32(r);
		const void *val = rd_take(r, vl);
		if (!name || !val || inode_xattr_set(i, name, val, vl))
			r->err = 1;
		free(name);
	}
	return r->err ? -EINVAL : 0;
}

static int get_body(struct rd *r, struct inode *i)
{
	if (S_ISLNK(i->mode)) {
		i->target = take_str(r, rd_u32(r), 4095);
	} else if (S_ISREG(i->mode)) {
		uint32_t n = rd_u32(r);
		if (r->err || n > (i->size + CHUNK_SIZE - 1) / CHUNK_SIZE ||
		    !(i->ch = calloc(n ? n : 1, sizeof(*i->ch))))
			return -EINVAL;
		i->nch = n;
		for (uint32_t k = 0; k < n && !r->err; k++) {
			const void *nm = rd_take(r, NAME_BYTES);
			if (nm)
				memcpy(i->ch[k].name.b, nm, NAME_BYTES);
			i->ch[k].nblocks = rd_u32(r);
			i->ch[k].state = oname_is_zero(&i->ch[k].name) ? CH_HOLE : CH_SEALED;
			if ((i->ch[k].state == CH_HOLE) != (i->ch[k].nblocks == 0) ||
			    i->ch[k].nblocks > CHUNK_BLOCKS)
				r->err = 1;
		}
	} else if (S_ISDIR(i->mode)) {
		uint32_t n = rd_u32(r);
		for (uint32_t k = 0; k < n && !r->err; k++) {
			uint64_t ino = rd_u64(r);
			uint8_t type = rd_u8(r);
			uint16_t len = rd_u16(r);
			char *name = take_str(r, len, NAME_MAX_BYTES);
			if (!name || len == 0 || memchr(name, '/', len) ||
			    dir_find(i->dir, name, len) || dir_add(i->dir, name, len, ino, type))
				r->err = 1;
			free(name);
		}
	}
	return r->err ? -EINVAL : 0;
}

static struct inode *get_record(struct rd *r, uint64_t first)
{
	uint64_t ino = rd_u64(r);
	uint32_t mode = rd_u32(r);
	if (r->err || ino < first || ino >= first + PAGE_INODES || ino == 0)
		return NULL;
	struct inode *i = inode_new(ino, mode);
	if (!i)
		return NULL;
	i->uid = rd_u32(r);
	i->gid = rd_u32(r);
	i->nlink = rd_u32(r);
	i->size = rd_u64(r);
	i->rdev = rd_u64(r);
	get_time(r, &i->atime);
	get_time(r, &i->mtime);
	get_time(r, &i->ctime);
	if (r->err || i->nlink == 0 || get_xattrs(r, i) || get_body(r, i)) {
		inode_free(i);
		return NULL;
	}
	return i;
}

/* Loads one page into the inode table, all or nothing; called with mu held. */
int page_deserialize(struct fs *fs, size_t page, const unsigned char *p, size_t len)
{
	struct rd r = {.p = p, .left = len};
	const void *magic = rd_take(&r, 4);
	uint32_t version = rd_u32(&r);
	uint64_t idx = rd_u64(&r);
	uint32_t count = rd_u32(&r);
	if (r.err || memcmp(magic, PAGE_MAGIC, 4) || version != FORMAT_VERSION || idx != page ||
	    count > PAGE_INODES)
		return -EINVAL;
	struct inode *got[PAGE_INODES];
	uint32_t n = 0;
	for (; n < count; n++) {
		struct inode *i = get_record(&r, (uint64_t)page * PAGE_INODES);
		if (!i)
			break;
		if (inode_get(fs, i->ino) || inode_insert(fs, i)) {
			inode_free(i);
			break;
		}
		got[n] = i;
	}
	if (n == count && r.left == 0)
		return 0;
	while (n--)
		inode_free(htab_del(fs->inodes, &got[n]->ino, sizeof(uint64_t)));
	return -EINVAL;
}

void root_serialize(struct fs *fs, const struct oname *names, struct buf *out)
{
	buf_put(out, ROOT_MAGIC, 4);
	buf_u32(out, FORMAT_VERSION);
	buf_u64(out, fs->gen);
	buf_u64(out, (uint64_t)fs->root_time);
	buf_u64(out, fs->next_ino);
	buf_u64(out, fs->live_inodes);
	buf_u64(out, fs->live_bytes);
	buf_u32(out, DATA_BLOCK);
	buf_u32(out, CHUNK_BLOCKS);
	buf_u32(out, PAGE_INODES);
	buf_u32(out, (uint32_t)fs->npages);
	for (size_t k = 0; k < fs->npages; k++)
		buf_put(out, names[k].b, NAME_BYTES);
}

int root_deserialize(struct fs *fs, const unsigned char *p, size_t len)
{
	struct rd r = {.p = p, .left = len};
	const void *magic = rd_take(&r, 4);
	uint32_t version = rd_u32(&r);
	fs->gen = rd_u64(&r);
	fs->root_time = (int64_t)rd_u64(&r);
	fs->next_ino = rd_u64(&r);
	fs->live_inodes = rd_u64(&r);
	fs->live_bytes = rd_u64(&r);
	uint32_t bs = rd_u32(&r), cb = rd_u32(&r), pi = rd_u32(&r), np = rd_u32(&r);
	if (r.err || memcmp(magic, ROOT_MAGIC, 4) || version != FORMAT_VERSION ||
	    bs != DATA_BLOCK || cb != CHUNK_BLOCKS || pi != PAGE_INODES ||
	    (uint64_t)np * NAME_BYTES != r.left)
		return -EINVAL;
	free(fs->pages);
	fs->pages = calloc(np ? np : 1, sizeof(*fs->pages));
	if (!fs->pages)
		return -ENOMEM;
	fs->npages = np;
	for (uint32_t k = 0; k < np; k++)
		memcpy(fs->pages[k].name.b, rd_take(&r, NAME_BYTES), NAME_BYTES);
	return 0;
}

void page_aad(const struct oname *n, uint8_t aad[20])
{
	memcpy(aad, PAGE_MAGIC, 4);
	memcpy(aad + 4, n->b, NAME_BYTES);
}

void root_aad(const struct fs *fs, uint8_t aad[20])
{
	memcpy(aad, ROOT_MAGIC, 4);
	memcpy(aad + 4, fs->vault_id, 16);
}

/* Padded size: powers of two from 512 bytes to 64 KiB, then multiples of 64 KiB. */
static size_t bucket(size_t len)
{
	size_t b = 512;
	while (b < len && b < 65536)
		b *= 2;
	return b >= len ? b : (len + 65535) / 65536 * 65536;
}

int meta_seal(const unsigned char key[KEY_BYTES], const void *aad, size_t aadlen,
	      const struct buf *plain, struct buf *out)
{
	size_t padded = bucket(plain->len + 4);
	unsigned char *tmp = calloc(1, padded);
	if (!tmp || plain->err || buf_reserve(out, padded + SEAL_OVERHEAD)) {
		free(tmp);
		return -ENOMEM;
	}
	for (int k = 0; k < 4; k++)
		tmp[k] = (unsigned char)(plain->len >> (8 * k));
	memcpy(tmp + 4, plain->data, plain->len);
	aead_seal(out->data + out->len, tmp, padded, aad, aadlen, key);
	out->len += padded + SEAL_OVERHEAD;
	wipe(tmp, padded);
	free(tmp);
	return 0;
}

int meta_open(const unsigned char key[KEY_BYTES], const void *aad, size_t aadlen,
	      const unsigned char *p, size_t len, struct buf *plain)
{
	if (len < SEAL_OVERHEAD + 4 || buf_reserve(plain, len))
		return len < SEAL_OVERHEAD + 4 ? -EBADMSG : -ENOMEM;
	if (aead_open(plain->data, p, len, aad, aadlen, key))
		return -EBADMSG;
	size_t n = len - SEAL_OVERHEAD;
	uint32_t inner = (uint32_t)plain->data[0] | (uint32_t)plain->data[1] << 8 |
			 (uint32_t)plain->data[2] << 16 | (uint32_t)plain->data[3] << 24;
	if (inner > n - 4)
		return -EBADMSG;
	memmove(plain->data, plain->data + 4, inner);
	plain->len = inner;
	return 0;
}

int root_peek(const struct keyring *keys, const uint8_t vault_id[16], const void *sealed,
	      size_t len, struct root_info *out)
{
	struct fs probe = {0};
	struct buf plain = {0};
	uint8_t aad[20];
	memcpy(probe.vault_id, vault_id, 16);
	root_aad(&probe, aad);
	int err = meta_open(keys->root, aad, sizeof(aad), sealed, len, &plain);
	if (!err)
		err = root_deserialize(&probe, plain.data, plain.len);
	free(probe.pages);
	buf_free(&plain);
	if (err)
		return -EBADMSG;
	*out = (struct root_info){.gen = probe.gen,
				  .time_ns = probe.root_time,
				  .inodes = probe.live_inodes,
				  .bytes = probe.live_bytes};
	return 0;
}

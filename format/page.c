/* page: inode pages as bytes (see page.h).
 * Must never accept a record it cannot fully validate, and never allocate by a count that the
 * remaining bytes cannot hold. */
#include "format/page.h"
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "format/meta.h"

/* The fewest bytes one xattr, chunk reference and directory entry take. */
#define XATTR_MIN 6u
#define CHREF_MIN (NAME_BYTES + 4u)
#define DENT_MIN  11u

void page_aad(const struct oname *n, uint8_t aad[PAGE_AAD_BYTES])
{
	memcpy(aad, PAGE_MAGIC, 4);
	memcpy(aad + 4, n->b, NAME_BYTES);
}

static void put_time(struct buf *b, const struct timespec *t)
{
	buf_u64(b, (uint64_t)t->tv_sec);
	buf_u32(b, (uint32_t)t->tv_nsec);
}

static void put_body(struct buf *b, const struct page_record *r)
{
	if (S_ISLNK(r->mode)) {
		buf_u32(b, r->target_len);
		buf_put(b, r->target, r->target_len);
	} else if (S_ISREG(r->mode)) {
		buf_u32(b, r->nch);
		for (uint32_t k = 0; k < r->nch; k++) {
			buf_put(b, r->ch[k].name.b, NAME_BYTES);
			buf_u32(b, r->ch[k].nblocks);
		}
	} else if (S_ISDIR(r->mode)) {
		buf_u32(b, r->ndent);
		for (uint32_t k = 0; k < r->ndent; k++) {
			buf_u64(b, r->dent[k].ino);
			buf_u8(b, r->dent[k].type);
			buf_u16(b, r->dent[k].len);
			buf_put(b, r->dent[k].name, r->dent[k].len);
		}
	}
}

static void put_record(struct buf *b, const struct page_record *r)
{
	buf_u64(b, r->ino);
	buf_u32(b, r->mode);
	buf_u32(b, r->uid);
	buf_u32(b, r->gid);
	buf_u32(b, r->nlink);
	buf_u64(b, r->size);
	buf_u64(b, r->rdev);
	put_time(b, &r->atime);
	put_time(b, &r->mtime);
	put_time(b, &r->ctime);
	buf_u32(b, r->nxa);
	for (uint32_t k = 0; k < r->nxa; k++) {
		buf_u16(b, r->xa[k].name_len);
		buf_put(b, r->xa[k].name, r->xa[k].name_len);
		buf_u32(b, r->xa[k].len);
		buf_put(b, r->xa[k].val, r->xa[k].len);
	}
	put_body(b, r);
}

void page_encode(const struct page_plain *p, struct buf *out)
{
	meta_put_header(out, PAGE_MAGIC);
	buf_u64(out, p->index);
	buf_u32(out, p->count);
	for (uint32_t k = 0; k < p->count && k < PAGE_INODES; k++)
		put_record(out, &p->rec[k]);
}

static void get_time(struct rd *r, struct timespec *t)
{
	t->tv_sec = (time_t)rd_u64(r);
	t->tv_nsec = rd_u32(r);
	if (t->tv_nsec >= 1000000000L)
		r->err = 1;
}

/* A string of len bytes (at most max, no NUL) in place; NULL (and r->err) otherwise. */
static const char *get_str(struct rd *r, size_t len, size_t max)
{
	const char *s = rd_take(r, len);
	if (!s || len > max || memchr(s, 0, len)) {
		r->err = 1;
		return NULL;
	}
	return s;
}

/* Allocates n elements of size sz once the remaining bytes can hold n items of min bytes. */
static void *get_array(struct rd *r, uint32_t n, size_t min, size_t sz, int *err)
{
	if (r->err || (uint64_t)n * min > r->left) {
		r->err = 1;
		return NULL;
	}
	void *v = calloc(n ? n : 1, sz);
	if (!v)
		*err = -ENOMEM;
	return v;
}

static int get_xattrs(struct rd *r, struct page_record *rec)
{
	int err = 0;
	uint32_t n = rd_u32(r);
	if (n > XATTR_MAX_COUNT || !(rec->xa = get_array(r, n, XATTR_MIN, sizeof(*rec->xa), &err)))
		return err ? err : -EINVAL;
	rec->nxa = n;
	for (uint32_t k = 0; k < n && !r->err; k++) {
		struct page_xattr *x = &rec->xa[k];
		x->name_len = rd_u16(r);
		x->name = get_str(r, x->name_len, XATTR_NAME_MAX_BYTES);
		x->len = rd_u32(r);
		x->val = rd_take(r, x->len);
	}
	return r->err ? -EINVAL : 0;
}

static int get_chunks(struct rd *r, struct page_record *rec)
{
	int err = 0;
	uint32_t n = rd_u32(r);
	uint64_t most = rec->size / CHUNK_SIZE + (rec->size % CHUNK_SIZE != 0);
	if (n > most || !(rec->ch = get_array(r, n, CHREF_MIN, sizeof(*rec->ch), &err)))
		return err ? err : -EINVAL;
	rec->nch = n;
	for (uint32_t k = 0; k < n && !r->err; k++) {
		struct page_chunk *c = &rec->ch[k];
		const void *nm = rd_take(r, NAME_BYTES);
		if (nm)
			memcpy(c->name.b, nm, NAME_BYTES);
		c->nblocks = rd_u32(r);
		if (oname_is_zero(&c->name) != (c->nblocks == 0) || c->nblocks > CHUNK_BLOCKS)
			r->err = 1;
	}
	return r->err ? -EINVAL : 0;
}

static int get_dents(struct rd *r, struct page_record *rec)
{
	int err = 0;
	uint32_t n = rd_u32(r);
	if (!(rec->dent = get_array(r, n, DENT_MIN, sizeof(*rec->dent), &err)))
		return err ? err : -EINVAL;
	rec->ndent = n;
	for (uint32_t k = 0; k < n && !r->err; k++) {
		struct page_dent *e = &rec->dent[k];
		e->ino = rd_u64(r);
		e->type = rd_u8(r);
		e->len = rd_u16(r);
		e->name = get_str(r, e->len, NAME_MAX_BYTES);
		if (e->name && (e->len == 0 || memchr(e->name, '/', e->len)))
			r->err = 1;
	}
	return r->err ? -EINVAL : 0;
}

static int get_body(struct rd *r, struct page_record *rec)
{
	if (S_ISLNK(rec->mode)) {
		rec->target_len = rd_u32(r);
		rec->target = get_str(r, rec->target_len, TARGET_MAX_BYTES);
		return r->err ? -EINVAL : 0;
	}
	if (S_ISREG(rec->mode))
		return get_chunks(r, rec);
	if (S_ISDIR(rec->mode))
		return get_dents(r, rec);
	return 0;
}

static int get_record(struct rd *r, uint64_t index, struct page_record *rec)
{
	rec->ino = rd_u64(r);
	rec->mode = rd_u32(r);
	rec->uid = rd_u32(r);
	rec->gid = rd_u32(r);
	rec->nlink = rd_u32(r);
	rec->size = rd_u64(r);
	rec->rdev = rd_u64(r);
	get_time(r, &rec->atime);
	get_time(r, &rec->mtime);
	get_time(r, &rec->ctime);
	if (r->err || rec->ino == 0 || rec->ino / PAGE_INODES != index || rec->nlink == 0)
		return -EINVAL;
	int err = get_xattrs(r, rec);
	return err ? err : get_body(r, rec);
}

int page_decode(const unsigned char *b, size_t len, struct page_plain *p)
{
	struct rd r = {.p = b, .left = len};
	memset(p, 0, sizeof(*p));
	meta_get_header(&r, PAGE_MAGIC);
	p->index = rd_u64(&r);
	uint32_t count = rd_u32(&r);
	if (r.err || count > PAGE_INODES)
		return -EINVAL;
	p->count = count;
	int err = 0;
	for (uint32_t k = 0; !err && k < count; k++)
		err = get_record(&r, p->index, &p->rec[k]);
	if (!err && r.left != 0)
		err = -EINVAL;
	if (err)
		page_plain_free(p);
	return err;
}

void page_plain_free(struct page_plain *p)
{
	for (uint32_t k = 0; k < PAGE_INODES; k++) {
		free(p->rec[k].xa);
		free(p->rec[k].ch);
		free(p->rec[k].dent);
	}
	memset(p, 0, sizeof(*p));
}

int page_record_count(const unsigned char *b, size_t len)
{
	if (len < PAGE_HEADER_BYTES || memcmp(b, PAGE_MAGIC, 4) != 0)
		return -EINVAL;
	uint32_t n = 0;
	for (int k = 0; k < 4; k++)
		n |= (uint32_t)b[PAGE_COUNT_AT + k] << (8 * k);
	return n > PAGE_INODES ? -EINVAL : (int)n;
}

/* page: inode pages as bytes (see page.h). Writes version 3 (a file's chunks as runs of stored
 * chunks, holes taking no byte; a directory's entries inline or, split, the names of its bucket
 * tables); reads versions 3, 2 (inline entries only) and 1 (one reference per chunk, holes too).
 * Must never accept a record it cannot fully validate, never allocate by a count that the
 * remaining bytes cannot hold, and never let a page's size follow a file's size instead of its
 * data. */
#include "format/page.h"
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The fewest bytes one xattr, chunk reference and directory entry take. */
#define XATTR_MIN      6u
#define CHREF_MIN      (NAME_BYTES + 4u)
#define DENT_MIN       11u
#define PACK_REF_EXTRA (NAME_BYTES + 4u) /* a packed reference's pack name and first block */

static const unsigned char zero_ref[CHREF_MIN]; /* a version 1 hole */

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

/* The number of chunks from k on whose indexes follow one another. */
static uint32_t run_length(const struct page_record *r, uint32_t k)
{
	uint32_t n = 1;
	while (k + n < r->nch && r->ch[k + n].index == r->ch[k].index + n)
		n++;
	return n;
}

/* One chunk reference: name, u32 nblocks; a packed chunk's nblocks carries PAGE_CHUNK_PACKED and
 * is followed by the pack's name and u32 first block. */
static void put_ref(struct buf *b, const struct page_chunk *c)
{
	bool packed = !oname_is_zero(&c->pack);
	buf_put(b, c->name.b, NAME_BYTES);
	buf_u32(b, c->nblocks | (packed ? PAGE_CHUNK_PACKED : 0));
	if (packed) {
		buf_put(b, c->pack.b, NAME_BYTES);
		buf_u32(b, c->first);
	}
}

/* A file's stored chunks as runs: u32 run count, then per run u32 first index, u32 length and
 * that many references (name, u32 nblocks). Holes take no byte. */
static void put_runs(struct buf *b, const struct page_record *r)
{
	uint32_t runs = 0;
	for (uint32_t k = 0; k < r->nch; k += run_length(r, k))
		runs++;
	buf_u32(b, runs);
	for (uint32_t k = 0, n; k < r->nch; k += n) {
		n = run_length(r, k);
		buf_u32(b, r->ch[k].index);
		buf_u32(b, n);
		for (uint32_t j = k; j < k + n; j++)
			put_ref(b, &r->ch[j]);
	}
}

static void put_body(struct buf *b, const struct page_record *r)
{
	if (S_ISLNK(r->mode)) {
		buf_u32(b, r->target_len);
		buf_put(b, r->target, r->target_len);
	} else if (S_ISREG(r->mode)) {
		put_runs(b, r);
	} else if (S_ISDIR(r->mode) && r->split) {
		buf_u8(b, PAGE_DIR_SPLIT);
		buf_u32(b, r->nbuckets);
		buf_u64(b, r->nentries);
		for (uint32_t k = 0; k < r->ntables; k++)
			buf_put(b, r->tables[k].b, NAME_BYTES);
	} else if (S_ISDIR(r->mode)) {
		buf_u8(b, PAGE_DIR_INLINE);
		page_dents_put(b, r->dent, r->ndent);
	}
}

void page_dents_put(struct buf *b, const struct page_dent *d, uint32_t n)
{
	buf_u32(b, n);
	for (uint32_t k = 0; k < n; k++) {
		buf_u64(b, d[k].ino);
		buf_u8(b, d[k].type);
		buf_u16(b, d[k].len);
		buf_put(b, d[k].name, d[k].len);
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
	buf_put(out, PAGE_MAGIC, 4);
	buf_u32(out, PAGE_VERSION);
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

/* The number of 1 MiB chunks that a file of size bytes spans. */
static uint64_t span_of(uint64_t size)
{
	return size / CHUNK_SIZE + (size % CHUNK_SIZE != 0);
}

static void get_name(struct rd *r, struct oname *n)
{
	const void *nm = rd_take(r, NAME_BYTES);
	if (nm)
		memcpy(n->b, nm, NAME_BYTES);
}

/* The pack location of a version 3 reference: a name that is not zero, and the chunk's blocks
 * within the pack's PACK_MAX_BLOCKS. */
static void get_pack(struct rd *r, struct page_chunk *c)
{
	get_name(r, &c->pack);
	c->first = rd_u32(r);
	if (oname_is_zero(&c->pack) || (uint64_t)c->first + c->nblocks > PACK_MAX_BLOCKS)
		r->err = 1;
}

/* One chunk reference into c: a name that is not zero and 1 to CHUNK_BLOCKS blocks; in
 * version 3, a pack location when nblocks carries PAGE_CHUNK_PACKED. */
static void get_ref(struct rd *r, uint32_t version, struct page_chunk *c)
{
	get_name(r, &c->name);
	c->nblocks = rd_u32(r);
	bool packed = version == PAGE_VERSION && (c->nblocks & PAGE_CHUNK_PACKED);
	c->nblocks &= packed ? ~PAGE_CHUNK_PACKED : ~0u;
	if (oname_is_zero(&c->name) || c->nblocks == 0 || c->nblocks > CHUNK_BLOCKS)
		r->err = 1;
	else if (packed)
		get_pack(r, c);
}

/* Version 1: u32 count (at most the span), then one reference per chunk, a hole being the zero
 * name with nblocks 0; the holes are left out of rec->ch. */
static int get_chunks_v1(struct rd *r, struct page_record *rec)
{
	int err = 0;
	uint32_t n = rd_u32(r);
	if (n > span_of(rec->size) ||
	    !(rec->ch = get_array(r, n, CHREF_MIN, sizeof(*rec->ch), &err)))
		return err ? err : -EINVAL;
	for (uint32_t k = 0; k < n && !r->err; k++) {
		struct page_chunk *c = &rec->ch[rec->nch];
		const unsigned char *at = r->p;
		if (r->left >= CHREF_MIN && !memcmp(at, zero_ref, CHREF_MIN)) {
			rd_take(r, CHREF_MIN);
			continue;
		}
		get_ref(r, PAGE_VERSION_1, c);
		c->index = k;
		rec->nch++;
	}
	return r->err ? -EINVAL : 0;
}

/* Skips len references (a packed one is PACK_REF_EXTRA bytes longer). */
static void skip_refs(struct rd *r, uint32_t version, uint64_t len)
{
	for (uint64_t j = 0; j < len && !r->err; j++) {
		rd_take(r, NAME_BYTES);
		bool packed = version == PAGE_VERSION && (rd_u32(r) & PAGE_CHUNK_PACKED);
		if (packed)
			rd_take(r, PACK_REF_EXTRA);
	}
}

/* Versions 2 and 3 (see put_runs): runs of at least one chunk, in increasing order with at least
 * one hole between two, within the size's span. A first pass checks the runs and counts the chunks
 * before anything is allocated. */
static int scan_runs(struct rd r, uint32_t version, uint32_t nruns, uint64_t span, uint32_t *total)
{
	uint64_t end = 0, sum = 0;
	for (uint32_t k = 0; k < nruns && !r.err; k++) {
		uint64_t first = rd_u32(&r), len = rd_u32(&r);
		if (r.err || len == 0 || (k && first <= end) || first + len > span ||
		    first + len > UINT32_MAX || len * CHREF_MIN > r.left)
			return -EINVAL;
		skip_refs(&r, version, len);
		end = first + len;
		sum += len;
	}
	*total = (uint32_t)sum; /* sum <= end <= UINT32_MAX */
	return r.err ? -EINVAL : 0;
}

static int get_runs(struct rd *r, uint32_t version, struct page_record *rec)
{
	int err = 0;
	uint32_t nruns = rd_u32(r), total = 0;
	if (r->err || scan_runs(*r, version, nruns, span_of(rec->size), &total) ||
	    !(rec->ch = get_array(r, total, CHREF_MIN, sizeof(*rec->ch), &err)))
		return err ? err : -EINVAL;
	for (uint32_t k = 0; k < nruns && !r->err; k++) {
		uint32_t first = rd_u32(r), len = rd_u32(r);
		for (uint32_t j = 0; j < len && !r->err; j++) {
			struct page_chunk *c = &rec->ch[rec->nch++];
			c->index = first + j;
			get_ref(r, version, c);
		}
	}
	return r->err ? -EINVAL : 0;
}

int page_dents_get(struct rd *r, struct page_dent **out, uint32_t *count)
{
	int err = 0;
	uint32_t n = rd_u32(r);
	if (!(*out = get_array(r, n, DENT_MIN, sizeof(**out), &err)))
		return err ? err : -EINVAL;
	*count = n;
	for (uint32_t k = 0; k < n && !r->err; k++) {
		struct page_dent *e = &(*out)[k];
		e->ino = rd_u64(r);
		e->type = rd_u8(r);
		e->len = rd_u16(r);
		e->name = get_str(r, e->len, NAME_MAX_BYTES);
		if (e->name && (e->len == 0 || memchr(e->name, '/', e->len)))
			r->err = 1;
	}
	return r->err ? -EINVAL : 0;
}

/* Version 3 split: u32 nbuckets (1..DIR_BUCKETS_MAX), u64 entries, the table names. */
static int get_split(struct rd *r, struct page_record *rec)
{
	int err = 0;
	rec->split = 1;
	rec->nbuckets = rd_u32(r);
	rec->nentries = rd_u64(r);
	if (r->err || rec->nbuckets == 0 || rec->nbuckets > DIR_BUCKETS_MAX)
		return -EINVAL;
	rec->ntables = (rec->nbuckets + NAMETAB_MAX - 1) / NAMETAB_MAX;
	if (!(rec->tables = get_array(r, rec->ntables, NAME_BYTES, sizeof(*rec->tables), &err)))
		return err ? err : -EINVAL;
	for (uint32_t k = 0; k < rec->ntables; k++)
		memcpy(rec->tables[k].b, rd_take(r, NAME_BYTES), NAME_BYTES);
	return 0;
}

static int get_dir(struct rd *r, uint32_t version, struct page_record *rec)
{
	uint8_t form = version == PAGE_VERSION ? rd_u8(r) : PAGE_DIR_INLINE;
	if (r->err || form > PAGE_DIR_SPLIT)
		return -EINVAL;
	return form == PAGE_DIR_SPLIT ? get_split(r, rec)
				      : page_dents_get(r, &rec->dent, &rec->ndent);
}

static int get_body(struct rd *r, uint32_t version, struct page_record *rec)
{
	if (S_ISLNK(rec->mode)) {
		rec->target_len = rd_u32(r);
		rec->target = get_str(r, rec->target_len, TARGET_MAX_BYTES);
		return r->err ? -EINVAL : 0;
	}
	if (S_ISREG(rec->mode))
		return version == PAGE_VERSION_1 ? get_chunks_v1(r, rec)
						 : get_runs(r, version, rec);
	if (S_ISDIR(rec->mode))
		return get_dir(r, version, rec);
	return 0;
}

static int get_record(struct rd *r, uint32_t version, uint64_t index, struct page_record *rec)
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
	return err ? err : get_body(r, version, rec);
}

int page_decode(const unsigned char *b, size_t len, struct page_plain *p)
{
	struct rd r = {.p = b, .left = len};
	memset(p, 0, sizeof(*p));
	const void *magic = rd_take(&r, 4);
	uint32_t version = rd_u32(&r);
	p->index = rd_u64(&r);
	uint32_t count = rd_u32(&r);
	if (!r.err && memcmp(magic, PAGE_MAGIC, 4) == 0 && version > PAGE_VERSION)
		return -EPROTONOSUPPORT; /* a newer coffer's page (its bytes authenticated) */
	if (r.err || memcmp(magic, PAGE_MAGIC, 4) != 0 || version < PAGE_VERSION_1 ||
	    count > PAGE_INODES)
		return -EINVAL;
	p->count = count;
	int err = 0;
	for (uint32_t k = 0; !err && k < count; k++)
		err = get_record(&r, version, p->index, &p->rec[k]);
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
		free(p->rec[k].tables);
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

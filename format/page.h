/* page: the codec of inode pages (coffer-format(5), "Inode pages"): the records of up to 64
 * inodes (fields, xattrs, symlink target, chunk references, directory entries) as plain structs.
 * Pure: no I/O, no in-memory inodes (fs/page.c converts); sealing is meta.h's. */
#ifndef COFFER_FORMAT_PAGE_H
#define COFFER_FORMAT_PAGE_H
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "format/format.h"
#include "lib/buf.h"

/* Names and values point into the bytes decoded (or the caller's memory for encoding); they are
 * not NUL-terminated. The arrays (tables too) are owned by the struct: page_plain_free releases
 * them. */
struct page_xattr {
	const char *name;
	const unsigned char *val;
	uint32_t len;
	uint16_t name_len;
};

/* A stored chunk: holes have none. A record's chunks are in increasing index. */
struct page_chunk {
	uint32_t index;	   /* the chunk's position in the file (bytes from index * CHUNK_SIZE) */
	struct oname name; /* never zero */
	uint32_t nblocks;  /* 1 to CHUNK_BLOCKS */
	/* Version 3: the chunk's blocks are blocks [first, first + nblocks) of this pack object
	 * (within PACK_MAX_BLOCKS); zero: the chunk is an object of its own. */
	struct oname pack;
	uint32_t first;
};

struct page_dent {
	uint64_t ino;
	const char *name;
	uint16_t len;
	uint8_t type; /* DT_* */
};

struct page_record {
	uint64_t ino;
	uint32_t mode, uid, gid, nlink;
	uint64_t size, rdev;
	struct timespec atime, mtime, ctime;
	struct page_xattr *xa;
	uint32_t nxa;
	const char *target; /* symlinks */
	uint32_t target_len;
	struct page_chunk *ch; /* regular files: the stored chunks only */
	uint32_t nch;
	struct page_dent *dent; /* directories kept inline (split == 0) */
	uint32_t ndent;
	/* Split directories (version 3, split == 1): the entries are in nbuckets bucket objects
	 * listed by ntables = ceil(nbuckets / NAMETAB_MAX) name tables (a zero name: a table whose
	 * buckets are all empty); nentries is the entries' total, checked when they are loaded. */
	uint8_t split;
	uint32_t nbuckets, ntables;
	uint64_t nentries;
	struct oname *tables;
};

struct page_plain {
	uint64_t index;
	uint32_t count;
	struct page_record rec[PAGE_INODES];
};

void page_aad(const struct oname *n, uint8_t aad[PAGE_AAD_BYTES]);
/* Appends the page's payload (the records rec[0..count)), in version PAGE_VERSION. */
void page_encode(const struct page_plain *p, struct buf *out);
/* Decodes and checks every field and bound of a page payload (version PAGE_VERSION,
 * PAGE_VERSION_2 or PAGE_VERSION_1, whose holes are left out) into a zeroed *p, all or nothing:
 * 0, -EINVAL (damaged) or -ENOMEM. Duplicate directory names are the caller's to refuse. */
int page_decode(const unsigned char *b, size_t len, struct page_plain *p);
void page_plain_free(struct page_plain *p);
/* Directory entries as pages and buckets hold them: u32 count, then per entry u64 ino, u8 type,
 * u16 len and len name bytes (1..NAME_MAX_BYTES, no NUL, no '/'). The get side bounds the count
 * by the bytes left before allocating *out (the caller frees it): 0, -EINVAL or -ENOMEM. */
void page_dents_put(struct buf *b, const struct page_dent *d, uint32_t n);
int page_dents_get(struct rd *r, struct page_dent **out, uint32_t *n);
/* The record count of an encoded page (0: no live inode, no object), or -EINVAL. */
int page_record_count(const unsigned char *b, size_t len);

#endif

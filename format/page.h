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
 * not NUL-terminated. The arrays are owned by the struct: page_plain_free releases them. */
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
	struct page_dent *dent; /* directories */
	uint32_t ndent;
};

struct page_plain {
	uint64_t index;
	uint32_t count;
	struct page_record rec[PAGE_INODES];
};

void page_aad(const struct oname *n, uint8_t aad[PAGE_AAD_BYTES]);
/* Appends the page's payload (the records rec[0..count)), in version PAGE_VERSION. */
void page_encode(const struct page_plain *p, struct buf *out);
/* Decodes and checks every field and bound of a page payload (version PAGE_VERSION or
 * PAGE_VERSION_1, whose holes are left out) into a zeroed *p, all or nothing:
 * 0, -EINVAL (damaged) or -ENOMEM. Duplicate directory names are the caller's to refuse. */
int page_decode(const unsigned char *b, size_t len, struct page_plain *p);
void page_plain_free(struct page_plain *p);
/* The record count of an encoded page (0: no live inode, no object), or -EINVAL. */
int page_record_count(const unsigned char *b, size_t len);

#endif

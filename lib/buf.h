/* buf: a growable byte buffer with little-endian writers, and a bounds-checked reader.
 * Readers never read past the end: a short input sets the error flag instead. */
#ifndef COFFER_BUF_H
#define COFFER_BUF_H
#include <stddef.h>
#include <stdint.h>

struct buf {
	unsigned char *data;
	size_t len, cap;
	int err; /* -ENOMEM once an append failed */
};

int buf_reserve(struct buf *b, size_t extra);
void buf_put(struct buf *b, const void *p, size_t n);
void buf_u8(struct buf *b, uint8_t v);
void buf_u16(struct buf *b, uint16_t v);
void buf_u32(struct buf *b, uint32_t v);
void buf_u64(struct buf *b, uint64_t v);
void buf_free(struct buf *b);

struct rd {
	const unsigned char *p;
	size_t left;
	int err; /* set once a read ran past the end */
};

const void *rd_take(struct rd *r, size_t n);
uint8_t rd_u8(struct rd *r);
uint16_t rd_u16(struct rd *r);
uint32_t rd_u32(struct rd *r);
uint64_t rd_u64(struct rd *r);

#endif

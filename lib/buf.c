/* buf: growable byte buffer and bounds-checked reader (see buf.h).
 * Must never write or read outside the allocation; all integers are little-endian. */
#include "lib/buf.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

int buf_reserve(struct buf *b, size_t extra)
{
	if (b->err)
		return b->err;
	if (b->len + extra <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < b->len + extra)
		cap *= 2;
	unsigned char *d = realloc(b->data, cap);
	if (!d)
		return b->err = -ENOMEM;
	b->data = d;
	b->cap = cap;
	return 0;
}

void buf_put(struct buf *b, const void *p, size_t n)
{
	if (n == 0 || buf_reserve(b, n))
		return;
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

static void put_le(struct buf *b, uint64_t v, int n)
{
	unsigned char t[8];
	for (int i = 0; i < n; i++)
		t[i] = (unsigned char)(v >> (8 * i));
	buf_put(b, t, (size_t)n);
}

void buf_u8(struct buf *b, uint8_t v)
{
	put_le(b, v, 1);
}
void buf_u16(struct buf *b, uint16_t v)
{
	put_le(b, v, 2);
}
void buf_u32(struct buf *b, uint32_t v)
{
	put_le(b, v, 4);
}
void buf_u64(struct buf *b, uint64_t v)
{
	put_le(b, v, 8);
}

void buf_free(struct buf *b)
{
	free(b->data);
	*b = (struct buf){0};
}

const void *rd_take(struct rd *r, size_t n)
{
	if (r->err || n > r->left) {
		r->err = 1;
		return NULL;
	}
	const void *p = r->p;
	r->p += n;
	r->left -= n;
	return p;
}

static uint64_t get_le(struct rd *r, int n)
{
	const unsigned char *p = rd_take(r, (size_t)n);
	uint64_t v = 0;
	if (!p)
		return 0;
	for (int i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

uint8_t rd_u8(struct rd *r)
{
	return (uint8_t)get_le(r, 1);
}
uint16_t rd_u16(struct rd *r)
{
	return (uint16_t)get_le(r, 2);
}
uint32_t rd_u32(struct rd *r)
{
	return (uint32_t)get_le(r, 4);
}
uint64_t rd_u64(struct rd *r)
{
	return get_le(r, 8);
}

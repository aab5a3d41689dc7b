/* text: the field syntax shared by the text formats (the vault config and sync.state): lines of
 * "key value\n", lowercase hex, unsigned decimal. Internal to format/.
 * Must never read past the end it is given, nor accept a sign, a space or an overflow. */
#ifndef COFFER_FORMAT_TEXT_H
#define COFFER_FORMAT_TEXT_H
#include <stddef.h>
#include <stdint.h>
#include "lib/buf.h"

/* Appends 2n lowercase hex digits; hex_str writes them NUL-terminated into out[2n + 1]. */
void text_hex(struct buf *b, const uint8_t *p, size_t n);
void hex_str(const uint8_t *p, size_t n, char *out);
/* Reads exactly 2n lowercase hex digits; -EINVAL otherwise. */
int text_unhex(uint8_t *out, size_t n, const char *s, size_t slen);
void text_u64(struct buf *b, uint64_t v);
/* Reads 1 to 20 decimal digits that fit a u64; -EINVAL otherwise. */
int text_get_u64(const char *s, size_t len, uint64_t *out);
/* Takes the line "key value\n" at *p (advancing past it); -EINVAL unless it has that key. */
int text_field(const char **p, const char *end, const char *key, const char **val, size_t *len);

#endif

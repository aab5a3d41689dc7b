/* known: the record codec of the cache's `known` journal (the objects this device knows to be in
 * the vault: it uploaded them, or fetched and authenticated them): an 8-byte header "CFKNOWN1",
 * then records of one byte ('+' added, '-' removed) and a 16-byte name. Pure functions.
 * Must never read past the given bytes: a torn last record is refused, not guessed. */
#ifndef COFFER_FORMAT_KNOWN_H
#define COFFER_FORMAT_KNOWN_H
#include <stdbool.h>
#include <stddef.h>
#include "format/format.h"

#define KNOWN_MAGIC	   "CFKNOWN1"
#define KNOWN_HEADER_BYTES 8u
#define KNOWN_RECORD_BYTES (1u + NAME_BYTES)

/* Writes one record into out. */
void known_record_encode(unsigned char out[KNOWN_RECORD_BYTES], const struct oname *n, bool add);
/* Decodes the record at p (KNOWN_RECORD_BYTES bytes); -EINVAL for an unknown op byte. */
int known_record_decode(const unsigned char *p, struct oname *n, bool *add);
/* 0 when p (len bytes) starts with the header; -EINVAL otherwise. */
int known_header_check(const unsigned char *p, size_t len);

#endif

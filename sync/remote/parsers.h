/* parsers: the pure parsers of the listing answers of the HTTP backends (S3 ListObjectsV2 pages
 * in s3.c, WebDAV PROPFIND multistatus in webdav.c), exposed so that tests/fuzz can feed them
 * hostile bytes without a server. Bytes in, keys out through fn; no I/O.
 * Must never hand fn a key that is not a NUL-terminated string inside what was parsed. */
#ifndef COFFER_REMOTE_PARSERS_H
#define COFFER_REMOTE_PARSERS_H
#include <stddef.h>
#include "lib/buf.h"

/* One ListObjectsV2 page: calls fn with each key past its first skip bytes (keys no longer than
 * skip, or with a '/' after it, are not ours); *next receives the continuation token (a new
 * string, NULL when the listing is complete). 0, fn's error, or -EPROTO for anything but a
 * ListBucketResult (or a truncated one with no token). */
int s3_list_parse(const struct buf *b, size_t skip, int (*fn)(const char *key, void *arg),
		  void *arg, char **next);
/* One PROPFIND Depth 1 answer: calls fn with the %-decoded last segment of each member's href
 * (collections and names starting with '.' left out). 0, fn's error, or -EPROTO. */
int dav_list_parse(const struct buf *b, int (*fn)(const char *key, void *arg), void *arg);

#endif

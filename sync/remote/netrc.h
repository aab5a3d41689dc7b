/* netrc: whether the text of a netrc file holds credentials that libcurl would send to a host:
 * a "machine HOST" entry (the name compared without case, an IPv6 address without brackets) or
 * a "default" entry. Reads the file as curl does: tokens split by white space, "quoted" tokens,
 * '#' comments to the end of the line, macdef bodies up to an empty line.
 * Pure: no I/O. Must never copy, return or log a login or a password. */
#ifndef COFFER_REMOTE_NETRC_H
#define COFFER_REMOTE_NETRC_H
#include <stdbool.h>
#include <stddef.h>

bool netrc_has_host(const char *text, size_t len, const char *host);

#endif

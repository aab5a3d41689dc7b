/* url: splitting the scheme://[USER@]HOST[:PORT][/PATH] URLs of the network backends, and
 * %-encoding the paths and queries they send. Pure functions, no I/O.
 * Must never accept a password in a URL (credentials never come from the command line). */
#ifndef COFFER_REMOTE_URL_H
#define COFFER_REMOTE_URL_H
#include <stdbool.h>
#include "lib/buf.h"

struct url_parts {
	char scheme[16];
	char user[64];	 /* "" if none */
	char host[256];	 /* an IPv6 address keeps its brackets */
	int port;	 /* 0 if none */
	char path[1024]; /* "" or starting with '/', raw */
};

/* Splits url; on a malformed one returns -EINVAL with *why naming the problem. */
int url_parse(const char *url, struct url_parts *u, const char **why);
/* Appends s to b %-encoded as AWS wants (unreserved characters kept; '/' kept if keep_slash). */
void url_escape(struct buf *b, const char *s, bool keep_slash);
/* A new string: base (already encoded) then path %-encoded with its '/' kept; NULL if out of
 * memory. */
char *url_join(const char *base, const char *path);

#endif

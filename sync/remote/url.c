/* url: splitting the network backends' URLs and %-encoding what they send (see url.h).
 * Must never accept a password in a URL, or a host name with characters a host cannot have. */
#include "sync/remote/url.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void url_escape(struct buf *b, const char *s, bool keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~' || (c == '/' && keep_slash)) {
			buf_put(b, s, 1);
		} else {
			char e[3] = {'%', hex[c >> 4], hex[c & 15]};
			buf_put(b, e, 3);
		}
	}
}

char *url_join(const char *base, const char *path)
{
	struct buf b = {0};
	buf_put(&b, base, strlen(base));
	url_escape(&b, path, true);
	buf_put(&b, "", 1);
	if (b.err)
		buf_free(&b);
	return (char *)b.data;
}

static bool host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.';
}

static int parse_authority(const char *a, size_t n, struct url_parts *u, const char **why)
{
	const char *at = memchr(a, '@', n);
	if (at) {
		if ((size_t)(at - a) >= sizeof(u->user)) {
			*why = "the user name is too long";
			return -EINVAL;
		}
		if (memchr(a, ':', (size_t)(at - a))) {
			*why = "a password does not belong in the URL (coffer reads it from a "
			       "credentials file)";
			return -EINVAL;
		}
		snprintf(u->user, sizeof(u->user), "%.*s", (int)(at - a), a);
		n -= (size_t)(at - a) + 1;
		a = at + 1;
	}
	size_t h = 0;
	if (n && a[0] == '[') {
		const char *end = memchr(a, ']', n);
		h = end ? (size_t)(end - a) + 1 : 0;
	} else {
		while (h < n && host_char(a[h]))
			h++;
	}
	if (h == 0 || h >= sizeof(u->host) || (h < n && a[h] != ':')) {
		*why = "the host name is missing or has characters a host name cannot have";
		return -EINVAL;
	}
	snprintf(u->host, sizeof(u->host), "%.*s", (int)h, a);
	if (h == n)
		return 0;
	char *end;
	long port = strtol(a + h + 1, &end, 10);
	if (end != a + n || h + 1 == n || port < 1 || port > 65535) {
		*why = "the port must be a number from 1 to 65535";
		return -EINVAL;
	}
	u->port = (int)port;
	return 0;
}

int url_parse(const char *url, struct url_parts *u, const char **why)
{
	memset(u, 0, sizeof(*u));
	const char *sep = strstr(url, "://");
	if (!sep || sep == url || (size_t)(sep - url) >= sizeof(u->scheme)) {
		*why = "no scheme";
		return -EINVAL;
	}
	snprintf(u->scheme, sizeof(u->scheme), "%.*s", (int)(sep - url), url);
	const char *a = sep + 3;
	size_t n = strcspn(a, "/");
	if (strpbrk(a, "?# \t\r\n\\")) {
		*why = "it may not contain '?', '#', spaces or backslashes";
		return -EINVAL;
	}
	int err = parse_authority(a, n, u, why);
	if (err)
		return err;
	if (strlen(a + n) >= sizeof(u->path)) {
		*why = "the path is too long";
		return -EINVAL;
	}
	strcpy(u->path, a + n);
	return 0;
}

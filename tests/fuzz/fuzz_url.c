/* fuzz_url: vault URL parsing and the %-encoding of what is sent (sync/remote/url.c). A URL that
 * parses has NUL-terminated parts, a scheme, the whole user name, a port in range, no password, and
 * a path that is empty or starts with '/'; a refused one says why. Escaping keeps only unreserved
 * bytes. */
#include "tests/fuzz/fuzz.h"
#include <string.h>
#include "sync/remote/url.h"

static void check_escape(const char *s, bool keep_slash)
{
	struct buf b = {0};
	url_escape(&b, s, keep_slash);
	FUZZ_CHECK(!b.err);
	for (size_t k = 0; k < b.len; k++) {
		char c = (char)b.data[k];
		FUZZ_CHECK((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			   (c >= '0' && c <= '9') || strchr("-._~%", c) ||
			   (keep_slash && c == '/'));
	}
	buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	FUZZ_CHECK(s);
	memcpy(s, data, size);
	s[size] = 0;
	struct url_parts u;
	const char *why = NULL;
	if (url_parse(s, &u, &why) == 0) {
		FUZZ_CHECK(memchr(u.scheme, 0, sizeof(u.scheme)) &&
			   memchr(u.user, 0, sizeof(u.user)));
		FUZZ_CHECK(memchr(u.host, 0, sizeof(u.host)) && memchr(u.path, 0, sizeof(u.path)));
		FUZZ_CHECK(u.scheme[0] && u.port >= 0 && u.port <= 65535 && !strchr(u.user, ':'));
		FUZZ_CHECK(!u.path[0] || u.path[0] == '/');
		const char *a = strstr(s, "://") + 3, *at = strchr(a, '@');
		size_t ulen = strlen(u.user); /* the user is never cut */
		FUZZ_CHECK(!at || at > a + strcspn(a, "/") ||
			   (ulen == (size_t)(at - a) && memcmp(a, u.user, ulen) == 0));
	} else {
		FUZZ_CHECK(why && *why);
	}
	check_escape(s, false);
	check_escape(s, true);
	char *j = url_join("https://h/base", s);
	FUZZ_CHECK(j && strncmp(j, "https://h/base", 14) == 0);
	free(j);
	free(s);
	return 0;
}

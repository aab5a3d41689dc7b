/* fuzz_dav_list: one WebDAV PROPFIND Depth 1 answer (dav_list_parse, sync/remote/webdav.c over
 * libxml2 and curl's %-decoding), as a hostile server or network sends it. Every name handed on
 * is a non-empty string not starting with '.'; whether it is a valid object name is for the
 * caller (sync/) to check. */
#include "tests/fuzz/fuzz.h"
#include <string.h>
#include "sync/remote/parsers.h"

static int each(const char *key, void *arg)
{
	size_t *n = arg;
	FUZZ_CHECK(key && *key && *key != '.');
	return ++*n > 100000 ? -E2BIG : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf b = {.data = (unsigned char *)data, .len = size};
	size_t n = 0;
	FUZZ_CHECK(dav_list_parse(&b, each, &n) <= 0);
	return 0;
}

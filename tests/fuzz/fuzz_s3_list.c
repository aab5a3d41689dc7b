/* fuzz_s3_list: one S3 ListObjectsV2 answer (s3_list_parse, sync/remote/s3.c over libxml2), as a
 * hostile server or network sends it. The first byte picks how much of each key is the prefix;
 * every key handed on is a string past it with no '/', and a continuation token, if any, is a
 * non-empty string. */
#include "tests/fuzz/fuzz.h"
#include <string.h>
#include "sync/remote/parsers.h"

static int each(const char *key, void *arg)
{
	size_t *n = arg;
	FUZZ_CHECK(key && *key && !strchr(key, '/'));
	return ++*n > 100000 ? -E2BIG : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!size)
		return 0;
	struct buf b = {.data = (unsigned char *)data + 1, .len = size - 1};
	size_t n = 0;
	char *next = NULL;
	int err = s3_list_parse(&b, data[0] % 16, each, &n, &next);
	FUZZ_CHECK(err <= 0 && (!next || *next));
	FUZZ_CHECK(!err || !next);
	free(next);
	return 0;
}

/* fuzz_aws_ini: the parser of the AWS CLI's shared files (sync/remote/aws_ini.c). A value found
 * is NUL-terminated inside out, shorter than cap, trimmed and non-empty; anything else is one of
 * the documented errors. The input is not NUL-terminated (read only within its length). */
#include "tests/fuzz/fuzz.h"
#include <string.h>
#include "sync/remote/aws_ini.h"

static void check(const uint8_t *data, size_t size, enum aws_file kind, const char *profile,
		  const char *key, size_t cap)
{
	char out[64];
	memset(out, 'x', sizeof(out));
	int err = aws_ini_get((const char *)data, size, kind, profile, key, out, cap);
	if (err == 0) {
		size_t n = strnlen(out, cap);
		FUZZ_CHECK(n > 0 && n < cap);
		FUZZ_CHECK(out[0] != ' ' && out[0] != '\t' && out[n - 1] != ' ' &&
			   out[n - 1] != '\t');
		FUZZ_CHECK(out[cap - 1] == 'x' || n == cap - 1);
	} else {
		FUZZ_CHECK(err == -ENOENT || err == -EFBIG || err == -ENAMETOOLONG ||
			   err == -EINVAL);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1); /* exactly size bytes: ASan sees any overread */
	FUZZ_CHECK(copy);
	memcpy(copy, data, size);
	check(copy, size, AWS_FILE_CONFIG, "default", "region", 64);
	check(copy, size, AWS_FILE_CONFIG, "dev", "region", 8);
	check(copy, size, AWS_FILE_CREDENTIALS, "default", "aws_access_key_id", 64);
	free(copy);
	return 0;
}

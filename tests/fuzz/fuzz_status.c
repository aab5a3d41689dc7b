/* fuzz_status: the cache's status file (format/status.c), which `coffer status` and `coffer
 * umount` parse. Parsed strings are NUL-terminated inside their fields; a parsed status encodes
 * into STATUS_TEXT_MAX bytes, and that text parses back with the same numbers. */
#include "tests/fuzz/fuzz.h"
#include <string.h>
#include "format/status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct status st, again;
	if (status_parse((const char *)data, size, &st))
		return 0;
	FUZZ_CHECK(memchr(st.state, 0, sizeof(st.state)) &&
		   memchr(st.remote, 0, sizeof(st.remote)));
	FUZZ_CHECK(memchr(st.last_error, 0, sizeof(st.last_error)));
	FUZZ_CHECK(memchr(st.last_merge, 0, sizeof(st.last_merge)));
	char text[STATUS_TEXT_MAX];
	int n = status_encode(&st, text, sizeof(text));
	FUZZ_CHECK(n > 0 && (size_t)n < sizeof(text));
	FUZZ_CHECK(status_parse(text, (size_t)n, &again) == 0);
	FUZZ_CHECK(strcmp(st.state, again.state) == 0 && st.pid == again.pid);
	FUZZ_CHECK(st.local_generation == again.local_generation);
	FUZZ_CHECK(st.remote_generation == again.remote_generation);
	FUZZ_CHECK(st.remote_committed == again.remote_committed);
	FUZZ_CHECK(st.objects_waiting == again.objects_waiting);
	FUZZ_CHECK(st.bytes_waiting == again.bytes_waiting);
	FUZZ_CHECK(st.objects_uploaded == again.objects_uploaded);
	FUZZ_CHECK(st.bytes_uploaded == again.bytes_uploaded &&
		   st.cache_bytes == again.cache_bytes);
	FUZZ_CHECK(st.last_error_time == again.last_error_time);
	return 0;
}

/* fuzz_http_errno: the mapping of curl results and HTTP statuses to errno (xfer_errno,
 * sync/remote/transfer.c), over every curl code and any status a server may send. Only a
 * completed transfer with a 2xx status (or none, sftp) is success; anything else is a negative
 * errno, and what the sync treats specially (-ENOENT, -ESTALE) comes only from the statuses and
 * codes that mean it. */
#include "tests/fuzz/fuzz.h"
#include <string.h>
#include "sync/remote/transfer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t rc = 0;
	int64_t status = 0;
	uint8_t flags = 0;
	memcpy(&rc, data, size < 4 ? size : 4);
	if (size > 4)
		memcpy(&status, data + 4, size - 4 < 8 ? size - 4 : 8);
	if (size > 12)
		flags = data[12];
	rc %= CURL_LAST + 8u; /* every code, and a few unknown ones */
	bool cond = flags & 1, connected = flags & 2;
	int err = xfer_errno((CURLcode)rc, (long)status, cond, connected);
	bool ok2xx = status == 0 || (status >= 200 && status < 300);
	FUZZ_CHECK(err <= 0 && err > -4096);
	FUZZ_CHECK((err == 0) == (rc == CURLE_OK && ok2xx));
	if (err == -ESTALE)
		FUZZ_CHECK(rc == CURLE_OK && (status == 412 || (status == 409 && cond)));
	if (err == -ENOENT)
		FUZZ_CHECK(rc == CURLE_REMOTE_FILE_NOT_FOUND ||
			   (rc == CURLE_OK && (status == 404 || status == 410)));
	return 0;
}

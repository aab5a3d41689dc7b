/* sshkey: is an SSH private key locked with a passphrase (see sshkey.h)? The OpenSSH format's
 * body starts with "openssh-key-v1\0" and the cipher's name; unlocked, that is always the same
 * 24 bytes, whose base64 is NONE_B64. Only the header lines are looked at.
 * Must never read past len, or look at more of the key than its first line of base64. */
#include "sync/remote/sshkey.h"
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#define OPENSSH_BEGIN "-----BEGIN OPENSSH PRIVATE KEY-----"
#define NONE_B64      "b3BlbnNzaC1rZXktdjEAAAAABG5vbmU" /* "openssh-key-v1\0" + len 4 + "none" */

static const char *find(const char *text, size_t len, const char *what)
{
	return memmem(text, len, what, strlen(what));
}

int sshkey_locked(const char *text, size_t len)
{
	if (len > SSHKEY_HEAD_MAX)
		len = SSHKEY_HEAD_MAX;
	const char *b = find(text, len, OPENSSH_BEGIN);
	if (b) {
		const char *p = b + strlen(OPENSSH_BEGIN), *end = text + len;
		while (p < end && (*p == '\r' || *p == '\n'))
			p++;
		size_t left = (size_t)(end - p), n = strlen(NONE_B64);
		if (left < n)
			return -EINVAL;
		return memcmp(p, NONE_B64, n) != 0;
	}
	bool pem = find(text, len, "-----BEGIN ") && find(text, len, "PRIVATE KEY-----");
	if (!pem)
		return -EINVAL;
	return find(text, len, "ENCRYPTED") != NULL;
}

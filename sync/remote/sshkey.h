/* sshkey: what the first bytes of an SSH private key file say about it, without decoding the key:
 * whether it is locked with a passphrase (OpenSSH's own format with a cipher other than "none",
 * or PEM with "Proc-Type: 4,ENCRYPTED" / "ENCRYPTED PRIVATE KEY"). Pure: bytes in, verdict out.
 * Must never read past len, or keep or copy any of the key's bytes. */
#ifndef COFFER_SSHKEY_H
#define COFFER_SSHKEY_H
#include <stddef.h>

#define SSHKEY_HEAD_MAX 4096 /* bytes of the key file that sshkey_locked needs at most */

/* 1 when the key needs a passphrase, 0 when it opens without one, -EINVAL when text (the first
 * len bytes of the file, not NUL-terminated) is no private key coffer knows. */
int sshkey_locked(const char *text, size_t len);

#endif

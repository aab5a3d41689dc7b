/* aws_ini: the pure parser of the AWS CLI's shared files: ~/.aws/credentials (sections "[NAME]")
 * and ~/.aws/config (sections "[default]" and "[profile NAME]"), read the way the AWS CLI's
 * configparser reads them: "key = value" or "key: value", keys without regard to case, full-line
 * comments ('#', ';'), indented lines under a key with no value belong to it (nested settings
 * such as "s3 =" are never taken for top-level ones); an indented line under a key with a value
 * is a key of its own (the AWS CLI would join it to that value; coffer always read it so). Bytes
 * in, one value out; no I/O. Must never read past len, allocate, or hand out a value that is not
 * NUL-terminated in out. */
#ifndef COFFER_AWS_INI_H
#define COFFER_AWS_INI_H
#include <stddef.h>

#define AWS_FILE_MAX (256u * 1024) /* bytes of either file that coffer reads at most */

enum aws_file { AWS_FILE_CREDENTIALS, AWS_FILE_CONFIG };

/* The value of key in profile's section of text (len bytes, not NUL-terminated); when repeated,
 * the last wins. Copies it trimmed into out (cap bytes). 0; -ENOENT when the profile or key is
 * not there or its value is empty; -EFBIG for len > AWS_FILE_MAX; -ENAMETOOLONG when the value
 * does not fit in cap; -EINVAL for a value holding a NUL byte. */
int aws_ini_get(const char *text, size_t len, enum aws_file kind, const char *profile,
		const char *key, char *out, size_t cap);

#endif

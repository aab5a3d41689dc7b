/* known: the `known` journal's records (see known.h). Pure: no I/O. */
#include "format/known.h"
#include <errno.h>
#include <string.h>

void known_record_encode(unsigned char out[KNOWN_RECORD_BYTES], const struct oname *n, bool add)
{
	out[0] = add ? '+' : '-';
	memcpy(out + 1, n->b, NAME_BYTES);
}

int known_record_decode(const unsigned char *p, struct oname *n, bool *add)
{
	if (p[0] != '+' && p[0] != '-')
		return -EINVAL;
	*add = p[0] == '+';
	memcpy(n->b, p + 1, NAME_BYTES);
	return 0;
}

int known_header_check(const unsigned char *p, size_t len)
{
	return len >= KNOWN_HEADER_BYTES && memcmp(p, KNOWN_MAGIC, KNOWN_HEADER_BYTES) == 0
		       ? 0
		       : -EINVAL;
}

/* oname: the pure helpers of object names (see format.h): the zero test and the 32-digit hex
 * form used as file and key names. Making a fresh random name is the cache's (cache/store.c).
 * Must never accept a hex name that is not exactly 32 lowercase digits. */
#include "format/format.h"
#include <string.h>
#include "format/text.h"

int oname_is_zero(const struct oname *n)
{
	static const uint8_t zero[NAME_BYTES];
	return memcmp(n->b, zero, NAME_BYTES) == 0;
}

void oname_hex(const struct oname *n, char out[2 * NAME_BYTES + 1])
{
	hex_str(n->b, NAME_BYTES, out);
}

int oname_parse(struct oname *n, const char *hex)
{
	return text_unhex(n->b, NAME_BYTES, hex, strlen(hex));
}

/* state: sync.state as text (see state.h).
 * Must never accept a field out of order, a number that overflows, or bytes left over. */
#include "format/state.h"
#include <errno.h>
#include <string.h>
#include "format/text.h"

void state_encode(const struct sync_state *s, struct buf *out)
{
	buf_put(out, "seen ", 5);
	text_u64(out, s->seen);
	buf_put(out, "\nsynced ", 8);
	text_u64(out, s->synced);
	buf_put(out, "\ndevice ", 8);
	text_hex(out, s->device, DEVICE_ID_BYTES);
	buf_u8(out, '\n');
}

int state_decode(const unsigned char *text, size_t len, struct sync_state *s)
{
	const char *p = (const char *)text, *end = p + len, *val;
	size_t vl;
	memset(s, 0, sizeof(*s));
	if (len > STATE_MAX_BYTES || text_field(&p, end, "seen", &val, &vl) ||
	    text_get_u64(val, vl, &s->seen) || text_field(&p, end, "synced", &val, &vl) ||
	    text_get_u64(val, vl, &s->synced) || text_field(&p, end, "device", &val, &vl) ||
	    text_unhex(s->device, DEVICE_ID_BYTES, val, vl) || p != end)
		return -EINVAL;
	return 0;
}

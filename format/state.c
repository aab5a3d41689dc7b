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
	buf_put(out, "\nseen-hash ", 11);
	text_hex(out, s->seen_hash, ROOT_HASH_BYTES);
	buf_put(out, "\nseen-time ", 11);
	text_u64(out, s->seen_time > 0 ? (uint64_t)s->seen_time : 0);
	buf_put(out, "\nsynced-hash ", 13);
	text_hex(out, s->synced_hash, ROOT_HASH_BYTES);
	buf_u8(out, '\n');
}

static int decode_hashes(const char *p, const char *end, struct sync_state *s)
{
	const char *val;
	size_t vl;
	uint64_t t;
	if (text_field(&p, end, "seen-hash", &val, &vl) ||
	    text_unhex(s->seen_hash, ROOT_HASH_BYTES, val, vl) ||
	    text_field(&p, end, "seen-time", &val, &vl) || text_get_u64(val, vl, &t) ||
	    t > INT64_MAX || text_field(&p, end, "synced-hash", &val, &vl) ||
	    text_unhex(s->synced_hash, ROOT_HASH_BYTES, val, vl) || p != end)
		return -EINVAL;
	s->seen_time = (int64_t)t;
	return 0;
}

int state_decode(const unsigned char *text, size_t len, struct sync_state *s)
{
	const char *p = (const char *)text, *end = p + len, *val;
	size_t vl;
	memset(s, 0, sizeof(*s));
	if (len > STATE_MAX_BYTES || text_field(&p, end, "seen", &val, &vl) ||
	    text_get_u64(val, vl, &s->seen) || text_field(&p, end, "synced", &val, &vl) ||
	    text_get_u64(val, vl, &s->synced) || text_field(&p, end, "device", &val, &vl) ||
	    text_unhex(s->device, DEVICE_ID_BYTES, val, vl) ||
	    (p != end && decode_hashes(p, end, s))) {
		memset(s, 0, sizeof(*s));
		return -EINVAL;
	}
	return 0;
}

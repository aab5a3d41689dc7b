/* state: the sync's persistent memory in the cache (sync.state) and the sealed lease object.
 * Must never lower a remembered generation, and never write a lease in plaintext. */
#include "sync/state.h"
#include "cache/files.h"
#include "sync/remote/keys.h"
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define LEASE_PLAIN 128 /* padded, so the host name's length does not show */

int state_load(struct store *st, struct sync_state *s)
{
	struct buf b = {0};
	memset(s, 0, sizeof(*s));
	int err = cache_state_read(st, &b);
	char dev[33] = "";
	if (!err) {
		buf_u8(&b, 0);
		if (sscanf((char *)b.data, "seen %" SCNu64 "\nsynced %" SCNu64 "\ndevice %32s",
			   &s->seen, &s->synced, dev) != 3 ||
		    strlen(dev) != 32)
			err = -EINVAL;
		for (int k = 0; !err && k < 16; k++) {
			unsigned v;
			if (sscanf(dev + 2 * k, "%2x", &v) != 1)
				err = -EINVAL;
			s->device[k] = (uint8_t)v;
		}
	}
	buf_free(&b);
	if (err == -ENOENT) { /* a new cache: a new device */
		random_bytes(s->device, sizeof(s->device));
		return state_save(st, s);
	}
	return err;
}

int state_save(struct store *st, const struct sync_state *s)
{
	char text[128];
	int n = snprintf(text, sizeof(text), "seen %" PRIu64 "\nsynced %" PRIu64 "\ndevice ",
			 s->seen, s->synced);
	for (int k = 0; k < 16; k++)
		n += snprintf(text + n, sizeof(text) - (size_t)n, "%02x", s->device[k]);
	n += snprintf(text + n, sizeof(text) - (size_t)n, "\n");
	return cache_state_replace(st, text, (size_t)n);
}

static void lease_aad(const uint8_t vid[16], uint8_t aad[20])
{
	memcpy(aad, "CFLS", 4);
	memcpy(aad + 4, vid, 16);
}

int lease_get(struct remote *r, const struct keyring *k, const uint8_t vid[16], struct lease *l,
	      char tag[TAG_MAX])
{
	struct buf b = {0};
	uint8_t aad[20], plain[LEASE_PLAIN];
	int err = r->ops->get(r, remote_key_lease(), &b, tag);
	lease_aad(vid, aad);
	if (!err && (b.len != LEASE_PLAIN + SEAL_OVERHEAD ||
		     aead_open(plain, b.data, b.len, aad, sizeof(aad), k->meta)))
		err = -EBADMSG;
	if (!err) {
		struct rd rd = {.p = plain, .left = sizeof(plain)};
		memcpy(l->device, rd_take(&rd, 16), 16);
		l->expiry = (time_t)rd_u64(&rd);
		uint8_t hl = rd_u8(&rd);
		const void *h = rd_take(&rd, hl < 64 ? hl : 64);
		snprintf(l->host, sizeof(l->host), "%.*s", h ? (int)(hl < 64 ? hl : 64) : 0,
			 h ? (const char *)h : "");
	}
	buf_free(&b);
	return err;
}

int lease_put(struct remote *r, const struct keyring *k, const uint8_t vid[16],
	      const uint8_t device[16], unsigned ttl, const char *expect, char tag[TAG_MAX])
{
	char host[65] = "";
	gethostname(host, sizeof(host) - 1);
	uint8_t plain[LEASE_PLAIN] = {0}, sealed[LEASE_PLAIN + SEAL_OVERHEAD], aad[20];
	struct buf b = {0};
	buf_put(&b, device, 16);
	buf_u64(&b, (uint64_t)(time(NULL) + ttl));
	buf_u8(&b, (uint8_t)strlen(host));
	buf_put(&b, host, strlen(host));
	if (b.err || b.len > sizeof(plain)) {
		buf_free(&b);
		return -ENOMEM;
	}
	memcpy(plain, b.data, b.len);
	buf_free(&b);
	lease_aad(vid, aad);
	aead_seal(sealed, plain, sizeof(plain), aad, sizeof(aad), k->meta);
	return r->ops->put_if(r, remote_key_lease(), sealed, sizeof(sealed), expect, tag);
}

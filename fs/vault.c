/* vault: the config text and master-key unwrapping (see vault.h).
 * The config is plain text, one field per line, in a fixed order; the wrapped key's AAD is every
 * byte before the "key" line, so no parameter can be changed without the unlock failing.
 * Must never accept a config with a field out of order, out of range or left over. */
#include "fs/vault.h"
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAGIC_LINE    "coffer-vault 1\n"
#define WRAPPED_BYTES (KEY_BYTES + SEAL_OVERHEAD)

static void put_hex(struct buf *b, const uint8_t *p, size_t n)
{
	static const char hx[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		buf_u8(b, (uint8_t)hx[p[i] >> 4]);
		buf_u8(b, (uint8_t)hx[p[i] & 15]);
	}
}

static int get_hex(uint8_t *out, size_t n, const char *s, size_t slen)
{
	if (slen != 2 * n)
		return -EINVAL;
	for (size_t i = 0; i < 2 * n; i++) {
		char c = s[i];
		int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
		if (v < 0)
			return -EINVAL;
		out[i / 2] = (uint8_t)(i % 2 ? (out[i / 2] | v) : v << 4);
	}
	return 0;
}

static void header_text(struct buf *b, const uint8_t id[VAULT_ID_BYTES],
			const struct kdf_params *kdf, const uint8_t salt[SALT_BYTES])
{
	char line[96];
	buf_put(b, MAGIC_LINE, strlen(MAGIC_LINE));
	buf_put(b, "id ", 3);
	put_hex(b, id, VAULT_ID_BYTES);
	snprintf(line, sizeof(line), "\nkdf argon2id13 %" PRIu64 " %" PRIu64 "\nsalt ", kdf->ops,
		 kdf->mem);
	buf_put(b, line, strlen(line));
	put_hex(b, salt, SALT_BYTES);
	buf_u8(b, '\n');
}

int vault_config_create(struct buf *out, const char *pass, size_t passlen,
			const struct kdf_params *kdf)
{
	uint8_t id[VAULT_ID_BYTES], salt[SALT_BYTES], wrapped[WRAPPED_BYTES];
	random_bytes(id, sizeof(id));
	random_bytes(salt, sizeof(salt));
	unsigned char *k = secret_alloc(2 * KEY_BYTES); /* master, then passkey */
	if (!k)
		return -ENOMEM;
	random_bytes(k, KEY_BYTES);
	int err = passkey_derive(k + KEY_BYTES, pass, passlen, salt, kdf);
	if (!err) {
		header_text(out, id, kdf, salt);
		aead_seal(wrapped, k, KEY_BYTES, out->data, out->len, k + KEY_BYTES);
		buf_put(out, "key ", 4);
		put_hex(out, wrapped, sizeof(wrapped));
		buf_u8(out, '\n');
		err = out->err;
	}
	secret_free(k);
	return err;
}

/* Splits the next line off; returns its length or -1. */
static long next_line(const char **p, const char *end, const char **line)
{
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));
	if (!nl)
		return -1;
	*line = *p;
	*p = nl + 1;
	return nl - *line;
}

static int field(const char **p, const char *end, const char *key, const char **val, size_t *len)
{
	const char *line;
	long n = next_line(p, end, &line);
	size_t kl = strlen(key);
	if (n < (long)kl + 1 || memcmp(line, key, kl) != 0 || line[kl] != ' ')
		return -EINVAL;
	*val = line + kl + 1;
	*len = (size_t)n - kl - 1;
	return 0;
}

struct parsed {
	size_t header_len;
	uint8_t salt[SALT_BYTES];
	uint8_t wrapped[WRAPPED_BYTES];
};

static int parse(const unsigned char *text, size_t len, struct vault *v, struct parsed *ps)
{
	const char *p = (const char *)text, *end = p + len, *val;
	size_t vl;
	char kdf[96];
	if (len < strlen(MAGIC_LINE) || memcmp(p, "coffer-vault ", 13) != 0)
		return -EINVAL;
	if (memcmp(p, MAGIC_LINE, strlen(MAGIC_LINE)) != 0)
		return -EPROTONOSUPPORT;
	p += strlen(MAGIC_LINE);
	if (field(&p, end, "id", &val, &vl) || get_hex(v->id, VAULT_ID_BYTES, val, vl))
		return -EINVAL;
	if (field(&p, end, "kdf", &val, &vl) || vl >= sizeof(kdf))
		return -EINVAL;
	memcpy(kdf, val, vl);
	kdf[vl] = 0;
	int used = 0;
	if (sscanf(kdf, "argon2id13 %" SCNu64 " %" SCNu64 "%n", &v->kdf.ops, &v->kdf.mem, &used) !=
		    2 ||
	    (size_t)used != vl)
		return -EINVAL;
	if (field(&p, end, "salt", &val, &vl) || get_hex(ps->salt, SALT_BYTES, val, vl))
		return -EINVAL;
	ps->header_len = (size_t)(p - (const char *)text);
	if (field(&p, end, "key", &val, &vl) || get_hex(ps->wrapped, WRAPPED_BYTES, val, vl))
		return -EINVAL;
	if (p != end)
		return -EINVAL;
	for (int i = 0; i < VAULT_ID_BYTES; i++)
		snprintf(v->idhex + 2 * i, 3, "%02x", v->id[i]);
	return 0;
}

int vault_config_parse(const unsigned char *text, size_t len, struct vault *v)
{
	struct parsed ps;
	memset(v, 0, sizeof(*v));
	return parse(text, len, v, &ps);
}

int vault_unlock(const unsigned char *text, size_t len, const char *pass, size_t passlen,
		 struct vault *v)
{
	struct parsed ps;
	memset(v, 0, sizeof(*v));
	int err = parse(text, len, v, &ps);
	if (err)
		return err;
	unsigned char *k = secret_alloc(2 * KEY_BYTES); /* master, then passkey */
	if (!k)
		return -ENOMEM;
	err = passkey_derive(k + KEY_BYTES, pass, passlen, ps.salt, &v->kdf);
	if (!err && aead_open(k, ps.wrapped, WRAPPED_BYTES, text, ps.header_len, k + KEY_BYTES))
		err = -EACCES;
	if (!err && !(v->keys = keyring_derive(k)))
		err = -ENOMEM;
	secret_free(k);
	return err;
}

void vault_release(struct vault *v)
{
	keyring_free(v->keys);
	v->keys = NULL;
}

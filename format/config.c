/* config: the vault config text (see config.h).
 * Must never accept a config with a field out of order, out of range, or bytes left over. */
#include "format/config.h"
#include <errno.h>
#include <string.h>
#include "format/text.h"

#define MAGIC_LINE_1 CONFIG_MAGIC "1\n"
#define MAGIC_LINE_2 CONFIG_MAGIC "2\n"

void config_encode_header(const struct config *c, struct buf *out)
{
	const char *magic = c->version == 2 ? MAGIC_LINE_2 : MAGIC_LINE_1;
	buf_put(out, magic, strlen(magic));
	buf_put(out, "id ", 3);
	text_hex(out, c->id, VAULT_ID_BYTES);
	buf_put(out, "\nkdf " CONFIG_KDF " ", strlen("\nkdf " CONFIG_KDF " "));
	text_u64(out, c->kdf.ops);
	buf_u8(out, ' ');
	text_u64(out, c->kdf.mem);
	buf_put(out, "\nsalt ", 6);
	text_hex(out, c->salt, SALT_BYTES);
	buf_u8(out, '\n');
	if (c->version == 2) {
		const char *name = cipher_name(c->cipher);
		buf_put(out, "cipher ", 7);
		buf_put(out, name, strlen(name));
		buf_u8(out, '\n');
	}
}

void config_encode(const struct config *c, struct buf *out)
{
	config_encode_header(c, out);
	buf_put(out, "key ", 4);
	text_hex(out, c->wrapped, CONFIG_WRAPPED_BYTES);
	buf_u8(out, '\n');
}

/* "argon2id13 OPS MEM" */
static int get_kdf(const char *val, size_t len, struct kdf_params *kdf)
{
	size_t kl = strlen(CONFIG_KDF);
	if (len < kl + 1 || memcmp(val, CONFIG_KDF " ", kl + 1) != 0)
		return -EINVAL;
	val += kl + 1;
	len -= kl + 1;
	const char *sp = memchr(val, ' ', len);
	if (!sp)
		return -EINVAL;
	size_t ol = (size_t)(sp - val);
	if (text_get_u64(val, ol, &kdf->ops) || text_get_u64(sp + 1, len - ol - 1, &kdf->mem))
		return -EINVAL;
	return 0;
}

int config_decode(const unsigned char *text, size_t len, struct config *c)
{
	const char *p = (const char *)text, *end = p + len, *val;
	size_t vl, ml = strlen(MAGIC_LINE_1);
	memset(c, 0, sizeof(*c));
	if (len > CONFIG_MAX_BYTES || len < ml || memcmp(p, CONFIG_MAGIC, strlen(CONFIG_MAGIC)))
		return -EINVAL;
	if (memcmp(p, MAGIC_LINE_1, ml) == 0)
		c->version = 1;
	else if (memcmp(p, MAGIC_LINE_2, ml) == 0)
		c->version = 2;
	else
		return -EPROTONOSUPPORT;
	p += ml;
	c->cipher = CIPHER_XCHACHA20;
	if (text_field(&p, end, "id", &val, &vl) || text_unhex(c->id, VAULT_ID_BYTES, val, vl) ||
	    text_field(&p, end, "kdf", &val, &vl) || get_kdf(val, vl, &c->kdf) ||
	    text_field(&p, end, "salt", &val, &vl) || text_unhex(c->salt, SALT_BYTES, val, vl))
		return -EINVAL;
	if (c->version == 2 && text_field(&p, end, "cipher", &val, &vl))
		return -EINVAL;
	if (c->version == 2 && cipher_parse(val, vl, &c->cipher))
		return -EPROTONOSUPPORT; /* a cipher this version does not know */
	c->header_len = (size_t)(p - (const char *)text);
	if (text_field(&p, end, "key", &val, &vl) ||
	    text_unhex(c->wrapped, CONFIG_WRAPPED_BYTES, val, vl) || p != end)
		return -EINVAL;
	return 0;
}

/* Proves: a vault config unlocks with its passphrase only; any change to a parameter, the id,
 * the salt or the wrapped key is refused; malformed text is reported as damaged; a KDF cost above
 * the cap is refused before it runs. */
#include "tests/unit/unit.h"
#include <errno.h>
#include <string.h>
#include <time.h>
#include "crypto/vault.h"

static struct buf make(void)
{
	struct buf b = {0};
	struct kdf_params p;
	kdf_level("min", &p);
	CHECK(vault_config_create(&b, "secret", 6, &p) == 0);
	return b;
}

static int unlock(struct buf *b, const char *pass)
{
	struct vault v;
	int err = vault_unlock(b->data, b->len, pass, strlen(pass), NULL, &v);
	vault_release(&v);
	return err;
}

/* b with its kdf line replaced by "kdf argon2id13 OPS MEM" */
static struct buf with_kdf(const struct buf *b, const char *kdf)
{
	struct buf out = {0};
	const char *p = (const char *)b->data, *k = strstr(p, "\nkdf ") + 1, *e = strchr(k, '\n');
	buf_put(&out, p, (size_t)(k - p));
	buf_put(&out, kdf, strlen(kdf));
	buf_put(&out, e, b->len - (size_t)(e - p));
	return out;
}

/* A config asking for more than the sensitive level (or than the cap raised by the cache's
 * copy) is refused before any derivation: an edit to 2^32-1 passes or a memory cost near RAM
 * returns -E2BIG at once. */
static void test_kdf_cap(const struct buf *b)
{
	struct kdf_params sens, cap, chosen = {.ops = 10, .mem = (uint64_t)2 << 30};
	kdf_level("sensitive", &sens);
	vault_kdf_cap(NULL, &cap);
	CHECK(cap.ops == sens.ops && cap.mem == sens.mem);
	CHECK(vault_kdf_within(&sens, &cap));
	vault_kdf_cap(&chosen, &cap);
	CHECK(cap.ops == 10 && cap.mem == chosen.mem);
	const char *hostile[] = {"kdf argon2id13 4294967295 8192", "kdf argon2id13 2 68719476736",
				 "kdf argon2id13 5 1073741824", "kdf argon2id13 4 1073742848"};
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		struct buf t = with_kdf(b, hostile[i]);
		struct vault v;
		time_t t0 = time(NULL);
		CHECK(vault_unlock(t.data, t.len, "secret", 6, NULL, &v) == -E2BIG);
		CHECK(v.keys == NULL && time(NULL) - t0 <= 1);
		buf_free(&t);
	}
	/* at the cap it runs (b asks for the min level, 1 pass over 8 KiB); just above, it does not
	 */
	struct vault v;
	struct kdf_params low = {.ops = 1, .mem = 8192};
	CHECK(vault_unlock(b->data, b->len, "secret", 6, &low, &v) == 0 && v.keys);
	vault_release(&v);
	low.mem = 4096;
	CHECK(vault_unlock(b->data, b->len, "secret", 6, &low, &v) == -E2BIG && !v.keys);
	low = (struct kdf_params){.ops = 0, .mem = 8192};
	CHECK(vault_unlock(b->data, b->len, "secret", 6, &low, &v) == -E2BIG && !v.keys);
}

int main(void)
{
	unit_setup();
	struct buf b = make();
	struct vault v;
	CHECK(vault_config_parse(b.data, b.len, &v) == 0 && strlen(v.idhex) == 32);
	CHECK(unlock(&b, "secret") == 0);
	CHECK(unlock(&b, "Secret") == -EACCES);
	/* change one hex digit in each line after the first: the unlock must fail */
	int refused = 0, lines = 0;
	for (size_t k = 0; k < b.len; k++) {
		if (b.data[k] != '\n' || k + 1 >= b.len)
			continue;
		char *sp = memchr(b.data + k + 1, ' ', b.len - k - 1);
		if (!sp)
			continue;
		lines++;
		char save = sp[1];
		sp[1] = save == '1' ? '2' : '1';
		refused += unlock(&b, "secret") != 0;
		sp[1] = save;
	}
	CHECK(lines == 4 && refused == 4);
	CHECK(vault_config_parse(b.data, b.len - 3, &v) == -EINVAL);
	struct buf extra = {0};
	buf_put(&extra, b.data, b.len);
	buf_put(&extra, "more 1\n", 7);
	CHECK(vault_config_parse(extra.data, extra.len, &v) == -EINVAL);
	b.data[13] = '2'; /* "coffer-vault 2" */
	CHECK(vault_config_parse(b.data, b.len, &v) == -EPROTONOSUPPORT);
	CHECK(vault_config_parse((const unsigned char *)"garbage\n", 8, &v) == -EINVAL);
	b.data[13] = '1';
	test_kdf_cap(&b);
	buf_free(&extra);
	buf_free(&b);
	return unit_finish("test_vault");
}

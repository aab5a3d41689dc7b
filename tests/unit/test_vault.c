/* Proves: a vault config unlocks with its passphrase only; any change to a parameter, the id,
 * the salt or the wrapped key is refused; malformed text is reported as damaged; a KDF cost above
 * the cap is refused before it runs; a re-wrapped config (coffer passwd) keeps the id and the
 * master key (the same subkeys), opens with the new passphrase only, and changes only the kdf,
 * salt and key lines. */
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

/* The value of the line starting with name (name included) in config text b, as a string. */
static void line_of(const struct buf *b, const char *name, char *out, size_t cap)
{
	const char *p = memmem(b->data, b->len, name, strlen(name));
	const char *e =
		p ? memchr(p + 1, '\n', b->len - (size_t)(p + 1 - (const char *)b->data)) : NULL;
	snprintf(out, cap, "%.*s", e ? (int)(e - p) : 0, p ? p : "");
}

static void test_rewrap(const struct buf *b)
{
	struct vault old, now, v;
	struct vault_master *m;
	struct buf nb = {0}, again = {0};
	struct kdf_params inter;
	kdf_level("interactive", &inter);
	CHECK(vault_master_open(b->data, b->len, "Secret", 6, NULL, &v, &m) == -EACCES && !m);
	CHECK(vault_master_open(b->data, b->len, "secret", 6, NULL, &v, &m) == 0 && m);
	CHECK(vault_config_rewrap(m, b->data, b->len, "new pass", 8, &v.kdf, &nb) == 0);
	CHECK(vault_config_rewrap(m, b->data, b->len, "new pass", 8, &inter, &again) == 0);
	vault_master_free(m);
	CHECK(unlock(&nb, "secret") == -EACCES && unlock(&nb, "new pass") == 0);
	CHECK(vault_unlock(b->data, b->len, "secret", 6, NULL, &old) == 0);
	CHECK(vault_unlock(nb.data, nb.len, "new pass", 8, NULL, &now) == 0);
	CHECK(memcmp(old.id, now.id, VAULT_ID_BYTES) == 0 && now.kdf.ops == old.kdf.ops);
	CHECK(memcmp(old.keys, now.keys, sizeof(*old.keys)) == 0); /* same master key */
	vault_release(&now);
	char l1[200], l2[200];
	const char *names[] = {"coffer-vault ", "\nid ", "\nkdf ", "\nsalt ", "\nkey "};
	int same[5];
	for (int i = 0; i < 5; i++) {
		line_of(b, names[i], l1, sizeof(l1));
		line_of(&nb, names[i], l2, sizeof(l2));
		same[i] = strlen(l1) > 4 && strcmp(l1, l2) == 0;
	}
	CHECK(same[0] && same[1] && same[2] && !same[3] && !same[4]);
	CHECK(vault_unlock(again.data, again.len, "new pass", 8, NULL, &now) == 0);
	CHECK(now.kdf.ops == inter.ops && now.kdf.mem == inter.mem);
	CHECK(memcmp(old.keys, now.keys, sizeof(*old.keys)) == 0);
	line_of(&again, "\nkdf ", l2, sizeof(l2));
	CHECK(strstr(l2, "argon2id13 ") != NULL);
	vault_release(&now);
	vault_release(&old);
	buf_free(&nb);
	buf_free(&again);
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
	test_rewrap(&b);
	buf_free(&extra);
	buf_free(&b);
	return unit_finish("test_vault");
}

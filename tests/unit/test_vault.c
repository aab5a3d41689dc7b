/* Proves: a vault config unlocks with its passphrase only; any change to a parameter, the id,
 * the salt or the wrapped key is refused; malformed text is reported as damaged; a KDF cost above
 * the cap is refused before it runs; a re-wrapped config (coffer passwd) keeps the id and the
 * master key (the same subkeys), opens with the new passphrase only, and changes only the kdf,
 * salt and key lines; a config made by coffer before ciphers were chosen (version 1) still opens
 * to XChaCha20-Poly1305 keys that open its data; an AES-256-GCM config (version 2) names its
 * cipher in the authenticated header, keeps it through a re-wrap, and its keyring seals with it. */
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
	CHECK(vault_config_create(&b, "secret", 6, &p, CIPHER_XCHACHA20) == 0);
	return b;
}

static int unlock(struct buf *b, const char *pass)
{
	struct vault v;
	int err = vault_unlock(b->data, b->len, pass, strlen(pass), NULL, &v);
	vault_release(&v);
	return err;
}

/* Made by coffer at a59f208 (before this change): passphrase "old-pass", and 16 bytes sealed
 * under its data key with AAD "ad". */
static const char old_config[] =
	"coffer-vault 1\n"
	"id fb238942cec920247eb1fc799aa0e6be\n"
	"kdf argon2id13 1 8192\n"
	"salt d028d96b1a57c75831362a13c84d0288\n"
	"key ea2fd200d5aaf1c658e0de314a894c1bd304380f06c1af1595ed7f8d1886e0300dd01365a1a4f5f23edbe7b"
	"a8fa6252a6770074857b05d0d48636d097a5673d4fcc05d9e3520f146\n";
static const char old_sealed[] = "1f304ba524a693fe29b88fbf1d4ea4a95ebd119af9ae111a2b1c3ff59130677c"
				 "0074e4a151212a5a9d56160cb278ee903c0d91a57aacaf73";

static void test_old_config(void)
{
	struct vault v;
	unsigned char sealed[16 + SEAL_OVERHEAD], back[16];
	for (size_t i = 0; i < sizeof(sealed); i++) {
		unsigned x;
		sscanf(old_sealed + 2 * i, "%2x", &x);
		sealed[i] = (unsigned char)x;
	}
	CHECK(vault_unlock((const unsigned char *)old_config, strlen(old_config), "old-pass", 8,
			   NULL, &v) == 0);
	CHECK(v.keys && v.cipher == CIPHER_XCHACHA20 && v.keys->data->cipher == CIPHER_XCHACHA20);
	CHECK(v.keys && aead_open(back, sealed, sizeof(sealed), "ad", 2, v.keys->data) == 0 &&
	      memcmp(back, "old vault data!!", 16) == 0);
	vault_release(&v);
}

static void test_aes_config(void)
{
	struct buf b = {0}, nb = {0};
	struct kdf_params p;
	struct vault v;
	struct vault_master *m;
	kdf_level("min", &p);
	CHECK(vault_config_create(&b, "secret", 6, &p, CIPHER_AES256GCM) == 0);
	CHECK(memcmp(b.data, "coffer-vault 2\n", 15) == 0 &&
	      memmem(b.data, b.len, "\ncipher aes256gcm\nkey ", 22) != NULL);
	CHECK(vault_config_parse(b.data, b.len, &v) == 0 && v.cipher == CIPHER_AES256GCM);
	if (cipher_aes_available()) {
		CHECK(vault_unlock(b.data, b.len, "secret", 6, NULL, &v) == 0 && v.keys &&
		      v.keys->data->cipher == CIPHER_AES256GCM &&
		      v.keys->meta->cipher == CIPHER_AES256GCM);
		vault_release(&v);
	} else {
		CHECK(vault_unlock(b.data, b.len, "secret", 6, NULL, &v) == -ENOTSUP && !v.keys);
	}
	/* the cipher line is authenticated: naming another cipher fails the unlock */
	unsigned char *c = memmem(b.data, b.len, "aes256gcm", 9);
	memcpy(c, "xchacha20", 9);
	CHECK(vault_config_parse(b.data, b.len, &v) == 0 && v.cipher == CIPHER_XCHACHA20);
	CHECK(unlock(&b, "secret") == -EACCES);
	memcpy(c, "aes256gcm", 9);
	CHECK(vault_master_open(b.data, b.len, "secret", 6, NULL, &v, &m) == 0);
	CHECK(vault_config_rewrap(m, b.data, b.len, "new", 3, &p, &nb) == 0);
	vault_master_free(m);
	CHECK(memmem(nb.data, nb.len, "\ncipher aes256gcm\nkey ", 22) != NULL);
	CHECK(vault_config_parse(nb.data, nb.len, &v) == 0 && v.cipher == CIPHER_AES256GCM);
	buf_free(&nb);
	buf_free(&b);
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
	b.data[13] = '3'; /* "coffer-vault 3" */
	CHECK(vault_config_parse(b.data, b.len, &v) == -EPROTONOSUPPORT);
	CHECK(vault_config_parse((const unsigned char *)"garbage\n", 8, &v) == -EINVAL);
	b.data[13] = '1';
	test_kdf_cap(&b);
	test_rewrap(&b);
	test_old_config();
	test_aes_config();
	buf_free(&extra);
	buf_free(&b);
	return unit_finish("test_vault");
}

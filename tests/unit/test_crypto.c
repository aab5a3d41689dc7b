/* Proves: AEAD round trips under both ciphers; any changed byte, nonce, tag, AAD or cipher fails
 * to open; the AES-256-GCM construction is the one coffer-format(5) states (a known answer
 * computed independently: Python's hashlib BLAKE2b and cryptography's AESGCM); KDF levels and
 * subkeys behave as documented; the hashes give the standard digests and the keyed one depends
 * on its key; wiping a string zeroes it. */
#include "tests/unit/unit.h"
#include <errno.h>
#include <string.h>

static void seal_open(enum cipher cipher)
{
	struct aead_key key[1] = {{.cipher = cipher}};
	unsigned char in[4096], out[4096 + SEAL_OVERHEAD], back[4096];
	random_bytes(key->k, KEY_BYTES);
	random_bytes(in, sizeof(in));
	aead_seal(out, in, sizeof(in), "aad", 3, key);
	CHECK(aead_open(back, out, sizeof(out), "aad", 3, key) == 0);
	CHECK(memcmp(back, in, sizeof(in)) == 0);
	CHECK(aead_open(back, out, sizeof(out), "aaD", 3, key) == -EBADMSG);
	for (size_t pos = 0; pos < sizeof(out); pos += 509) {
		out[pos] ^= 1;
		CHECK(aead_open(back, out, sizeof(out), "aad", 3, key) == -EBADMSG);
		out[pos] ^= 1;
	}
	CHECK(aead_open(back, out, sizeof(out) - 1, "aad", 3, key) == -EBADMSG);
	CHECK(aead_open(back, out, SEAL_OVERHEAD - 1, "aad", 3, key) == -EBADMSG);
	unsigned char other[4096 + SEAL_OVERHEAD];
	aead_seal(other, in, sizeof(in), "aad", 3, key);
	CHECK(memcmp(other, out, NONCE_BYTES) != 0); /* fresh nonce each time */
	key->cipher = cipher == CIPHER_AES256GCM ? CIPHER_XCHACHA20 : CIPHER_AES256GCM;
	CHECK(aead_open(back, out, sizeof(out), "aad", 3, key) == -EBADMSG);
	key->cipher = cipher;
	key->k[0] ^= 1;
	CHECK(aead_open(back, out, sizeof(out), "aad", 3, key) == -EBADMSG);
	/* a failed open leaves no plaintext behind */
	int zero = 1;
	for (size_t i = 0; i < sizeof(back); i++)
		zero &= back[i] == 0;
	CHECK(zero);
}

static void unhex(const char *s, unsigned char *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		sscanf(s + 2 * i, "%2x", &v);
		out[i] = (unsigned char)v;
	}
}

/* key 00..1f, nonce 40..57, AAD "CFBK", plaintext "coffer aes256gcm kat" */
static void aes_known_answer(void)
{
	static const char want[] = "404142434445464748494a4b4c4d4e4f5051525354555657"
				   "562d9df934396b423c086ae717218514556dbe47"
				   "2f6a9332a8225b2d5665643b68c776cb";
	struct aead_key key[1] = {{.cipher = CIPHER_AES256GCM}};
	unsigned char out[20 + SEAL_OVERHEAD], exp[sizeof(out)], back[20];
	for (int i = 0; i < KEY_BYTES; i++)
		key->k[i] = (unsigned char)i;
	for (int i = 0; i < NONCE_BYTES; i++)
		out[i] = (unsigned char)(0x40 + i);
	unhex(want, exp, sizeof(exp));
	aead_seal_with_nonce(out, (const unsigned char *)"coffer aes256gcm kat", 20, "CFBK", 4,
			     key);
	CHECK(memcmp(out, exp, sizeof(out)) == 0);
	CHECK(aead_open(back, exp, sizeof(exp), "CFBK", 4, key) == 0 &&
	      memcmp(back, "coffer aes256gcm kat", 20) == 0);
}

static void ciphers(void)
{
	enum cipher c;
	CHECK(cipher_parse("aes256gcm", 9, &c) == 0 && c == CIPHER_AES256GCM);
	CHECK(cipher_parse("xchacha20", 9, &c) == 0 && c == CIPHER_XCHACHA20);
	CHECK(cipher_parse("aes256gc", 8, &c) == -EINVAL && cipher_parse("AES256GCM", 9, &c));
	CHECK(strcmp(cipher_name(CIPHER_AES256GCM), "aes256gcm") == 0);
	seal_open(CIPHER_XCHACHA20);
	if (!cipher_aes_available()) {
		printf("test_crypto: this CPU has no AES-NI; AES-256-GCM not tested\n");
		return;
	}
	seal_open(CIPHER_AES256GCM);
	aes_known_answer();
}

static void kdf(void)
{
	struct kdf_params p;
	CHECK(kdf_level("min", &p) == 0);
	CHECK(kdf_level("moderate", &p) == 0 && p.mem == 256u << 20);
	CHECK(kdf_level("bogus", &p) == -EINVAL);
	kdf_level("min", &p);
	unsigned char salt[SALT_BYTES] = {1}, a[KEY_BYTES], b[KEY_BYTES];
	CHECK(passkey_derive(a, "pw", 2, salt, &p) == 0);
	CHECK(passkey_derive(b, "pw", 2, salt, &p) == 0);
	CHECK(memcmp(a, b, KEY_BYTES) == 0);
	CHECK(passkey_derive(b, "pX", 2, salt, &p) == 0);
	CHECK(memcmp(a, b, KEY_BYTES) != 0);
	struct kdf_params bad = {.ops = 0, .mem = p.mem};
	CHECK(passkey_derive(b, "pw", 2, salt, &bad) == -EINVAL);
	struct keyring *k = keyring_derive(a, CIPHER_XCHACHA20);
	CHECK(k != NULL);
	CHECK(memcmp(k->data, k->meta, KEY_BYTES) != 0 && memcmp(k->meta, k->root, KEY_BYTES) != 0);
	struct keyring *g = keyring_derive(a, CIPHER_AES256GCM);
	CHECK(g && g->data->cipher == CIPHER_AES256GCM && g->root->cipher == CIPHER_AES256GCM &&
	      k->meta->cipher == CIPHER_XCHACHA20);
	CHECK(g && memcmp(g->data->k, k->data->k, KEY_BYTES) == 0); /* same subkeys */
	keyring_free(g);
	keyring_free(k);
}

static void hashes(void)
{
	char hex[65];
	sha256_hex("abc", 3, hex);
	CHECK(strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0);
	sha256_hex(NULL, 0, hex);
	CHECK(strcmp(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") == 0);
	unsigned char k1[SHORTHASH_KEY_BYTES] = {0}, k2[SHORTHASH_KEY_BYTES] = {1};
	CHECK(shorthash("name", 4, k1) == shorthash("name", 4, k1));
	CHECK(shorthash("name", 4, k1) != shorthash("name", 4, k2));
	CHECK(shorthash("name", 4, k1) != shorthash("namf", 4, k1));
	/* SipHash-2-4 reference vector: key 00..0f, empty message -> 0x726fdb47dd0e0e31 */
	unsigned char k[SHORTHASH_KEY_BYTES];
	for (int i = 0; i < SHORTHASH_KEY_BYTES; i++)
		k[i] = (unsigned char)i;
	CHECK(shorthash("", 0, k) == 0x726fdb47dd0e0e31ull);
}

static void wipes(void)
{
	char *s = strdup("secret"), copy[8];
	memcpy(copy, s, 7);
	wipe(copy, sizeof(copy));
	CHECK(copy[0] == 0 && copy[6] == 0);
	wipe_str_free(s); /* ASan checks it frees */
	wipe_str_free(NULL);
}

int main(void)
{
	unit_setup();
	ciphers();
	kdf();
	hashes();
	wipes();
	return unit_finish("test_crypto");
}

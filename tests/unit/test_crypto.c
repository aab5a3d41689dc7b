/* Proves: AEAD round trips; any changed byte, nonce, tag or AAD fails to open; KDF levels and
 * subkeys behave as documented; the hashes give the standard digests and the keyed one depends
 * on its key; wiping a string zeroes it. */
#include "tests/unit/unit.h"
#include <errno.h>
#include <string.h>

static void seal_open(void)
{
	unsigned char key[KEY_BYTES], in[4096], out[4096 + SEAL_OVERHEAD], back[4096];
	random_bytes(key, sizeof(key));
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
	key[0] ^= 1;
	CHECK(aead_open(back, out, sizeof(out), "aad", 3, key) == -EBADMSG);
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
	struct keyring *k = keyring_derive(a);
	CHECK(k != NULL);
	CHECK(memcmp(k->data, k->meta, KEY_BYTES) != 0 && memcmp(k->meta, k->root, KEY_BYTES) != 0);
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
	seal_open();
	kdf();
	hashes();
	wipes();
	return unit_finish("test_crypto");
}

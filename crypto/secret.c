/* secret: locked memory for keys and passphrases, wiping, random bytes, and the library's
 * one-time setup.
 * Must never hand out secret memory that is swappable or left unzeroed on release. */
#include "crypto/crypto.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

int crypto_setup(void)
{
	return sodium_init() < 0 ? -EIO : 0;
}

void *secret_alloc(size_t n)
{
	return sodium_malloc(n); /* guarded pages, mlock'ed, freed with zeroing */
}

void secret_free(void *p)
{
	if (p)
		sodium_free(p);
}

void random_bytes(void *p, size_t n)
{
	randombytes_buf(p, n);
}

uint32_t random_u32(void)
{
	return randombytes_random();
}

void wipe(void *p, size_t n)
{
	sodium_memzero(p, n);
}

void wipe_str_free(char *s)
{
	if (s)
		sodium_memzero(s, strlen(s));
	free(s);
}

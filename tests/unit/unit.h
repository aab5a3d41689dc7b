/* unit: the smallest test harness: CHECK records a failure with file and line and goes on;
 * each test binary prints "N checks, N failed" and exits non-zero on any failure. */
#ifndef COFFER_UNIT_H
#define COFFER_UNIT_H
#include <dirent.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include "crypto/crypto.h"

static int unit_checks, unit_failures;

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		unit_checks++;                                                                     \
		if (!(c)) {                                                                        \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #c);      \
			unit_failures++;                                                           \
		}                                                                                  \
	} while (0)

/* on: every file this process writes stops at 4096 bytes (RLIMIT_FSIZE, SIGXFSZ ignored: the
 * write fails with EFBIG), the tests' way to make a commit fail while it writes its objects;
 * off: the limit it had before. */
static inline void unit_small_files(bool on)
{
	static struct rlimit old;
	struct rlimit lim = {.rlim_cur = 4096, .rlim_max = RLIM_INFINITY};
	signal(SIGXFSZ, SIG_IGN);
	if (on ? getrlimit(RLIMIT_FSIZE, &old) || setrlimit(RLIMIT_FSIZE, &lim)
	       : setrlimit(RLIMIT_FSIZE, &old)) {
		fprintf(stderr, "RLIMIT_FSIZE: cannot be set\n");
		exit(1);
	}
}

/* The entries of the folder path, but for the dot files. */
static inline int unit_count_entries(const char *path)
{
	DIR *d = opendir(path);
	int n = 0;
	for (struct dirent *e; d && (e = readdir(d));)
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

/* The objects in the cache folder dir (its objects/ folder's entries). */
static inline int unit_count_objects(const char *dir)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/objects", dir);
	return unit_count_entries(p);
}

/* Removes a test's temporary folder and everything in it (a failure counts as a check). */
static inline void unit_remove_dir(const char *dir)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK(system(cmd) == 0);
}

static inline int unit_finish(const char *name)
{
	printf("%s: %d checks, %d failed\n", name, unit_checks, unit_failures);
	return unit_failures ? 1 : 0;
}

static inline void unit_setup(void)
{
	if (crypto_setup()) {
		fprintf(stderr, "libsodium failed to initialize\n");
		exit(1);
	}
}

/* A keyring from a fresh random master key, for tests that need one; exits when it cannot. Its
 * cipher is $COFFER_TEST_CIPHER's (aes256gcm or xchacha20, the default), so that a test binary
 * can run under either. */
static inline struct keyring *unit_keyring(void)
{
	unsigned char master[KEY_BYTES];
	const char *name = getenv("COFFER_TEST_CIPHER");
	enum cipher c = CIPHER_XCHACHA20;
	if (name && cipher_parse(name, strlen(name), &c))
		exit(1);
	random_bytes(master, sizeof(master));
	struct keyring *k = keyring_derive(master, c);
	wipe(master, sizeof(master));
	if (!k)
		exit(1);
	return k;
}

#endif

/* mem_bench: what the in-memory inode table costs (issue 13), without FUSE. Builds N inodes
 * through the core's own calls (fs_mknod, fs_write) on a fresh store in a temp dir, commits,
 * loads the same cache again in a fresh fs (fs_mount_load) and unlinks everything; prints the
 * heap bytes in use (mallinfo2) per inode and the RSS after each step; hwm is the peak RSS of
 * that step alone (the commit's, the load's: VmHWM restarted before each), cpu its CPU seconds
 * (user + system) and user those in user mode (the code's own work, less shaken by the
 * kernel's file work).
 * Usage: mem_bench N LAYOUT KIND   LAYOUT: flat (one directory) | tree (directories of 1,000)
 *   KIND: empty (empty files) | chunk (files of one 4 KiB chunk) | dir (empty directories)
 * Must never touch anything outside its own temp dir, which it removes. */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <unistd.h>
#include "cache/store.h"
#include "crypto/crypto.h"
#include "fs/core.h"

static const uint8_t vid[16] = {7};
static const struct fs_ctx ctx = {.uid = 0, .gid = 0, .umask = 022};

struct sample {
	size_t heap, rss_kib, hwm_kib;
	double cpu, user; /* this process's CPU seconds so far: all, and in user mode */
};

static size_t status_kib(const char *field)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	size_t v = 0, n = strlen(field);
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, field, n) == 0)
			v = strtoull(line + n, NULL, 10);
	if (f)
		fclose(f);
	return v;
}

/* Restarts VmHWM at the current RSS, so that the next step's peak is its own. */
static void reset_peak(void)
{
	FILE *f = fopen("/proc/self/clear_refs", "w");
	if (f) {
		fputs("5", f);
		fclose(f);
	}
}

static struct sample sample(void)
{
	struct mallinfo2 m = mallinfo2();
	struct rusage u;
	getrusage(RUSAGE_SELF, &u);
	double user = (double)u.ru_utime.tv_sec + (double)u.ru_utime.tv_usec / 1e6;
	double sys = (double)u.ru_stime.tv_sec + (double)u.ru_stime.tv_usec / 1e6;
	return (struct sample){m.uordblks + m.hblkhd, status_kib("VmRSS:"), status_kib("VmHWM:"),
			       user + sys, user};
}

/* One step: heap in use and per inode (over base), RSS, the step's peak and CPU seconds. */
static struct sample report(const char *step, struct sample base, struct sample prev, size_t n)
{
	struct sample s = sample();
	double per = n ? (double)(s.heap - base.heap) / (double)n : 0;
	printf("%-6s heap %8.1f MiB  %7.1f B/inode  rss %7.1f MiB  hwm %7.1f MiB  cpu %6.3f s  "
	       "user %6.3f s\n",
	       step, (double)s.heap / 1048576.0, per, (double)s.rss_kib / 1024.0,
	       (double)s.hwm_kib / 1024.0, s.cpu - prev.cpu, s.user - prev.user);
	return s;
}

static int die(const char *what, int err)
{
	fprintf(stderr, "mem_bench: %s: %s\n", what, strerror(-err));
	exit(1);
}

static struct fs *open_fs(struct store **st, const char *dir, struct keyring *keys)
{
	struct fs *fs;
	int err = store_open(st, dir);
	if (err || (err = fs_open(&fs, *st, keys, vid, false)) || (err = fs_mount_load(fs, 0, 0)))
		die("open", err);
	return fs;
}

static uint64_t make(struct fs *fs, uint64_t parent, const char *name, mode_t mode)
{
	struct stat s;
	int err = fs_mknod(fs, &ctx, parent, name, mode, 0, NULL, &s);
	if (err)
		die(name, err);
	return s.st_ino;
}

static void build(struct fs *fs, size_t n, bool flat, const char *kind)
{
	static char block[4096] = {1};
	uint64_t parent = 1;
	char name[32];
	bool dirs = strcmp(kind, "dir") == 0, chunk = strcmp(kind, "chunk") == 0;
	for (size_t k = 0; k < n; k++) {
		if (k == 0 || (!flat && k % 1000 == 0)) {
			snprintf(name, sizeof(name), "d%05zu", k / 1000);
			parent = make(fs, 1, name, S_IFDIR | 0755);
		}
		snprintf(name, sizeof(name), "f%07zu", k);
		uint64_t ino = make(fs, parent, name, dirs ? S_IFDIR | 0755 : S_IFREG | 0644);
		if (chunk && fs_write(fs, ino, block, sizeof(block), 0) != sizeof(block))
			die("write", -EIO);
	}
}

/* Unlinks every file build made (through the loaded tree), then the directories. */
static void unbuild(struct fs *fs, size_t n, bool flat, const char *kind)
{
	bool dirs = strcmp(kind, "dir") == 0;
	char name[32];
	struct stat s = {0};
	for (size_t k = 0; k < n; k++) {
		if (k == 0 || (!flat && k % 1000 == 0)) {
			snprintf(name, sizeof(name), "d%05zu", k / 1000);
			if (fs_lookup(fs, 1, name, &s))
				die(name, -ENOENT);
		}
		snprintf(name, sizeof(name), "f%07zu", k);
		int err = fs_unlink(fs, s.st_ino, name, dirs);
		if (err)
			die(name, err);
	}
	for (size_t k = 0; k < n; k += flat ? n : 1000) {
		snprintf(name, sizeof(name), "d%05zu", k / 1000);
		int err = fs_unlink(fs, 1, name, true);
		if (err)
			die(name, err);
	}
}

int main(int argc, char **argv)
{
	if (argc != 4 || crypto_setup())
		return fprintf(stderr, "usage: mem_bench N flat|tree empty|chunk|dir\n"), 2;
	size_t n = strtoull(argv[1], NULL, 10);
	bool flat = strcmp(argv[2], "flat") == 0;
	char dir[] = "/tmp/coffer-mem-XXXXXX";
	unsigned char master[KEY_BYTES];
	random_bytes(master, sizeof(master));
	struct keyring *keys = keyring_derive(master, CIPHER_XCHACHA20);
	if (!keys || !mkdtemp(dir))
		return 1;
	struct store *st;
	struct sample base = sample(), s = base;
	struct fs *fs = open_fs(&st, dir, keys);
	build(fs, n, flat, argv[3]);
	s = report("built", base, s, n);
	reset_peak();
	int err = fs_commit(fs);
	if (err)
		die("commit", err);
	s = report("commit", base, s, n);
	fs_close(fs);
	store_close(st);
	malloc_trim(0);
	s = report("closed", base, s, 0);
	reset_peak();
	fs = open_fs(&st, dir, keys);
	s = report("loaded", base, s, n);
	unbuild(fs, n, flat, argv[3]);
	report("unlink", base, s, n);
	fs_close(fs);
	store_close(st);
	keyring_free(keys);
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) ? 1 : 0;
}

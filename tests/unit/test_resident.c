/* Proves, on the core without FUSE, inode pages kept in memory under a budget (fs/resident.c):
 * a mount with a budget of two pages holds no more than that, reads every file back through
 * pages read on demand, and a commit drops what its budget does not allow; changes spread over
 * every page survive it and a remount with no budget; the lookup counts of dropped inodes are
 * kept (a forget of one whose page is gone works, and its count comes back with its page); an
 * unlinked file still open, and a directory open for listing, keep their page; page objects
 * are marked kept in the cache (never evicted); the upload set is the same with and without a
 * budget; more dirty pages than the budget start a commit without waiting for the interval. */
#include "tests/unit/unit.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cache/store.h"
#include "fs/core.h"
#include "fs/fs.h"

#define NDIRS  12
#define NFILES 100 /* per directory: about 19 pages in all */

static char dir[] = "/tmp/coffer-unit-resident-XXXXXX";
static struct store *st;
static struct keyring *keys;
static const uint8_t vid[16] = {9};
static const struct fs_ctx ctx = {.uid = 0, .gid = 0, .umask = 022};

static struct fs *mount_fs(size_t budget)
{
	struct fs *fs;
	CHECK(store_open(&st, dir) == 0);
	CHECK(fs_open(&fs, st, keys, vid, false) == 0);
	fs_set_page_budget(fs, budget);
	CHECK(fs_mount_load(fs, 0, 0) == 0);
	return fs;
}

static void unmount_fs(struct fs *fs)
{
	fs_close(fs);
	store_close(st);
}

static uint64_t lookup(struct fs *fs, uint64_t parent, const char *name)
{
	struct stat s;
	return fs_lookup(fs, parent, name, &s) == 0 ? s.st_ino : 0;
}

static void content(char *out, size_t cap, int d, int f, int round)
{
	snprintf(out, cap, "file %d/%d round %d", d, f, round);
}

static void build(void)
{
	struct fs *fs = mount_fs(0);
	char name[32], data[64];
	for (int d = 0; d < NDIRS; d++) {
		struct stat s;
		snprintf(name, sizeof(name), "d%02d", d);
		CHECK(fs_mknod(fs, &ctx, ROOT_INO, name, S_IFDIR | 0755, 0, NULL, &s) == 0);
		uint64_t dino = s.st_ino;
		for (int f = 0; f < NFILES; f++) {
			snprintf(name, sizeof(name), "f%03d", f);
			CHECK(fs_mknod(fs, &ctx, dino, name, S_IFREG | 0644, 0, NULL, &s) == 0);
			content(data, sizeof(data), d, f, 0);
			CHECK(fs_write(fs, s.st_ino, data, strlen(data), 0) ==
			      (ssize_t)strlen(data));
		}
	}
	CHECK(fs_commit(fs) == 0);
	unmount_fs(fs);
}

/* Calls fn for every file of the tree (found by lookups, on whatever the budget allows);
 * returns how many calls failed, a file not found counting as one. */
static int each_file(struct fs *fs, int (*fn)(struct fs *fs, uint64_t ino, int d, int f, void *arg),
		     void *arg)
{
	int bad = 0;
	char name[32];
	for (int d = 0; d < NDIRS; d++) {
		snprintf(name, sizeof(name), "d%02d", d);
		uint64_t dino = lookup(fs, ROOT_INO, name);
		for (int f = 0; dino && f < NFILES; f++) {
			snprintf(name, sizeof(name), "f%03d", f);
			uint64_t ino = lookup(fs, dino, name);
			bad += !ino || fn(fs, ino, d, f, arg) != 0;
		}
		bad += !dino;
	}
	return bad;
}

static int reads_round(struct fs *fs, uint64_t ino, int d, int f, void *arg)
{
	char want[64], got[64];
	content(want, sizeof(want), d, f, *(int *)arg);
	ssize_t n = fs_read(fs, ino, got, sizeof(got), 0);
	return n != (ssize_t)strlen(want) || memcmp(got, want, strlen(want)) != 0;
}

/* Writes round 1 to the file, with a commit (which drops clean pages) every 40 files. */
static int write_round1(struct fs *fs, uint64_t ino, int d, int f, void *arg)
{
	(void)arg;
	char data[64];
	content(data, sizeof(data), d, f, 1);
	if (fs_write(fs, ino, data, strlen(data), 0) != (ssize_t)strlen(data))
		return 1;
	return f % 40 == 0 ? fs_commit(fs) : 0;
}

/* Every file reads as round `round`. */
static int check_all(struct fs *fs, int round)
{
	return each_file(fs, reads_round, &round);
}

static void budget_holds(void)
{
	struct fs *fs = mount_fs(2);
	CHECK(inode_count(fs) <= 2 * PAGE_INODES);
	CHECK(check_all(fs, 0) == 0);
	CHECK(fs_commit(fs) == 0); /* a commit trims to the budget */
	CHECK(inode_count(fs) <= 2 * PAGE_INODES);
	/* a change on every page, made through pages read back on demand */
	CHECK(each_file(fs, write_round1, NULL) == 0);
	CHECK(fs_commit(fs) == 0);
	CHECK(inode_count(fs) <= 2 * PAGE_INODES);
	CHECK(check_all(fs, 1) == 0);
	unmount_fs(fs);
	fs = mount_fs(0);
	CHECK(check_all(fs, 1) == 0);
	CHECK(inode_count(fs) > NDIRS * NFILES);
	unmount_fs(fs);
}

static void lookups_kept(void)
{
	struct fs *fs = mount_fs(1);
	uint64_t d = lookup(fs, ROOT_INO, "d00"), a = lookup(fs, d, "f000");
	CHECK(lookup(fs, d, "f000") == a); /* two lookups held */
	uint64_t far = lookup(fs, lookup(fs, ROOT_INO, "d11"), "f099");
	CHECK(a && far);
	CHECK(fs_commit(fs) == 0);
	CHECK(inode_peek(fs, a) == NULL); /* its page went (the last one used stayed) */
	fs_forget(fs, a, 1);		  /* its lookup is counted off while it is away */
	struct stat s;
	CHECK(fs_getattr(fs, a, &s) == 0 && inode_peek(fs, a) && inode_peek(fs, a)->nlookup == 1);
	CHECK(inode_peek(fs, a)->parent == d); /* the lookup set its parent (d00) */
	unmount_fs(fs);
}

static void pinned(void)
{
	struct fs *fs = mount_fs(1);
	uint64_t d = lookup(fs, ROOT_INO, "d03"), gone = lookup(fs, d, "f050");
	CHECK(gone && fs_unlink(fs, d, "f050", false) == 0); /* open (looked up), unlinked */
	CHECK(fs_commit(fs) == 0);
	uint64_t other = lookup(fs, lookup(fs, ROOT_INO, "d10"), "f010");
	CHECK(other && fs_commit(fs) == 0);
	CHECK(inode_peek(fs, gone) != NULL); /* the orphan's page stays */
	char got[64];
	CHECK(fs_read(fs, gone, got, sizeof(got), 0) > 0);
	fs_forget(fs, gone, 1);
	CHECK(inode_peek(fs, gone) == NULL);
	uint64_t listed = lookup(fs, ROOT_INO, "d07");
	CHECK(fs_opendir(fs, listed) == 0);
	CHECK(lookup(fs, lookup(fs, ROOT_INO, "d01"), "f001") && fs_commit(fs) == 0);
	CHECK(inode_peek(fs, listed) != NULL); /* open for listing: stays */
	fs_releasedir(fs, listed);
	CHECK(lookup(fs, lookup(fs, ROOT_INO, "d02"), "f002") && fs_commit(fs) == 0);
	CHECK(inode_peek(fs, listed) == NULL);
	unmount_fs(fs);
}

static int count_name(const struct oname *n, void *arg)
{
	(void)n;
	++*(size_t *)arg;
	return 0;
}

static int kept_mode(const struct oname *n, void *arg)
{
	char hex[2 * NAME_BYTES + 1], path[256];
	oname_hex(n, hex);
	snprintf(path, sizeof(path), "%s/objects/%s", dir, hex);
	struct stat s;
	*(int *)arg += stat(path, &s) != 0 || !store_mode_kept(s.st_mode);
	return 0;
}

static void objects_and_marks(void)
{
	size_t all = 0, budgeted = 0;
	struct fs *fs = mount_fs(0);
	CHECK(fs_each_object(fs, count_name, &all) == 0);
	int unmarked = 0;
	for (size_t p = 0; p < fs->npages; p++)
		if (!oname_is_zero(&fs->pages[p].name))
			kept_mode(&fs->pages[p].name, &unmarked);
	CHECK(unmarked == 0 && fs->npages > 10);
	unmount_fs(fs);
	fs = mount_fs(1);
	CHECK(fs_each_object(fs, count_name, &budgeted) == 0); /* what the mount gathered */
	CHECK(all == budgeted && all > 20);		       /* 19 pages, a table, packs */
	size_t scanned = 0; /* the second time: every page read again, one at a time */
	CHECK(fs_each_object(fs, count_name, &scanned) == 0 && scanned == all);
	CHECK(inode_count(fs) <= PAGE_INODES);
	unmount_fs(fs);
}

/* With a budget of two pages and a committer whose interval is an hour, creating files commits
 * whenever more pages than the budget are dirty, and memory stays within a few pages. */
static void early_commits(void)
{
	struct fs *fs = mount_fs(2);
	CHECK(fs_start_committer(fs, 3600) == 0);
	char name[32];
	struct stat s;
	int early = 0;
	for (int b = 0; b < 4; b++) { /* 200 new files: about 3 pages each time */
		uint64_t gen = fs_generation(fs);
		for (int k = 0; k < 200; k++) {
			snprintf(name, sizeof(name), "early%d-%03d", b, k);
			CHECK(fs_mknod(fs, &ctx, ROOT_INO, name, S_IFREG | 0644, 0, NULL, &s) == 0);
		}
		for (int k = 0; k < 500 && fs_generation(fs) == gen; k++)
			usleep(10000); /* poll: the committer runs on its own thread */
		early += fs_generation(fs) > gen;
	}
	CHECK(early == 4);
	fs_stop_committer(fs);
	CHECK(fs_commit(fs) == 0); /* the last batch, if still dirty */
	CHECK(fs_commit(fs) == 0); /* its trim drops what the one before committed */
	CHECK(inode_count(fs) <= 2 * PAGE_INODES);
	unmount_fs(fs);
}

int main(void)
{
	unit_setup();
	if (!mkdtemp(dir))
		return 1;
	keys = unit_keyring();
	build();
	budget_holds();
	lookups_kept();
	pinned();
	objects_and_marks();
	early_commits();
	keyring_free(keys);
	unit_remove_dir(dir);
	return unit_finish("test_resident");
}

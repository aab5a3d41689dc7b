/* Proves, on the core without FUSE, the root's page list as page tables (fs/ptable.c, root
 * version 3): a commit rewrites only the tables of the pages it rewrites and frees the ones it
 * replaces; a commit that fails while writing its tables leaves the durable root, the names and
 * the cache as they were, and the next one succeeds; a damaged table makes its inodes give EIO
 * (never another tree), keeps its name in later roots, and sends new inodes past its range, so
 * that once repaired everything reads again; a version 2 root (pages inline) loads and the next
 * commit writes version 3. */
#include "tests/unit/unit.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "cache/files.h"
#include "format/meta.h"
#include "format/root.h"
#include "fs/core.h"
#include "fs/fs.h"
#include "lib/buf.h"

#define FAR_INO 20000u /* page 312, table 1 */

static char dir[] = "/tmp/coffer-unit-ptable-XXXXXX";
static struct store *st;
static struct keyring *keys;
static const uint8_t vid[16] = {8};
static const struct fs_ctx ctx = {.uid = 0, .gid = 0, .umask = 022};

static struct fs *mount_fs(void)
{
	struct fs *fs;
	CHECK(store_open(&st, dir) == 0);
	CHECK(fs_open(&fs, st, keys, vid, false) == 0);
	CHECK(fs_mount_load(fs, 0, 0) == 0);
	return fs;
}

static void unmount_fs(struct fs *fs)
{
	fs_close(fs);
	store_close(st);
}

static int count_objects(void)
{
	return unit_count_objects(dir);
}

static uint64_t create(struct fs *fs, const char *name)
{
	struct stat s;
	int err = fs_mknod(fs, &ctx, ROOT_INO, name, S_IFREG | 0644, 0, NULL, &s);
	CHECK(err == 0);
	return err ? 0 : s.st_ino;
}

static int chmod_to(struct fs *fs, uint64_t ino, mode_t mode)
{
	struct stat a = {.st_mode = mode}, out;
	return fs_setattr(fs, ino, &a, FS_SET_MODE, &out);
}

static bool same_name(const struct oname *a, const struct oname *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

/* The cache's root, opened. */
static int cached_root(struct root_plain *r)
{
	struct buf b = {0};
	int err = cache_root_read(st, &b);
	if (!err)
		err = root_unseal(keys->root, vid, b.data, b.len, r);
	buf_free(&b);
	return err;
}

/* "a" in table 0, "b" (inode FAR_INO) in table 1; one more commit changes only table 1. */
static void tables(void)
{
	struct fs *fs = mount_fs();
	uint64_t a = create(fs, "a");
	fs->next_ino = FAR_INO;
	uint64_t b = create(fs, "b");
	CHECK(a == 2 && b == FAR_INO && fs_commit(fs) == 0);
	CHECK(fs->npages == FAR_INO / PAGE_INODES + 1 && fs->ntables == 2);
	CHECK(!oname_is_zero(&fs->tables[0].name) && !oname_is_zero(&fs->tables[1].name));
	struct oname t0 = fs->tables[0].name, t1 = fs->tables[1].name;
	CHECK(store_obj_cached(st, &t0) && store_obj_cached(st, &t1));
	CHECK(chmod_to(fs, b, 0600) == 0 && fs_commit(fs) == 0);
	CHECK(same_name(&fs->tables[0].name, &t0) && !same_name(&fs->tables[1].name, &t1));
	CHECK(!store_obj_cached(st, &t1)); /* the replaced table is freed */
	struct root_plain r;
	CHECK(cached_root(&r) == 0 && r.version == ROOT_VERSION && r.ntables == 2 &&
	      r.npages == fs->npages && same_name(&r.tables[0], &t0) &&
	      same_name(&r.tables[1], &fs->tables[1].name));
	root_plain_free(&r);
	unmount_fs(fs);
	fs = mount_fs();
	struct stat s;
	CHECK(fs_lookup(fs, ROOT_INO, "b", &s) == 0 && s.st_ino == FAR_INO &&
	      (s.st_mode & 07777) == 0600);
	CHECK(fs_lookup(fs, ROOT_INO, "a", &s) == 0 && s.st_ino == a);
	unmount_fs(fs);
}

/* A full table 0 seals to 4136 bytes: with files limited to 4096 bytes its write fails after
 * the pages were written. */
static void failed_commit(void)
{
	struct fs *fs = mount_fs();
	struct buf before = {0}, after = {0};
	CHECK(cache_root_read(st, &before) == 0);
	struct oname t0 = fs->tables[0].name, t1 = fs->tables[1].name;
	struct oname p0 = fs->pages[0].name, pb = fs->pages[FAR_INO / PAGE_INODES].name;
	int objects = count_objects();
	uint64_t gen = fs_generation(fs);
	CHECK(chmod_to(fs, 2, 0640) == 0 && chmod_to(fs, FAR_INO, 0604) == 0);
	unit_small_files(true);
	CHECK(fs_commit(fs) == -EFBIG);
	unit_small_files(false);
	CHECK(cache_root_read(st, &after) == 0 && after.len == before.len &&
	      memcmp(after.data, before.data, before.len) == 0);
	CHECK(count_objects() == objects); /* the pages it wrote are gone again */
	CHECK(same_name(&fs->tables[0].name, &t0) && same_name(&fs->tables[1].name, &t1));
	CHECK(same_name(&fs->pages[0].name, &p0) &&
	      same_name(&fs->pages[FAR_INO / PAGE_INODES].name, &pb));
	CHECK(fs->tables[0].dirty && fs->tables[1].dirty && fs->pages[0].dirty);
	CHECK(store_obj_cached(st, &t0) && store_obj_cached(st, &t1)); /* still the durable ones */
	CHECK(fs_commit(fs) == 0 && fs_generation(fs) > gen);
	CHECK(!same_name(&fs->tables[0].name, &t0) && !store_obj_cached(st, &t0));
	unmount_fs(fs);
	fs = mount_fs();
	struct stat s;
	CHECK(fs_lookup(fs, ROOT_INO, "a", &s) == 0 && (s.st_mode & 07777) == 0640);
	CHECK(fs_lookup(fs, ROOT_INO, "b", &s) == 0 && (s.st_mode & 07777) == 0604);
	unmount_fs(fs);
	buf_free(&before);
	buf_free(&after);
}

static void flip(const struct oname *n, off_t at)
{
	char hex[2 * NAME_BYTES + 1], path[128];
	oname_hex(n, hex);
	snprintf(path, sizeof(path), "%s/objects/%s", dir, hex);
	int fd = open(path, O_RDWR);
	unsigned char byte = 0;
	CHECK(fd >= 0 && pread(fd, &byte, 1, at) == 1);
	byte ^= 0x10;
	CHECK(pwrite(fd, &byte, 1, at) == 1);
	close(fd);
}

/* Table 1 damaged (no vault to replace it): b gives EIO, a reads; a new file lands past table
 * 1's pages and commits with table 1 kept; once the table is repaired, b and c both read. */
static void damaged_table(void)
{
	struct fs *fs = mount_fs();
	struct oname t1 = fs->tables[1].name;
	unmount_fs(fs);
	flip(&t1, 60);
	fs = mount_fs();
	struct stat s;
	CHECK(fs->tables[1].bad && !fs->tables[0].bad && fs->npages == 2 * NAMETAB_MAX);
	CHECK(fs->pages[NAMETAB_MAX].bad && fs->pages[2 * NAMETAB_MAX - 1].bad &&
	      !fs->pages[0].bad);
	CHECK(fs_lookup(fs, ROOT_INO, "b", &s) == -EIO);
	CHECK(fs_lookup(fs, ROOT_INO, "a", &s) == 0);
	uint64_t c = create(fs, "c");
	CHECK(c == 2 * NAMETAB_MAX * PAGE_INODES); /* past every page of the bad table */
	CHECK(fs_commit(fs) == 0 && fs->ntables == 3 && same_name(&fs->tables[1].name, &t1));
	uint64_t files, objects;
	FILE *quiet = fopen("/dev/null", "w"); /* a line per page of the table */
	CHECK(quiet && fs_check(fs, quiet, &files, &objects) > 0);
	if (quiet)
		fclose(quiet);
	unmount_fs(fs);
	fs = mount_fs(); /* still damaged: the same */
	CHECK(fs_lookup(fs, ROOT_INO, "b", &s) == -EIO && fs_lookup(fs, ROOT_INO, "c", &s) == 0);
	unmount_fs(fs);
	flip(&t1, 60); /* repaired (a copy from the vault, say) */
	fs = mount_fs();
	CHECK(!fs->tables[1].bad);
	CHECK(fs_lookup(fs, ROOT_INO, "b", &s) == 0 && s.st_ino == FAR_INO);
	CHECK(fs_lookup(fs, ROOT_INO, "c", &s) == 0 && s.st_ino == c);
	CHECK(fs_check(fs, stderr, &files, &objects) == 0);
	unmount_fs(fs);
}

/* The cache's root re-written as version 2 (the page names inline, as the previous release
 * wrote it): it loads, and the next commit writes version 3 with every table. */
static void version2_root(void)
{
	struct fs *fs = mount_fs();
	struct root_plain r;
	CHECK(cached_root(&r) == 0);
	for (uint32_t k = 0; k < r.npages; k++)
		r.pages[k] = fs->pages[k].name;
	r.version = ROOT_VERSION_2;
	struct buf plain = {0}, sealed = {0};
	uint8_t aad[ROOT_AAD_BYTES];
	root_encode(&r, &plain);
	root_plain_free(&r);
	root_aad(vid, aad);
	CHECK(meta_seal(keys->root, aad, sizeof(aad), &plain, &sealed) == 0);
	CHECK(cache_root_replace(st, sealed.data, sealed.len) == 0);
	buf_free(&plain);
	buf_free(&sealed);
	unmount_fs(fs);
	int objects = count_objects();
	fs = mount_fs(); /* the tables are no longer named: collected */
	CHECK(count_objects() == objects - 3);
	CHECK(cached_root(&r) == 0 && r.version == ROOT_VERSION_2 && r.ntables == 0);
	root_plain_free(&r);
	CHECK(fs->ntables == 3 && fs->tables[0].dirty && oname_is_zero(&fs->tables[2].name));
	struct stat s;
	CHECK(fs_lookup(fs, ROOT_INO, "b", &s) == 0 && fs_lookup(fs, ROOT_INO, "c", &s) == 0);
	CHECK(chmod_to(fs, s.st_ino, 0700) == 0 && fs_commit(fs) == 0);
	CHECK(cached_root(&r) == 0 && r.version == ROOT_VERSION && r.ntables == 3);
	for (uint32_t t = 0; t < 3; t++)
		CHECK(!oname_is_zero(&r.tables[t]) && store_obj_cached(st, &r.tables[t]));
	root_plain_free(&r);
	unmount_fs(fs);
	fs = mount_fs();
	CHECK(fs_lookup(fs, ROOT_INO, "c", &s) == 0 && (s.st_mode & 07777) == 0700);
	CHECK(fs_lookup(fs, ROOT_INO, "b", &s) == 0 && fs_lookup(fs, ROOT_INO, "a", &s) == 0);
	unmount_fs(fs);
}

int main(void)
{
	unit_setup();
	if (!mkdtemp(dir))
		return 1;
	keys = unit_keyring();
	tables();
	failed_commit();
	damaged_table();
	version2_root();
	keyring_free(keys);
	unit_remove_dir(dir);
	return unit_finish("test_ptable");
}

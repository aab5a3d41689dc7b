/* Proves, on the core without FUSE: data written at any offset reads back exactly across chunk
 * boundaries, holes and truncation; a commit survives a reload while uncommitted work vanishes
 * cleanly (a crash); changed or missing objects give EIO, never data; link counts and renames
 * stay consistent and fs_check agrees. */
#include "tests/unit/unit.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>
#include "fs/core.h"
#include "fs/fs.h"
#include "fs/fdcache.h"
#include "cache/files.h"
#include "fs/fuse_ops.h"
#include <linux/fuse.h>
#include <sys/uio.h>
#include "lib/buf.h"
#include "lib/workers.h"

static char dir[] = "/tmp/coffer-unit-XXXXXX";
static struct store *st;
static struct keyring *keys;
static struct workers *pool;
static const uint8_t vid[16] = {7};
static const struct fs_ctx ctx = {.uid = 0, .gid = 0, .umask = 022};

static struct fs *mount_fs(void)
{
	struct fs *fs;
	CHECK(store_open(&st, dir) == 0);
	CHECK(fs_open(&fs, st, keys, vid, false) == 0);
	fs_set_workers(fs, pool);
	CHECK(fs_mount_load(fs, 0, 0) == 0);
	return fs;
}

static void unmount_fs(struct fs *fs, bool commit)
{
	if (commit)
		CHECK(fs_commit(fs) == 0);
	fs_close(fs);
	store_close(st);
}

static uint64_t create(struct fs *fs, uint64_t parent, const char *name, mode_t mode)
{
	struct stat s;
	int err = fs_mknod(fs, &ctx, parent, name, mode, 0, NULL, &s);
	CHECK(err == 0);
	return err ? 0 : s.st_ino;
}

static int count_objects(void)
{
	return unit_count_objects(dir);
}

static bool same(struct fs *fs, uint64_t ino, const unsigned char *ref, size_t len)
{
	unsigned char *got = malloc(len + 4096);
	ssize_t r = fs_read(fs, ino, (char *)got, len + 4096, 0);
	bool ok = r == (ssize_t)len && memcmp(got, ref, len) == 0;
	for (size_t k = 0; !ok && r == (ssize_t)len && k < len; k++)
		if (got[k] != ref[k]) {
			fprintf(stderr, "first difference at %zu\n", k);
			break;
		}
	free(got);
	return ok;
}

static void data_paths(void)
{
	struct fs *fs = mount_fs();
	uint64_t f = create(fs, ROOT_INO, "f", S_IFREG | 0644);
	size_t len = 3 * CHUNK_SIZE + 12345;
	unsigned char *ref = calloc(1, len), *tmp = malloc(len);
	random_bytes(tmp, len);
	/* unaligned writes straddling blocks and chunks, leaving holes */
	const size_t offs[][2] = {{100, 5000},
				  {CHUNK_SIZE - 10, 30},
				  {2 * CHUNK_SIZE + 7, 9000},
				  {len - 12000, 12000},
				  {4096, 4096}};
	for (size_t k = 0; k < 5; k++) {
		CHECK(fs_write(fs, f, (char *)tmp + k * 7, offs[k][1], offs[k][0]) ==
		      (ssize_t)offs[k][1]);
		memcpy(ref + offs[k][0], tmp + k * 7, offs[k][1]);
	}
	CHECK(same(fs, f, ref, len));
	CHECK(fs_commit(fs) == 0);
	/* partial first and last blocks inside existing blocks, short and long (split) ranges */
	const size_t over[][2] = {{100, 3 * 4096}, {5, 40 * 4096 + 77}, {CHUNK_SIZE - 4000, 9000}};
	for (size_t k = 0; k < 3; k++) {
		CHECK(fs_write(fs, f, (char *)tmp + 11 * k, over[k][1], over[k][0]) ==
		      (ssize_t)over[k][1]);
		memcpy(ref + over[k][0], tmp + 11 * k, over[k][1]);
		CHECK(same(fs, f, ref, len));
	}
	CHECK(fs_commit(fs) == 0);
	/* copy-on-write of committed chunks, then truncate inside a block, then grow */
	CHECK(fs_write(fs, f, "XYZ", 3, CHUNK_SIZE + 1) == 3);
	memcpy(ref + CHUNK_SIZE + 1, "XYZ", 3);
	struct stat a = {.st_size = (off_t)(2 * CHUNK_SIZE + 100)}, out;
	CHECK(fs_setattr(fs, f, &a, FS_SET_SIZE, &out) == 0 && out.st_size == a.st_size);
	a.st_size = (off_t)len;
	CHECK(fs_setattr(fs, f, &a, FS_SET_SIZE, &out) == 0);
	memset(ref + 2 * CHUNK_SIZE + 100, 0, len - (2 * CHUNK_SIZE + 100));
	CHECK(same(fs, f, ref, len));
	unmount_fs(fs, true);

	fs = mount_fs();
	struct stat s;
	CHECK(fs_lookup(fs, ROOT_INO, "f", &s) == 0 && s.st_ino == f && (size_t)s.st_size == len);
	CHECK(same(fs, f, ref, len));
	long problems;
	uint64_t files, objects;
	problems = fs_check(fs, stderr, &files, &objects);
	CHECK(problems == 0 && files == 2);
	unmount_fs(fs, true);
	free(ref);
	free(tmp);
}

static void crash_and_gc(void)
{
	struct fs *fs = mount_fs();
	uint64_t g = create(fs, ROOT_INO, "g", S_IFREG | 0600);
	CHECK(fs_write(fs, g, "committed", 9, 0) == 9);
	CHECK(fs_commit(fs) == 0);
	int before = count_objects();
	CHECK(fs_write(fs, g, "LOST", 4, 0) == 4);
	create(fs, ROOT_INO, "lost", S_IFREG | 0600);
	CHECK(count_objects() > before); /* a staging chunk exists */
	unmount_fs(fs, false);		 /* crash: no commit */
	fs = mount_fs();
	CHECK(count_objects() == before); /* leftovers collected */
	struct stat s;
	char buf[16] = {0};
	CHECK(fs_lookup(fs, ROOT_INO, "lost", &s) == -ENOENT);
	CHECK(fs_read(fs, g, buf, sizeof(buf), 0) == 9 && memcmp(buf, "committed", 9) == 0);
	unmount_fs(fs, true);
}

static void tamper(void)
{
	struct fs *fs = mount_fs();
	uint64_t t = create(fs, ROOT_INO, "t", S_IFREG | 0600);
	uint64_t u = create(fs, ROOT_INO, "u", S_IFREG | 0600);
	CHECK(fs_write(fs, u, "fine", 4, 0) == 4);
	CHECK(fs_commit(fs) == 0);
	int before = count_objects();
	CHECK(fs_write(fs, t, "secret data", 11, 5000) == 11);
	CHECK(fs_commit(fs) == 0);
	struct inode *i = inode_get(fs, t);
	bool packed = !oname_is_zero(&i->ch[0].pack); /* a small file: in a pack */
	struct oname name = packed ? i->ch[0].pack : i->ch[0].name;
	off_t at = (off_t)i->ch[0].first * 4136 + 4136 + 30; /* block 1 of t */
	CHECK(packed);
	unmount_fs(fs, false);
	CHECK(count_objects() == before + 1 + 0 || count_objects() >= before);
	char hex[33], path[128];
	oname_hex(&name, hex);
	snprintf(path, sizeof(path), "%s/objects/%s", dir, hex);
	int fd = open(path, O_RDWR);
	unsigned char byte;
	CHECK(pread(fd, &byte, 1, at) == 1);
	byte ^= 0x40;
	CHECK(pwrite(fd, &byte, 1, at) == 1);
	close(fd);
	fs = mount_fs();
	char buf[32];
	CHECK(fs_read(fs, t, buf, 11, 5000) == -EIO);
	CHECK(fs_read(fs, t, buf, 10, 0) == 10); /* block 0 is intact */
	CHECK(fs_read(fs, u, buf, 4, 0) == 4 && memcmp(buf, "fine", 4) == 0);
	uint64_t files, objects;
	CHECK(fs_check(fs, stderr, &files, &objects) == 1);
	unmount_fs(fs, false);
	CHECK(unlink(path) == 0);
	fs = mount_fs();
	CHECK(fs_read(fs, t, buf, 11, 5000) == -EIO);
	CHECK(fs_unlink(fs, ROOT_INO, "t", false) == 0);
	unmount_fs(fs, true);
}

/* The stored chunks of ino's file are exactly the indexes want[0..n), in order. */
static bool chunks_are(struct fs *fs, uint64_t ino, const uint64_t *want, size_t n)
{
	struct inode *i = inode_get(fs, ino);
	bool ok = i && i->nch == n;
	for (size_t k = 0; ok && k < n; k++)
		ok = i->ch[k].index == want[k];
	if (!ok && i)
		fprintf(stderr, "inode %llu holds %u chunks\n", (unsigned long long)ino, i->nch);
	return ok;
}

static bool zeros(const char *p, size_t n)
{
	for (size_t k = 0; k < n; k++)
		if (p[k])
			return false;
	return true;
}

static int set_size(struct fs *fs, uint64_t ino, uint64_t size)
{
	struct stat a = {.st_size = (off_t)size}, out;
	return fs_setattr(fs, ino, &a, FS_SET_SIZE, &out);
}

/* Memory follows the data, not the offset: one byte at 2^50 keeps one chunk in memory; reads,
 * writes and truncations across the holes, and a reload. */
static void holes(void)
{
	const uint64_t far = 1ull << 50, cut = 999999999999999ull;
	struct fs *fs = mount_fs();
	uint64_t h = create(fs, ROOT_INO, "h", S_IFREG | 0644);
	CHECK(fs_write(fs, h, "Z", 1, far) == 1);
	const uint64_t one[] = {far / CHUNK_SIZE};
	CHECK(chunks_are(fs, h, one, 1));
	char buf[8192];
	CHECK(fs_read(fs, h, buf, 8, far - 7) == 8 && zeros(buf, 7) && buf[7] == 'Z');
	CHECK(fs_read(fs, h, buf, sizeof(buf), 0) == sizeof(buf) && zeros(buf, sizeof(buf)));
	CHECK(fs_read(fs, h, buf, sizeof(buf), far) == 1 && buf[0] == 'Z');
	CHECK(fs_write(fs, h, "cd", 2, 3 * CHUNK_SIZE - 1) == 2); /* across chunks 2 and 3 */
	CHECK(fs_write(fs, h, "ab", 2, 5) == 2);
	const uint64_t four[] = {0, 2, 3, far / CHUNK_SIZE};
	CHECK(chunks_are(fs, h, four, 4));
	CHECK(fs_read(fs, h, buf, 4, 3 * CHUNK_SIZE - 2) == 4 && !memcmp(buf, "\0cd\0", 4));
	CHECK(fs_read(fs, h, buf, 8, CHUNK_SIZE - 4) == 8 && zeros(buf, 8)); /* chunk 1: a hole */
	CHECK(fs_commit(fs) == 0);
	CHECK(set_size(fs, h, cut) == 0); /* below 2^50: the far chunk goes */
	CHECK(chunks_are(fs, h, four, 3));
	CHECK(set_size(fs, h, far + 1) == 0);
	CHECK(fs_read(fs, h, buf, 8, far - 7) == 8 && zeros(buf, 8));
	CHECK(fs_write(fs, h, "Y", 1, far) == 1);
	CHECK(set_size(fs, h, 3 * CHUNK_SIZE) == 0); /* ends at chunk 2's end: chunk 3 goes */
	CHECK(chunks_are(fs, h, four, 2));
	CHECK(set_size(fs, h, cut) == 0);
	unmount_fs(fs, true);
	fs = mount_fs();
	CHECK(chunks_are(fs, h, four, 2));
	struct stat s;
	CHECK(fs_getattr(fs, h, &s) == 0 && (uint64_t)s.st_size == cut &&
	      s.st_blocks == (1 + 256) * 8);
	CHECK(fs_read(fs, h, buf, 4, 3 * CHUNK_SIZE - 2) == 4 && !memcmp(buf, "\0c\0\0", 4));
	CHECK(fs_read(fs, h, buf, 8, 3) == 8 && !memcmp(buf, "\0\0ab\0\0\0\0", 8));
	CHECK(fs_read(fs, h, buf, 16, cut - 8) == 8 && zeros(buf, 8));
	uint64_t files, objects;
	CHECK(fs_check(fs, stderr, &files, &objects) == 0);
	CHECK(fs_unlink(fs, ROOT_INO, "h", false) == 0);
	unmount_fs(fs, true);
}

/* A page of the first format (a reference per chunk, holes included) loads into the sparse list
 * and is written back in the new one. */
static void old_page(void)
{
	struct fs *fs = mount_fs();
	struct buf b = {0};
	buf_put(&b, "CFPG", 4);
	buf_u32(&b, 1);
	buf_u64(&b, 5); /* page 5: inodes 320 to 383 */
	buf_u32(&b, 1);
	buf_u64(&b, 320);
	buf_u32(&b, S_IFREG | 0600);
	buf_u32(&b, 0);		      /* uid */
	buf_u32(&b, 0);		      /* gid */
	buf_u32(&b, 1);		      /* nlink */
	buf_u64(&b, 4 * CHUNK_SIZE);  /* size */
	buf_u64(&b, 0);		      /* rdev */
	for (int k = 0; k < 3; k++) { /* atime, mtime, ctime */
		buf_u64(&b, 0);
		buf_u32(&b, 0);
	}
	buf_u32(&b, 0); /* no xattr */
	buf_u32(&b, 4); /* chunks: a hole, chunk 1, two holes */
	unsigned char name[NAME_BYTES], zero[NAME_BYTES] = {0};
	memset(name, 0x5a, sizeof(name));
	const unsigned char *names[] = {zero, name, zero, zero};
	for (int k = 0; k < 4; k++) {
		buf_put(&b, names[k], NAME_BYTES);
		buf_u32(&b, k == 1 ? 7 : 0);
	}
	pthread_mutex_lock(&fs->mu);
	CHECK(page_deserialize(fs, 5, b.data, b.len) == 0);
	const uint64_t want[] = {1};
	CHECK(chunks_are(fs, 320, want, 1));
	struct inode *i = inode_get(fs, 320);
	CHECK(i && i->ch[0].nblocks == 7 && i->ch[0].state == CH_SEALED);
	struct buf again = {0};
	page_serialize(fs, 5, &again);
	pthread_mutex_unlock(&fs->mu);
	CHECK(again.len > 8 && again.data[4] == PAGE_VERSION);
	buf_free(&b);
	buf_free(&again);
	unmount_fs(fs, false);
}

static void namespace(void)
{
	struct fs *fs = mount_fs();
	struct stat s;
	uint64_t a = create(fs, ROOT_INO, "a", S_IFDIR | 0755);
	uint64_t b = create(fs, ROOT_INO, "b", S_IFDIR | 0755);
	uint64_t f = create(fs, a, "f", S_IFREG | 0644);
	CHECK(fs_link(fs, f, b, "f2", &s) == 0 && s.st_nlink == 2);
	CHECK(fs_mknod(fs, &ctx, a, "f", S_IFREG | 0644, 0, NULL, &s) == -EEXIST);
	CHECK(fs_rename(fs, a, "f", b, "f2", 0) == 0); /* same inode: no-op */
	CHECK(fs_getattr(fs, f, &s) == 0 && s.st_nlink == 2);
	CHECK(fs_rename(fs, a, "f", b, "f2", RENAME_NOREPLACE) == -EEXIST);
	uint64_t d = create(fs, a, "d", S_IFDIR | 0755);
	CHECK(fs_rename(fs, a, "d", b, "f2", 0) == -ENOTDIR);
	CHECK(fs_rename(fs, a, "f", ROOT_INO, "b", 0) == -EISDIR);
	CHECK(fs_rename(fs, ROOT_INO, "a", ROOT_INO, "b", 0) == -ENOTEMPTY);
	CHECK(fs_rename(fs, a, "d", b, "f2", RENAME_EXCHANGE) == 0);
	CHECK(fs_lookup(fs, b, "f2", &s) == 0 && s.st_ino == d && S_ISDIR(s.st_mode));
	CHECK(fs_getattr(fs, a, &s) == 0 && s.st_nlink == 2);
	CHECK(fs_getattr(fs, b, &s) == 0 && s.st_nlink == 3);
	CHECK(fs_unlink(fs, b, "f2", false) == -EISDIR);
	CHECK(fs_unlink(fs, b, "f2", true) == 0);
	CHECK(fs_unlink(fs, a, "d", false) == 0);
	CHECK(fs_getattr(fs, f, &s) == 0 && s.st_nlink == 1);
	char big[300];
	memset(big, 'n', sizeof(big));
	big[256] = 0;
	CHECK(fs_mknod(fs, &ctx, a, big, S_IFREG | 0644, 0, NULL, &s) == -ENAMETOOLONG);
	big[255] = 0;
	CHECK(fs_mknod(fs, &ctx, a, big, S_IFREG | 0644, 0, NULL, &s) == 0);
	CHECK(fs_mknod(fs, &ctx, a, "l", S_IFLNK | 0777, 0, "target/x", &s) == 0);
	char t[64];
	CHECK(fs_readlink(fs, s.st_ino, t, sizeof(t)) == 0 && strcmp(t, "target/x") == 0);
	CHECK(fs_setxattr(fs, f, "user.k", "v1", 2, 0) == 0);
	CHECK(fs_setxattr(fs, f, "user.k", "v2", 2, XATTR_CREATE) == -EEXIST);
	CHECK(fs_getxattr(fs, f, "user.k", t, sizeof(t)) == 2 && memcmp(t, "v1", 2) == 0);
	CHECK(fs_getxattr(fs, f, "user.k", t, 1) == -ERANGE);
	unmount_fs(fs, true);
	fs = mount_fs();
	CHECK(fs_getxattr(fs, f, "user.k", t, sizeof(t)) == 2);
	CHECK(fs_lookup(fs, b, "f", &s) == -ENOENT);
	uint64_t files, objects;
	CHECK(fs_check(fs, stderr, &files, &objects) == 0);
	unmount_fs(fs, true);
}

static int open_fds(void)
{
	return unit_count_entries("/proc/self/fd");
}

/* The descriptor cache hands out one descriptor per object, never closes one in use, serves
 * reads from a writable one, forgets on request, and holds no more than its ways per set (the
 * names below share their first bytes, so they share a set). */
static void fd_cache(void)
{
	struct store *s;
	CHECK(store_open(&s, dir) == 0);
	struct oname n[FDCACHE_WAYS + 2];
	for (int k = 0; k < FDCACHE_WAYS + 2; k++) {
		oname_new(&n[k]);
		memset(n[k].b, 0x5a, 8);
		CHECK(store_obj_write(s, &n[k], "x", 1) == 0);
	}
	int fds = open_fds();
	struct fdcache *c = fdcache_new(s);
	struct fdref a, b, r[FDCACHE_WAYS + 2];
	CHECK(fdcache_get(c, s, &n[0], true, &a) == 0 && a.slot >= 0);
	CHECK(fdcache_get(c, s, &n[0], false, &b) == 0 && b.fd == a.fd); /* RDWR serves reads */
	CHECK(fdcache_has(c, &n[0]) && !fdcache_has(c, &n[1]));
	fdcache_forget(c, &n[0]);
	CHECK(!fdcache_has(c, &n[0]));
	char x = 0;
	CHECK(pread(a.fd, &x, 1, 0) == 1 && x == 'x'); /* still open: both refs are held */
	fdcache_put(c, &a);
	CHECK(pread(b.fd, &x, 1, 0) == 1);
	fdcache_put(c, &b);
	CHECK(open_fds() == fds); /* the forgotten descriptor is closed by its last put */
	for (int k = 0; k < FDCACHE_WAYS + 2; k++) /* more held than slots: the rest uncached */
		CHECK(fdcache_get(c, s, &n[k], false, &r[k]) == 0 && r[k].fd >= 0);
	int uncached = 0;
	for (int k = 0; k < FDCACHE_WAYS + 2; k++) {
		uncached += r[k].slot < 0;
		CHECK(pread(r[k].fd, &x, 1, 0) == 1);
	}
	CHECK(uncached >= 2);
	for (int k = 0; k < FDCACHE_WAYS + 2; k++)
		fdcache_put(c, &r[k]);
	CHECK(open_fds() == fds + FDCACHE_WAYS); /* idle slots stay open, the rest closed */
	int held = -1;
	for (int k = 0; k < FDCACHE_WAYS + 2 && held < 0; k++)
		held = r[k].slot >= 0 ? k : -1;
	CHECK(held >= 0 && store_obj_unlink(s, &n[held]) == 0);
	CHECK(open_fds() == fds + FDCACHE_WAYS - 1); /* the store said it left: closed at once */
	CHECK(store_obj_write(s, &n[held], "x", 1) == 0);
	CHECK(fdcache_get(c, s, &n[1], false, &a) == 0 && a.slot >= 0);
	fdcache_put(c, &a);
	CHECK(store_obj_unlink(s, &n[1]) == 0 && store_obj_write(s, &n[1], "y", 1) == 0);
	CHECK(fdcache_get(c, s, &n[1], false, &a) == 0 && a.slot >= 0); /* the new one, by name */
	CHECK(pread(a.fd, &x, 1, 0) == 1 && x == 'y'); /* the replaced copy is not served */
	fdcache_put(c, &a);
	CHECK(store_obj_unlink(s, &n[1]) == 0);
	CHECK(fdcache_get(c, s, &n[1], false, &a) == -ENOENT); /* the held one is not served */
	CHECK(!fdcache_has(c, &n[1])); /* ... and is gone once a get found it unlinked */
	CHECK(store_obj_write(s, &n[1], "x", 1) == 0);
	struct oname gone;
	oname_new(&gone);
	CHECK(fdcache_get(c, s, &gone, false, &a) == -ENOENT);
	CHECK(fdcache_get(NULL, s, &n[1], true, &a) == 0 && a.slot < 0);
	fdcache_put(NULL, &a);
	fdcache_free(c);
	CHECK(open_fds() == fds);
	for (int k = 0; k < FDCACHE_WAYS + 2; k++)
		CHECK(store_obj_unlink(s, &n[k]) == 0);
	store_close(s);
}

/* --- split directories --- */

#define SPLIT_N 3000

static int count_entry(void *arg, const char *name, const struct stat *st, uint64_t off)
{
	(void)name, (void)st, (void)off;
	(*(int *)arg)++;
	return 0;
}

static int entries(struct fs *fs, uint64_t ino)
{
	int n = 0;
	CHECK(fs_readdir(fs, ino, 0, false, count_entry, &n) == 0);
	return n - 2; /* . and .. */
}

/* Every name file-K (K < SPLIT_N, not a multiple of gap when gap) is there, and nothing else. */
static bool names_are(struct fs *fs, uint64_t d, int gap, int extra)
{
	struct stat s;
	char name[32];
	int want = extra;
	bool ok = true;
	for (int k = 0; ok && k < SPLIT_N; k++) {
		snprintf(name, sizeof(name), "file-%05d", k);
		bool gone = gap && k % gap == 0;
		want += !gone;
		ok = fs_lookup(fs, d, name, &s) == (gone ? -ENOENT : 0);
		if (!ok)
			fprintf(stderr, "%s: %s\n", name, gone ? "still there" : "missing");
	}
	return ok && entries(fs, d) == want;
}

static struct dsplit *split_of(struct fs *fs, uint64_t ino)
{
	struct inode *i = inode_get(fs, ino);
	return i && i->dir ? i->dir->split : NULL;
}

/* How many buckets and tables differ between two snapshots of one split directory. */
static int changed_objects(const struct dobj *a, uint32_t na, const struct dsplit *s)
{
	int n = 0;
	for (uint32_t k = 0; k < s->n; k++)
		n += k >= na || memcmp(&a[k].name, &s->b[k].name, NAME_BYTES) != 0;
	return n;
}

/* A directory past DIR_INLINE_MAX splits into buckets (about DIR_BUCKET_TARGET bytes each);
 * one more entry rewrites one bucket (two on a split); every name survives a reload, unlinks,
 * renames across buckets and exchanges; emptied, it goes back inline and its objects go. */
static void split_dirs(void)
{
	struct fs *fs = mount_fs();
	struct stat s;
	char name[32];
	int before = count_objects();
	uint64_t d = create(fs, ROOT_INO, "big", S_IFDIR | 0755);
	for (int k = 0; k < SPLIT_N; k++) {
		snprintf(name, sizeof(name), "file-%05d", k);
		create(fs, d, name, S_IFREG | 0644);
	}
	struct dsplit *sp = split_of(fs, d);
	CHECK(sp &&
	      sp->n == (SPLIT_N * DIR_DENT_BYTES(10) + DIR_BUCKET_TARGET - 1) / DIR_BUCKET_TARGET);
	CHECK(fs_commit(fs) == 0 && sp->ndirty == 0);
	for (uint32_t k = 0; k < sp->n; k++)
		CHECK(!oname_is_zero(&sp->b[k].name) && store_obj_cached(st, &sp->b[k].name));
	uint32_t n0 = sp->n;
	struct dobj *snap = malloc(n0 * sizeof(*snap));
	memcpy(snap, sp->b, n0 * sizeof(*snap));
	unmount_fs(fs, true);

	fs = mount_fs();
	sp = split_of(fs, d);
	CHECK(sp && sp->n == n0 && !sp->bad && names_are(fs, d, 0, 0));
	create(fs, d, "one-more", S_IFREG | 0644);
	CHECK(fs_commit(fs) == 0);
	int changed = changed_objects(snap, n0, sp);
	CHECK(changed >= 1 && changed <= 3); /* one bucket, or on a split two plus the new one */
	for (int k = 0; k < SPLIT_N; k += 7) {
		snprintf(name, sizeof(name), "file-%05d", k);
		CHECK(fs_unlink(fs, d, name, false) == 0);
	}
	CHECK(fs_rename(fs, d, "one-more", d, "renamed-in-place", 0) == 0);
	CHECK(fs_rename(fs, d, "file-00001", d, "file-02999", RENAME_EXCHANGE) == 0);
	CHECK(fs_lookup(fs, d, "file-02999", &s) == 0);
	uint64_t moved = s.st_ino;
	unmount_fs(fs, true);

	fs = mount_fs();
	CHECK(names_are(fs, d, 7, 1) && fs_lookup(fs, d, "renamed-in-place", &s) == 0);
	CHECK(fs_lookup(fs, d, "file-02999", &s) == 0 && s.st_ino == moved);
	uint64_t files, objects;
	CHECK(fs_check(fs, stderr, &files, &objects) == 0);
	sp = split_of(fs, d);
	memcpy(snap, sp->b, n0 * sizeof(*snap));
	for (int k = 0; k < SPLIT_N; k++) {
		snprintf(name, sizeof(name), "file-%05d", k);
		CHECK(fs_unlink(fs, d, name, false) == (k % 7 ? 0 : -ENOENT));
	}
	CHECK(fs_unlink(fs, d, "renamed-in-place", false) == 0);
	CHECK(fs_commit(fs) == 0 && !split_of(fs, d)); /* empty: back inline */
	for (uint32_t k = 0; k < n0; k++)
		CHECK(!store_obj_cached(st, &snap[k].name));
	CHECK(fs_unlink(fs, ROOT_INO, "big", true) == 0);
	unmount_fs(fs, true);
	CHECK(count_objects() == before);
	free(snap);
}

/* A damaged bucket makes its directory EIO (lookup, readdir, rmdir, create), never half of
 * it; the rest of the tree works, fsck reports it, and its objects are not collected. */
static void split_tamper(void)
{
	struct fs *fs = mount_fs();
	char name[32];
	uint64_t d = create(fs, ROOT_INO, "hurt", S_IFDIR | 0755);
	uint64_t ok = create(fs, ROOT_INO, "fine", S_IFDIR | 0755);
	for (int k = 0; k < 1000; k++) {
		snprintf(name, sizeof(name), "file-%05d", k);
		create(fs, d, name, S_IFREG | 0644);
	}
	CHECK(fs_commit(fs) == 0);
	struct oname victim = split_of(fs, d)->b[1].name;
	unmount_fs(fs, true);
	char hex[33], path[128];
	oname_hex(&victim, hex);
	snprintf(path, sizeof(path), "%s/objects/%s", dir, hex);
	int fd = open(path, O_RDWR);
	unsigned char byte;
	CHECK(pread(fd, &byte, 1, 100) == 1);
	byte ^= 1;
	CHECK(pwrite(fd, &byte, 1, 100) == 1);
	close(fd);
	fs = mount_fs();
	struct stat s;
	int n = 0;
	CHECK(split_of(fs, d) && split_of(fs, d)->bad);
	CHECK(fs_lookup(fs, d, "file-00000", &s) == -EIO);
	CHECK(fs_readdir(fs, d, 0, false, count_entry, &n) == -EIO);
	CHECK(fs_mknod(fs, &ctx, d, "new", S_IFREG | 0644, 0, NULL, &s) == -EIO);
	CHECK(fs_unlink(fs, ROOT_INO, "hurt", true) == -EIO);
	CHECK(fs_rename(fs, ROOT_INO, "fine", ROOT_INO, "hurt", 0) == -EIO);
	create(fs, ok, "x", S_IFREG | 0644);
	CHECK(fs_lookup(fs, ok, "x", &s) == 0);
	uint64_t files, objects;
	CHECK(fs_check(fs, stderr, &files, &objects) >= 1);
	unmount_fs(fs, true);		/* the record of hurt is written as it was */
	CHECK(access(path, F_OK) == 0); /* kept: never collected while its directory is bad */
	CHECK(pread(fd = open(path, O_RDWR), &byte, 1, 100) == 1);
	byte ^= 1;
	CHECK(pwrite(fd, &byte, 1, 100) == 1);
	close(fd);
	fs = mount_fs(); /* repaired: all of it is back */
	CHECK(split_of(fs, d) && !split_of(fs, d)->bad && entries(fs, d) == 1000);
	CHECK(fs_check(fs, stderr, &files, &objects) == 0);
	unmount_fs(fs, true);
}

/* A commit that fails (objects past 4096 bytes refused) while buckets are dirty leaves the root,
 * the bucket names and the cache as they were, and the buckets dirty; the next commit writes
 * them, frees the replaced ones, and every name reads back after a reload. */
static void split_failed_commit(void)
{
	struct fs *fs = mount_fs();
	char name[32];
	uint64_t d = create(fs, ROOT_INO, "failing", S_IFDIR | 0755);
	for (int k = 0; k < 1500; k++) {
		snprintf(name, sizeof(name), "file-%05d", k);
		create(fs, d, name, S_IFREG | 0644);
	}
	CHECK(fs_commit(fs) == 0);
	struct dsplit *sp = split_of(fs, d);
	uint32_t n0 = sp->n;
	struct dobj *snap = malloc(n0 * sizeof(*snap));
	memcpy(snap, sp->b, n0 * sizeof(*snap));
	struct buf before = {0}, after = {0};
	CHECK(cache_root_read(st, &before) == 0);
	int objects = count_objects();
	for (int k = 1500; k < 2500; k++) {
		snprintf(name, sizeof(name), "file-%05d", k);
		create(fs, d, name, S_IFREG | 0644);
	}
	CHECK(fs_unlink(fs, d, "file-00000", false) == 0);
	unit_small_files(true);
	CHECK(fs_commit(fs) == -EFBIG);
	unit_small_files(false);
	CHECK(cache_root_read(st, &after) == 0 && after.len == before.len &&
	      memcmp(after.data, before.data, before.len) == 0);
	CHECK(count_objects() == objects); /* what it wrote is gone again */
	sp = split_of(fs, d);
	CHECK(sp->n > n0 && sp->ndirty > 0);
	bool kept = true;
	for (uint32_t k = 0; k < n0; k++)
		kept &= !memcmp(&sp->b[k].name, &snap[k].name, NAME_BYTES) && !sp->b[k].inflight &&
			store_obj_cached(st, &snap[k].name);
	CHECK(kept);
	CHECK(fs_commit(fs) == 0 && sp->ndirty == 0);
	int gone = 0;
	for (uint32_t k = 0; k < n0; k++)
		gone += !store_obj_cached(st, &snap[k].name);
	CHECK(gone > 0); /* the replaced buckets are freed */
	unmount_fs(fs, true);
	fs = mount_fs();
	CHECK(entries(fs, d) == 2499 && split_of(fs, d) && !split_of(fs, d)->bad);
	struct stat s;
	CHECK(fs_lookup(fs, d, "file-02499", &s) == 0 &&
	      fs_lookup(fs, d, "file-00000", &s) == -ENOENT);
	unmount_fs(fs, true);
	buf_free(&before);
	buf_free(&after);
	free(snap);
}

static mode_t mode_of(struct fs *fs, uint64_t ino)
{
	struct stat s;
	CHECK(fs_getattr(fs, ino, &s) == 0);
	return s.st_mode & 07777;
}

/* Passes one request through the channel's read, as libfuse would receive it. */
static void receive(struct fuse_ops_session *s, int p[2], const void *req, size_t len)
{
	char buf[512];
	CHECK(write(p[1], req, len) == (ssize_t)len);
	CHECK(fuse_io_channel.read(p[0], buf, sizeof(buf), s) == (ssize_t)len);
}

/* A kill request (write, truncation) on ino with the given flags. */
static void kill_request(struct fuse_ops_session *s, int p[2], uint32_t op, uint64_t ino,
			 uint32_t flags)
{
	struct {
		struct fuse_in_header h;
		union {
			struct fuse_write_in w;
			struct fuse_setattr_in a;
			struct fuse_open_in o;
		} u;
	} rq = {.h = {.len = sizeof(rq), .opcode = op, .unique = 8, .nodeid = ino}};
	if (op == FUSE_WRITE)
		rq.u.w.write_flags = flags;
	else if (op == FUSE_SETATTR)
		rq.u.a.valid = flags;
	else
		rq.u.o.open_flags = flags;
	receive(s, p, &rq, sizeof(rq));
}

/* The FUSE channel asks for FUSE_HANDLE_KILLPRIV_V2 in the INIT reply when the kernel offers it
 * (and only then), leaving libfuse's copy alone, and applies the setuid/setgid kills that the
 * kernel then asks of us and libfuse drops; a chown clears them in the core. */
static void fuse_channel(void)
{
	struct fs *fs = mount_fs();
	struct fuse_ops_session s;
	fuse_ops_session_init(&s, fs, false);
	int p[2];
	CHECK(pipe(p) == 0);
	for (int offered = 0; offered < 2; offered++) {
		struct {
			struct fuse_in_header h;
			struct fuse_init_in i;
		} init = {.h = {.len = sizeof(init), .opcode = FUSE_INIT, .unique = 2},
			  .i = {.major = 7, .minor = 38, .flags = FUSE_ASYNC_READ}};
		if (offered)
			init.i.flags |= FUSE_HANDLE_KILLPRIV_V2;
		receive(&s, p, &init, sizeof(init));
		struct fuse_out_header oh = {.len = sizeof(oh) + sizeof(struct fuse_init_out),
					     .unique = 2};
		struct fuse_init_out out = {.major = 7, .minor = 38, .flags = FUSE_ASYNC_READ}, got;
		struct iovec iov[2] = {{&oh, sizeof(oh)}, {&out, sizeof(out)}};
		char buf[512];
		CHECK(fuse_io_channel.writev(p[1], iov, 2, &s) == (ssize_t)oh.len);
		CHECK(read(p[0], buf, sizeof(buf)) == (ssize_t)oh.len);
		memcpy(&got, buf + sizeof(oh), sizeof(got));
		CHECK(got.flags ==
		      (offered ? FUSE_ASYNC_READ | FUSE_HANDLE_KILLPRIV_V2 : FUSE_ASYNC_READ));
		CHECK(s.killpriv_v2 == offered && out.flags == FUSE_ASYNC_READ);
	}
	uint64_t ino = create(fs, ROOT_INO, "suid", S_IFREG | 06755);
	struct stat a = {.st_mode = 06755}, out;
	kill_request(&s, p, FUSE_WRITE, ino, FUSE_WRITE_CACHE);	    /* root's write-back: kept */
	kill_request(&s, p, FUSE_SETATTR, ino, FATTR_KILL_SUIDGID); /* no size: not a truncation */
	CHECK(mode_of(fs, ino) == 06755);
	kill_request(&s, p, FUSE_WRITE, ino, FUSE_WRITE_KILL_SUIDGID);
	CHECK(mode_of(fs, ino) == 0755);
	CHECK(fs_setattr(fs, ino, &a, FS_SET_MODE, &out) == 0);
	kill_request(&s, p, FUSE_SETATTR, ino, FATTR_SIZE | FATTR_KILL_SUIDGID);
	CHECK(mode_of(fs, ino) == 0755);
	a.st_mode = 06745; /* setgid without group execute: a locking mark, not a privilege */
	CHECK(fs_setattr(fs, ino, &a, FS_SET_MODE, &out) == 0);
	kill_request(&s, p, FUSE_OPEN, ino, FUSE_OPEN_KILL_SUIDGID);
	CHECK(mode_of(fs, ino) == 02745);
	a.st_mode = 06755;
	CHECK(fs_setattr(fs, ino, &a, FS_SET_MODE, &out) == 0);
	a.st_uid = 65534;
	CHECK(fs_setattr(fs, ino, &a, FS_SET_UID, &out) == 0 && (out.st_mode & 07777) == 0755);
	uint64_t d = create(fs, ROOT_INO, "sgid-dir", S_IFDIR | 02755);
	CHECK(fs_setattr(fs, d, &a, FS_SET_UID, &out) == 0 && (out.st_mode & 07777) == 02755);
	close(p[0]);
	close(p[1]);
	unmount_fs(fs, false);
}

int main(void)
{
	unit_setup();
	if (!mkdtemp(dir))
		return 1;
	keys = unit_keyring();
	pool = workers_new();
	data_paths();
	crash_and_gc();
	tamper();
	fd_cache();
	holes();
	old_page();
	namespace();
	split_dirs();
	split_tamper();
	split_failed_commit();
	fuse_channel();
	keyring_free(keys);
	workers_free(pool);
	unit_remove_dir(dir);
	return unit_finish("test_fs");
}

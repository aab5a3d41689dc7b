/* Proves packs (fs/pack.c, coffer-format(5) "Packs"): the version 3 chunk reference with a pack
 * location byte for byte and its bounds; a commit packs small files into one object and deletes
 * their staging objects; they read back after a remount; a write to a packed file copies it out
 * (COW); deleting every file of a pack frees it, deleting most of one repacks its live files; a
 * commit that fails writing a pack leaves everything as it was and the next one packs;
 * a changed or swapped block in a pack gives EIO, never data; the fetch hook installs a pack
 * only when the blocks asked for open. */
#include "tests/unit/unit.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "format/block.h"
#include "format/page.h"
#include "fs/core.h"
#include "fs/fs.h"
#include "cache/files.h"
#include "lib/buf.h"
#include "sync/engine.h"

static char dir[] = "/tmp/coffer-pack-XXXXXX";
static struct store *st;
static struct keyring *keys;
static const uint8_t vid[16] = {9};
static const struct fs_ctx ctx = {.uid = 0, .gid = 0, .umask = 022};

#define NFILES 40

static uint64_t le(const unsigned char *p, int n)
{
	uint64_t v = 0;
	for (int k = n - 1; k >= 0; k--)
		v = v << 8 | p[k];
	return v;
}

/* A page of one file record holding a packed chunk (index 0) and an own one (index 1). */
static void file_page(struct page_plain *p, struct page_chunk ch[2])
{
	memset(p, 0, sizeof(*p));
	p->index = 0;
	p->count = 1;
	struct page_record *r = &p->rec[0];
	r->ino = 5;
	r->mode = S_IFREG | 0644;
	r->nlink = 1;
	r->size = 2 * CHUNK_SIZE;
	memset(&ch[0], 0, 2 * sizeof(ch[0]));
	ch[0] = (struct page_chunk){.index = 0, .nblocks = 3, .first = 1021};
	memset(ch[0].name.b, 0xa1, NAME_BYTES);
	memset(ch[0].pack.b, 0xb2, NAME_BYTES);
	ch[1] = (struct page_chunk){.index = 1, .nblocks = 256};
	memset(ch[1].name.b, 0xc3, NAME_BYTES);
	r->ch = ch;
	r->nch = 2;
}

static int decode(const struct buf *b)
{
	struct page_plain *d = malloc(sizeof(*d));
	int err = page_decode(b->data, b->len, d);
	if (!err)
		page_plain_free(d);
	free(d);
	return err;
}

static void codec(void)
{
	struct page_plain p;
	struct page_chunk ch[2];
	struct buf b = {0};
	file_page(&p, ch);
	page_encode(&p, &b);
	/* record: 76 fixed bytes, u32 no xattr, then u32 runs = 1, first 0, length 2 */
	const unsigned char *r = b.data + PAGE_HEADER_BYTES + 76 + 4;
	CHECK(le(r, 4) == 1 && le(r + 4, 4) == 0 && le(r + 8, 4) == 2);
	r += 12; /* the packed reference: name, nblocks | 0x80000000, pack, first */
	CHECK(r[0] == 0xa1 && r[15] == 0xa1 && le(r + 16, 4) == (0x80000000u | 3));
	CHECK(r[20] == 0xb2 && r[35] == 0xb2 && le(r + 36, 4) == 1021);
	r += 40; /* the own reference: name, nblocks */
	CHECK(r[0] == 0xc3 && le(r + 16, 4) == 256 && r + 20 == b.data + b.len);
	struct page_plain *d = malloc(sizeof(*d));
	CHECK(page_decode(b.data, b.len, d) == 0 && d->rec[0].nch == 2);
	const struct page_chunk *c = d->rec[0].ch;
	CHECK(c[0].nblocks == 3 && c[0].first == 1021 && c[0].pack.b[0] == 0xb2);
	CHECK(oname_is_zero(&c[1].pack) && c[1].first == 0 && c[1].nblocks == 256);
	page_plain_free(d);
	free(d);
	buf_free(&b);
	ch[0].first = PACK_MAX_BLOCKS - 2; /* 1022 + 3 blocks: past the pack's limit */
	page_encode(&p, &b);
	CHECK(decode(&b) == -EINVAL);
	buf_free(&b);
	ch[0].first = PACK_MAX_BLOCKS - 3; /* the last three blocks: fine */
	page_encode(&p, &b);
	CHECK(decode(&b) == 0);
	/* a zero pack name with the flag: refused */
	unsigned char *pk = b.data + PAGE_HEADER_BYTES + 80 + 12 + 20;
	unsigned char save[NAME_BYTES];
	memcpy(save, pk, NAME_BYTES);
	memset(pk, 0, NAME_BYTES);
	CHECK(decode(&b) == -EINVAL);
	memcpy(pk, save, NAME_BYTES);
	b.data[4] = 2; /* version 2 has no packs: the flag makes nblocks too large */
	CHECK(decode(&b) == -EINVAL);
	b.data[4] = 3;
	for (size_t cut = 0; cut < b.len; cut++)
		CHECK(decode(&(struct buf){.data = b.data, .len = cut}) != 0);
	buf_free(&b);
}

/* The fetch hook installs a pack only when the blocks asked for open as the chunk's, and only
 * a pack of whole blocks within PACK_MAX_BYTES. */
static void fetch_pack(void)
{
	struct oname chunk = {.b = {4, 2}}, other = {.b = {4, 3}}, pack = {.b = {5}};
	struct buf b = {0};
	unsigned char plain[DATA_BLOCK] = {1, 2, 3};
	CHECK(buf_reserve(&b, 6 * SEALED_BLOCK) == 0);
	b.len = 6 * SEALED_BLOCK;
	for (uint32_t k = 0; k < 6; k++) /* blocks 2..4: chunk's 0..2; around them, another's */
		block_seal(keys->data, k >= 2 && k <= 4 ? &chunk : &other, k >= 2 ? k - 2 : k,
			   plain, b.data + (size_t)k * SEALED_BLOCK);
	struct obj_want w = {.kind = OBJ_PACK, .nblocks = 3, .first = 2, .chunk = chunk};
	CHECK(fetch_check(keys, &pack, &w, &b, NULL) == 0);
	w.first = 1;
	CHECK(fetch_check(keys, &pack, &w, &b, NULL) == -EBADMSG); /* another position */
	w.first = 2;
	w.chunk = other;
	CHECK(fetch_check(keys, &pack, &w, &b, NULL) == -EBADMSG); /* another chunk's name */
	w.chunk = chunk;
	w.nblocks = 5;
	CHECK(fetch_check(keys, &pack, &w, &b, NULL) == -EBADMSG); /* past the pack's end */
	w.nblocks = 3;
	b.len--;
	CHECK(fetch_check(keys, &pack, &w, &b, NULL) == -EBADMSG); /* not whole blocks */
	b.len++;
	struct buf big = {.data = b.data, .len = PACK_MAX_BYTES + SEALED_BLOCK};
	CHECK(fetch_check(keys, &pack, &w, &big, NULL) == -EBADMSG); /* longer than a pack */
	b.data[2 * SEALED_BLOCK + 50] ^= 1;
	CHECK(fetch_check(keys, &pack, &w, &b, NULL) == -EBADMSG);
	buf_free(&b);
}

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
	CHECK(fs_commit(fs) == 0);
	fs_close(fs);
	store_close(st);
}

static bool object_exists(const struct oname *n)
{
	char hex[33], path[128];
	oname_hex(n, hex);
	snprintf(path, sizeof(path), "%s/objects/%s", dir, hex);
	return access(path, F_OK) == 0;
}

static int count_objects(void)
{
	return unit_count_objects(dir);
}

/* File k holds 100 + 211 * k bytes of a pattern of k. */
static size_t fill(int k, char *buf)
{
	size_t len = 100 + 211 * (size_t)k;
	for (size_t j = 0; j < len; j++)
		buf[j] = (char)('a' + (k + j) % 26);
	return len;
}

static uint64_t ino_of(struct fs *fs, int k)
{
	char name[16];
	struct stat s;
	snprintf(name, sizeof(name), "f%d", k);
	if (fs_lookup(fs, ROOT_INO, name, &s))
		return 0;
	fs_forget(fs, s.st_ino, 1); /* no kernel holds it: an unlink frees it at once */
	return s.st_ino;
}

static bool reads_back(struct fs *fs, int k)
{
	static char want[16384], got[16384];
	size_t len = fill(k, want);
	uint64_t ino = ino_of(fs, k);
	return ino && fs_read(fs, ino, got, sizeof(got), 0) == (ssize_t)len &&
	       memcmp(want, got, len) == 0;
}

static const struct chunk *chunk_of(struct fs *fs, int k)
{
	struct inode *i = inode_get(fs, ino_of(fs, k));
	return i && i->nch ? &i->ch[0] : NULL;
}

static void make_files(struct fs *fs, struct oname *staging)
{
	static char buf[16384];
	for (int k = 0; k < NFILES; k++) {
		char name[16];
		struct stat s;
		snprintf(name, sizeof(name), "f%d", k);
		CHECK(fs_mknod(fs, &ctx, ROOT_INO, name, S_IFREG | 0644, 0, NULL, &s) == 0);
		fs_forget(fs, s.st_ino, 1);
		size_t len = fill(k, buf);
		CHECK(fs_write(fs, s.st_ino, buf, len, 0) == (ssize_t)len);
		staging[k] = chunk_of(fs, k)->name;
	}
}

static void pack_and_read(void)
{
	struct fs *fs = mount_fs();
	struct oname staging[NFILES];
	int before = count_objects();
	make_files(fs, staging);
	CHECK(count_objects() == before + NFILES); /* one staging object each */
	CHECK(fs_commit(fs) == 0);
	const struct chunk *c0 = chunk_of(fs, 0);
	struct oname pack = c0->pack;
	CHECK(!oname_is_zero(&pack) && c0->first == 0 && object_exists(&pack));
	bool all = true;
	for (int k = 0; k < NFILES; k++) {
		const struct chunk *c = chunk_of(fs, k);
		all &= !memcmp(c->pack.b, pack.b, NAME_BYTES) && !object_exists(&staging[k]);
	}
	CHECK(all); /* one pack; the staging objects are gone */
	/* the old root page was replaced: the pack and one page more than before at most */
	CHECK(count_objects() <= before + 2);
	for (int k = 0; k < NFILES; k++)
		CHECK(reads_back(fs, k));
	fs_close(fs);
	store_close(st);
	fs = mount_fs(); /* loaded from the pages: still packed, still readable */
	for (int k = 0; k < NFILES; k++)
		CHECK(reads_back(fs, k));
	CHECK(!memcmp(chunk_of(fs, 5)->pack.b, pack.b, NAME_BYTES));
	uint64_t files, objects;
	CHECK(fs_check(fs, stderr, &files, &objects) == 0);
	unmount_fs(fs);
}

/* A write into a packed file copies its blocks out (COW) and the next commit packs it anew. */
static void cow_packed(void)
{
	struct fs *fs = mount_fs();
	struct oname pack = chunk_of(fs, 3)->pack;
	uint64_t ino = ino_of(fs, 3);
	char buf[16384], want[16384];
	size_t len = fill(3, want);
	memcpy(want + 50, "EDITED", 6);
	CHECK(fs_write(fs, ino, "EDITED", 6, 50) == 6);
	CHECK(oname_is_zero(&chunk_of(fs, 3)->pack) && chunk_of(fs, 3)->state == CH_STAGING);
	CHECK(fs_read(fs, ino, buf, sizeof(buf), 0) == (ssize_t)len && !memcmp(buf, want, len));
	CHECK(fs_commit(fs) == 0);
	const struct chunk *c = chunk_of(fs, 3);
	CHECK(!oname_is_zero(&c->pack) && memcmp(c->pack.b, pack.b, NAME_BYTES) != 0);
	CHECK(object_exists(&pack)); /* the other files still live there */
	fs_close(fs);
	store_close(st);
	fs = mount_fs();
	CHECK(fs_read(fs, ino, buf, sizeof(buf), 0) == (ssize_t)len && !memcmp(buf, want, len));
	CHECK(reads_back(fs, 2) && reads_back(fs, 4));
	unmount_fs(fs);
}

/* Deleting most files of a pack repacks the rest into a new pack and frees the old one. */
static void repack(void)
{
	struct fs *fs = mount_fs();
	struct oname pack = chunk_of(fs, 0)->pack;
	for (int k = 0; k < NFILES - 8; k++) {
		char name[16];
		snprintf(name, sizeof(name), "f%d", k);
		if (k != 3) /* f3 lives in a pack of its own since cow_packed */
			CHECK(fs_unlink(fs, ROOT_INO, name, false) == 0);
	}
	CHECK(fs_commit(fs) == 0);
	CHECK(!object_exists(&pack)); /* less than half live: repacked, then freed */
	const struct chunk *c = chunk_of(fs, NFILES - 1);
	CHECK(c && !oname_is_zero(&c->pack) && memcmp(c->pack.b, pack.b, NAME_BYTES) != 0);
	for (int k = NFILES - 8; k < NFILES; k++)
		CHECK(reads_back(fs, k));
	fs_close(fs);
	store_close(st);
	fs = mount_fs();
	for (int k = NFILES - 8; k < NFILES; k++)
		CHECK(reads_back(fs, k));
	struct oname last = chunk_of(fs, NFILES - 1)->pack;
	for (int k = NFILES - 9; k < NFILES; k++) {
		char name[16];
		snprintf(name, sizeof(name), "f%d", k == NFILES - 9 ? 3 : k);
		CHECK(fs_unlink(fs, ROOT_INO, name, false) == 0);
	}
	CHECK(object_exists(&last)); /* the durable root still names it */
	CHECK(fs_commit(fs) == 0);
	CHECK(!object_exists(&last)); /* no file left in it: freed once the root is durable */
	fs_close(fs);
	store_close(st);
	int before = count_objects();
	fs = mount_fs();
	CHECK(count_objects() == before); /* nothing left behind for the collector */
	unmount_fs(fs);
}

/* A commit that fails writing its pack (files limited to 4096 bytes) leaves the
 * durable root, the objects and the files as they were; the next commit packs them. */
static void failed_commit(void)
{
	struct fs *fs = mount_fs();
	struct oname staging[NFILES];
	make_files(fs, staging);
	struct buf before = {0}, after = {0};
	CHECK(cache_root_read(st, &before) == 0);
	int objects = count_objects();
	unit_small_files(true);
	CHECK(fs_commit(fs) == -EFBIG); /* the pack is written first: 40 blocks, 165,440 bytes */
	unit_small_files(false);
	CHECK(cache_root_read(st, &after) == 0 && after.len == before.len &&
	      memcmp(after.data, before.data, before.len) == 0);
	CHECK(count_objects() == objects); /* no pack left behind, every staging object kept */
	bool staged = true;
	for (int k = 0; k < NFILES; k++) {
		const struct chunk *c = chunk_of(fs, k);
		staged &= oname_is_zero(&c->pack) && c->state == CH_STAGING &&
			  object_exists(&staging[k]) && reads_back(fs, k);
	}
	CHECK(staged);
	CHECK(fs_commit(fs) == 0);
	CHECK(!oname_is_zero(&chunk_of(fs, 9)->pack) && !object_exists(&staging[9]));
	fs_close(fs);
	store_close(st);
	fs = mount_fs();
	for (int k = 0; k < NFILES; k++)
		CHECK(reads_back(fs, k));
	for (int k = 0; k < NFILES; k++) {
		char name[16];
		snprintf(name, sizeof(name), "f%d", k);
		CHECK(fs_unlink(fs, ROOT_INO, name, false) == 0);
	}
	unmount_fs(fs);
	buf_free(&before);
	buf_free(&after);
}

/* Flips a byte in block `block` of file k's blocks inside its pack, or swaps the first blocks of
 * files k and j there (j >= 0). */
static void damage(struct fs *fs, int k, int j)
{
	const struct chunk *a = chunk_of(fs, k), *b = j >= 0 ? chunk_of(fs, j) : NULL;
	char hex[33], path[128];
	oname_hex(&a->pack, hex);
	snprintf(path, sizeof(path), "%s/objects/%s", dir, hex);
	int fd = open(path, O_RDWR);
	unsigned char x[SEALED_BLOCK], y[SEALED_BLOCK];
	off_t at = (off_t)a->first * SEALED_BLOCK, bt = b ? (off_t)b->first * SEALED_BLOCK : 0;
	CHECK(pread(fd, x, sizeof(x), at) == (ssize_t)sizeof(x));
	if (b) {
		CHECK(pread(fd, y, sizeof(y), bt) == (ssize_t)sizeof(y));
		CHECK(pwrite(fd, y, sizeof(y), at) == (ssize_t)sizeof(y));
		CHECK(pwrite(fd, x, sizeof(x), bt) == (ssize_t)sizeof(x));
	} else {
		x[40] ^= 1;
		CHECK(pwrite(fd, x, sizeof(x), at) == (ssize_t)sizeof(x));
	}
	close(fd);
}

static void tamper(void)
{
	struct fs *fs = mount_fs();
	struct oname staging[NFILES];
	make_files(fs, staging);
	CHECK(fs_commit(fs) == 0);
	damage(fs, 1, -1);
	damage(fs, 5, 6);
	char buf[16384];
	CHECK(fs_read(fs, ino_of(fs, 1), buf, sizeof(buf), 0) == -EIO);
	CHECK(fs_read(fs, ino_of(fs, 5), buf, sizeof(buf), 0) == -EIO); /* swapped: fails */
	CHECK(fs_read(fs, ino_of(fs, 6), buf, sizeof(buf), 0) == -EIO);
	CHECK(reads_back(fs, 2) && reads_back(fs, 7));
	uint64_t files, objects;
	CHECK(fs_check(fs, stderr, &files, &objects) == 3);
	unmount_fs(fs);
}

int main(void)
{
	unit_setup();
	if (!mkdtemp(dir))
		return 1;
	keys = unit_keyring();
	codec();
	fetch_pack();
	pack_and_read();
	cow_packed();
	repack();
	failed_commit();
	tamper();
	keyring_free(keys);
	unit_remove_dir(dir);
	return unit_finish("test_pack");
}

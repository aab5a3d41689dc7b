/* Proves, on the core without FUSE: reads, copy-on-write writes, truncations, mounts and reloads
 * that need objects missing from the cache fetch them through the store's fetch hook while no
 * filesystem lock is held (freeze, mu, the inode's io), fetch only what they need, retry a
 * bounded number of times when the object leaves the cache again before use, and give EIO when
 * the vault lacks it. The "vault" is a second folder; the hook copies objects from it. */
#include "tests/unit/unit.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "fs/core.h"
#include "fs/fs.h"
#include "lib/fileio.h"

static char dir[] = "/tmp/coffer-fetch-XXXXXX";
static char vault[] = "/tmp/coffer-vault-XXXXXX";
static struct store *st;
static struct keyring *keys;
static const uint8_t vid[16] = {9};
static const struct fs_ctx ctx = {.uid = 0, .gid = 0, .umask = 022};

enum fetch_mode {
	FETCH_OK,	  /* copies the object from the vault folder */
	FETCH_LOSE_FIRST, /* the first fetch is evicted again before it is used */
	FETCH_LOSE_ALL,	  /* every fetch is evicted again before it is used */
	FETCH_MISSING,	  /* the vault lacks the object */
};

struct fake {
	struct fs *fs;
	uint64_t ino; /* the file whose io lock must be free too */
	enum fetch_mode mode;
	int calls;
	int locked; /* fetches that ran while a filesystem lock was held */
};

static struct fake fake;

static bool locks_free(struct fs *fs, uint64_t ino)
{
	if (pthread_rwlock_trywrlock(&fs->freeze))
		return false;
	pthread_rwlock_unlock(&fs->freeze);
	if (pthread_mutex_trylock(&fs->mu))
		return false;
	struct inode *i = ino ? inode_get(fs, ino) : NULL;
	bool io_free = !i || pthread_rwlock_trywrlock(inode_io(fs, ino)) == 0;
	if (i && io_free)
		pthread_rwlock_unlock(inode_io(fs, ino));
	pthread_mutex_unlock(&fs->mu);
	return io_free;
}

static int fake_fetch(void *arg, const struct oname *n, const struct obj_want *w, bool replace)
{
	(void)w;
	(void)replace;
	struct fake *f = arg;
	f->calls++;
	if (f->fs && !locks_free(f->fs, f->ino))
		f->locked++;
	if (f->mode == FETCH_MISSING)
		return -ENOENT;
	char hex[2 * NAME_BYTES + 1];
	oname_hex(n, hex);
	int vfd = open(vault, O_RDONLY | O_DIRECTORY);
	struct buf b = {0};
	int err = vfd < 0 ? -errno : file_read_at(vfd, hex, &b, (size_t)1 << 30);
	if (vfd >= 0)
		close(vfd);
	if (!err)
		err = store_obj_install(st, n, b.data, b.len);
	buf_free(&b);
	bool lose = f->mode == FETCH_LOSE_ALL || (f->mode == FETCH_LOSE_FIRST && f->calls == 1);
	if (!err && lose)
		store_obj_unlink(st, n); /* evicted between the fetch and its use */
	return err;
}

static struct fs *mount_fs(bool readonly, bool hook)
{
	struct fs *fs;
	CHECK(store_open(&st, dir) == 0);
	CHECK(fs_open(&fs, st, keys, vid, readonly) == 0);
	fake = (struct fake){.fs = fs, .mode = FETCH_OK};
	if (hook) {
		store_set_fetch(st, fake_fetch, &fake);
	}
	CHECK(fs_mount_load(fs, 0, 0) == 0);
	return fs;
}

static void unmount_fs(struct fs *fs)
{
	CHECK(fs_commit(fs) == 0);
	fs_close(fs);
	store_close(st);
}

/* Moves every object of the cache into the vault folder: a fresh cache on another device. */
/* Moves every cached object to the fake vault: a copy there, and the cache's file unlinked as
 * the cache's eviction does (a descriptor the filesystem holds then no longer serves it). */
static int evict_all(void)
{
	char objects[64];
	snprintf(objects, sizeof(objects), "%s/objects", dir);
	DIR *d = opendir(objects);
	int n = 0, ofd = open(objects, O_RDONLY | O_DIRECTORY),
	    vfd = open(vault, O_RDONLY | O_DIRECTORY);
	for (struct dirent *e; d && ofd >= 0 && vfd >= 0 && (e = readdir(d));) {
		struct buf b = {0};
		if (e->d_name[0] == '.' || file_read_at(ofd, e->d_name, &b, (size_t)1 << 30))
			continue;
		if (file_replace_at(vfd, e->d_name, b.data, b.len, 0) == 0 &&
		    unlinkat(ofd, e->d_name, 0) == 0)
			n++;
		buf_free(&b);
	}
	if (d)
		closedir(d);
	if (ofd >= 0)
		close(ofd);
	if (vfd >= 0)
		close(vfd);
	return n;
}

#define FILE_LEN (2 * CHUNK_SIZE + 5000) /* three chunks */

static uint64_t make_file(unsigned char *ref)
{
	struct fs *fs = mount_fs(false, false);
	struct stat s;
	CHECK(fs_mknod(fs, &ctx, ROOT_INO, "f", S_IFREG | 0644, 0, NULL, &s) == 0);
	random_bytes(ref, FILE_LEN);
	CHECK(fs_write(fs, s.st_ino, (char *)ref, FILE_LEN, 0) == FILE_LEN);
	unmount_fs(fs);
	CHECK(evict_all() == 5); /* one page table, one page, three chunks */
	return s.st_ino;
}

static void read_and_mount(uint64_t f, const unsigned char *ref)
{
	struct fs *fs = mount_fs(false, true);
	CHECK(fake.calls == 2 && fake.locked == 0); /* the table and the page, by the load */
	fake.ino = f;
	static char got[FILE_LEN + 100];
	CHECK(fs_read(fs, f, got, 10, CHUNK_SIZE + 7) == 10);
	CHECK(fake.calls == 3 && memcmp(got, ref + CHUNK_SIZE + 7, 10) == 0);
	CHECK(fs_read(fs, f, got, sizeof(got), 0) == FILE_LEN);
	CHECK(fake.calls == 5 && memcmp(got, ref, FILE_LEN) == 0); /* chunk 1 is cached now */
	CHECK(fake.locked == 0);
	unmount_fs(fs);
}

static void write_and_truncate(uint64_t f, unsigned char *ref)
{
	evict_all();
	struct fs *fs = mount_fs(false, true);
	fake.ino = f;
	int base = fake.calls;
	static char full[CHUNK_SIZE];
	memset(full, 'F', sizeof(full)); /* covers chunk 1 whole: its old object is not read */
	CHECK(fs_write(fs, f, full, CHUNK_SIZE, CHUNK_SIZE) == CHUNK_SIZE);
	memcpy(ref + CHUNK_SIZE, full, CHUNK_SIZE);
	CHECK(fake.calls == base);
	CHECK(fs_write(fs, f, "abc", 3, 2 * CHUNK_SIZE + 10) == 3); /* copy-on-write of chunk 2 */
	memcpy(ref + 2 * CHUNK_SIZE + 10, "abc", 3);
	CHECK(fake.calls == base + 1);
	struct stat a = {.st_size = 100}, out;
	CHECK(fs_setattr(fs, f, &a, FS_SET_SIZE, &out) == 0); /* rewrites chunk 0's tail */
	CHECK(fake.calls == base + 2 && fake.locked == 0);
	char got[200];
	CHECK(fs_read(fs, f, got, sizeof(got), 0) == 100 && memcmp(got, ref, 100) == 0);
	unmount_fs(fs);
	fs = mount_fs(false, false);
	CHECK(fs_read(fs, f, got, sizeof(got), 0) == 100 && memcmp(got, ref, 100) == 0);
	unmount_fs(fs);
}

static void evicted_again(uint64_t f, const unsigned char *ref)
{
	evict_all();
	struct fs *fs = mount_fs(false, true);
	char got[100];
	fake = (struct fake){.fs = fs, .ino = f, .mode = FETCH_LOSE_FIRST};
	CHECK(fs_read(fs, f, got, 50, 0) == 50 && memcmp(got, ref, 50) == 0);
	CHECK(fake.calls == 2); /* fetched again after the first copy left the cache */
	evict_all();
	fake = (struct fake){.fs = fs, .ino = f, .mode = FETCH_LOSE_ALL};
	CHECK(fs_read(fs, f, got, 50, 0) == -EIO);
	/* bounded: 4 rounds, the first of which met the descriptor still held of the copy that
	 * left (fdcache_has is a hint, the get that follows finds it unlinked) */
	CHECK(fake.calls == 3);
	fake = (struct fake){.fs = fs, .ino = f, .mode = FETCH_MISSING};
	CHECK(fs_read(fs, f, got, 50, 0) == -EIO);
	CHECK(fake.calls == 1); /* the vault said it has none: no retry */
	CHECK(fs_write(fs, f, "x", 1, 3) == -EIO);
	CHECK(fs_take_write_error(fs, f) == -EIO);
	CHECK(fake.locked == 0);
	unmount_fs(fs);
}

static void reload(uint64_t f)
{
	struct fs *fs = mount_fs(true, true);
	evict_all(); /* the writer's new root names a table and pages this cache lacks */
	fake.calls = 0;
	CHECK(fs_reload(fs) == 0);
	CHECK(fake.calls == 2 && fake.locked == 0);
	struct stat s;
	CHECK(fs_lookup(fs, ROOT_INO, "f", &s) == 0 && s.st_ino == f && s.st_size == 100);
	fs_close(fs);
	store_close(st);
}

int main(void)
{
	unit_setup();
	if (!mkdtemp(dir) || !mkdtemp(vault))
		return 1;
	keys = unit_keyring();
	static unsigned char ref[FILE_LEN];
	uint64_t f = make_file(ref);
	read_and_mount(f, ref);
	write_and_truncate(f, ref);
	evicted_again(f, ref);
	reload(f);
	keyring_free(keys);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s %s", dir, vault);
	CHECK(system(cmd) == 0);
	return unit_finish("test_fetch");
}

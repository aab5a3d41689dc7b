/* Proves, on trees built through the core API, the merge of a diverged cache into the vault's
 * tree: a path changed on one side takes that side's version; a file changed on both keeps the
 * vault's under its name and the local one beside it as a conflict copy; a delete against a change
 * keeps the changed file; directories merge entry by entry; renames on one side against edits
 * on the other keep both; hard links, xattrs and modes come along; with no common ancestor, the
 * merge is two-way. The result commits (the small files taken from the local tree packed with
 * it), reloads and passes fs_check. */
#include "tests/unit/unit.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "cache/files.h"
#include "fs/core.h"
#include "fs/fs.h"
#include "fs/merge.h"
#include "lib/buf.h"

static char dir[] = "/tmp/coffer-merge-XXXXXX";
static struct store *st;
static struct keyring *keys;
static const uint8_t vid[16] = {9};
static const struct fs_ctx ctx = {.uid = 0, .gid = 0, .umask = 022};
static const time_t when = 1780000000;
static struct buf base_root;

static uint64_t put(struct fs *fs, uint64_t parent, const char *name, const char *data)
{
	struct stat s;
	int err = fs_lookup(fs, parent, name, &s);
	if (err)
		err = fs_mknod(fs, &ctx, parent, name, S_IFREG | 0644, 0, NULL, &s);
	CHECK(err == 0);
	struct stat a = {.st_size = 0};
	CHECK(fs_setattr(fs, s.st_ino, &a, FS_SET_SIZE, &a) == 0);
	CHECK(fs_write(fs, s.st_ino, data, strlen(data), 0) == (ssize_t)strlen(data));
	return s.st_ino;
}

static uint64_t mkd(struct fs *fs, uint64_t parent, const char *name)
{
	struct stat s;
	CHECK(fs_mknod(fs, &ctx, parent, name, S_IFDIR | 0755, 0, NULL, &s) == 0);
	return s.st_ino;
}

static uint64_t ino_of(struct fs *fs, uint64_t parent, const char *name)
{
	struct stat s;
	return fs_lookup(fs, parent, name, &s) ? 0 : s.st_ino;
}

/* The content of parent/name, or "" when it is missing. */
static const char *get(struct fs *fs, uint64_t parent, const char *name)
{
	static char b[256];
	uint64_t ino = ino_of(fs, parent, name);
	ssize_t r = ino ? fs_read(fs, ino, b, sizeof(b) - 1, 0) : 0;
	b[r > 0 ? r : 0] = 0;
	return b;
}

static const char *conflict(const char *name)
{
	static char b[256];
	struct tm tm;
	gmtime_r(&when, &tm);
	char date[32];
	strftime(date, sizeof(date), "%Y-%m-%d %H%M%S", &tm);
	snprintf(b, sizeof(b), "%s (conflict hostA %s)", name, date);
	return b;
}

static struct fs *load(void)
{
	struct fs *fs;
	CHECK(fs_open(&fs, st, keys, vid, false) == 0);
	CHECK(fs_load_root(fs, base_root.data, base_root.len) == 0);
	return fs;
}

static void make_base(void)
{
	struct fs *fs;
	CHECK(fs_open(&fs, st, keys, vid, false) == 0);
	CHECK(fs_mount_load(fs, 0, 0) == 0);
	const char *files[] = {"shared.txt", "keep.txt", "del.txt", "dv.txt",  "del2.txt",
			       "ren.txt",    "mv.txt",	 "xa.txt",  "mode.txt"};
	for (size_t k = 0; k < sizeof(files) / sizeof(*files); k++)
		put(fs, ROOT_INO, files[k], "base");
	uint64_t d = mkd(fs, ROOT_INO, "d");
	put(fs, d, "x", "x");
	put(fs, mkd(fs, ROOT_INO, "dm"), "y", "y");
	uint64_t g = mkd(fs, ROOT_INO, "gone");
	put(fs, g, "f", "f");
	CHECK(fs_commit(fs) == 0);
	CHECK(cache_root_read(st, &base_root) == 0);
	fs_close(fs);
}

static void local_changes(struct fs *l)
{
	put(l, ROOT_INO, "a.txt", "local a");
	put(l, ROOT_INO, "shared.txt", "local shared");
	put(l, ROOT_INO, "keep.txt", "local keep");
	put(l, ROOT_INO, "del2.txt", "local del2");
	CHECK(fs_unlink(l, ROOT_INO, "del.txt", false) == 0);
	CHECK(fs_unlink(l, ROOT_INO, "dv.txt", false) == 0);
	CHECK(fs_rename(l, ROOT_INO, "ren.txt", ROOT_INO, "ren2.txt", 0) == 0);
	put(l, ROOT_INO, "mv.txt", "local mv");
	CHECK(fs_setxattr(l, ino_of(l, ROOT_INO, "xa.txt"), "user.a", "1", 1, 0) == 0);
	struct stat a = {.st_mode = 0600}, o;
	CHECK(fs_setattr(l, ino_of(l, ROOT_INO, "mode.txt"), &a, FS_SET_MODE, &o) == 0);
	uint64_t n = put(l, ROOT_INO, "nl1", "linked");
	CHECK(fs_link(l, n, ROOT_INO, "nl2", &o) == 0);
	put(l, ino_of(l, ROOT_INO, "d"), "l.txt", "local d/l");
	put(l, ino_of(l, ROOT_INO, "gone"), "new", "local gone/new");
	CHECK(fs_rename(l, ROOT_INO, "dm", ROOT_INO, "dm2", 0) == 0);
}

static void vault_changes(struct fs *v)
{
	put(v, ROOT_INO, "b.txt", "vault b");
	put(v, ROOT_INO, "shared.txt", "vault shared");
	put(v, ROOT_INO, "dv.txt", "vault dv");
	CHECK(fs_unlink(v, ROOT_INO, "del2.txt", false) == 0);
	put(v, ROOT_INO, "ren.txt", "vault ren");
	CHECK(fs_rename(v, ROOT_INO, "mv.txt", ROOT_INO, "mv2.txt", 0) == 0);
	put(v, ino_of(v, ROOT_INO, "d"), "v.txt", "vault d/v");
	put(v, ino_of(v, ROOT_INO, "dm"), "z", "vault dm/z");
	uint64_t g = ino_of(v, ROOT_INO, "gone");
	CHECK(fs_unlink(v, g, "f", false) == 0);
	CHECK(fs_unlink(v, ROOT_INO, "gone", true) == 0);
}

static void check_three_way(struct fs *v, const struct merge_report *rep)
{
	CHECK(strcmp(get(v, ROOT_INO, "a.txt"), "local a") == 0);
	CHECK(strcmp(get(v, ROOT_INO, "b.txt"), "vault b") == 0);
	CHECK(strcmp(get(v, ROOT_INO, "shared.txt"), "vault shared") == 0);
	CHECK(strcmp(get(v, ROOT_INO, conflict("shared.txt")), "local shared") == 0);
	CHECK(strcmp(get(v, ROOT_INO, "keep.txt"), "local keep") == 0);
	CHECK(ino_of(v, ROOT_INO, "del.txt") == 0);
	CHECK(strcmp(get(v, ROOT_INO, "dv.txt"), "vault dv") == 0);
	CHECK(strcmp(get(v, ROOT_INO, "del2.txt"), "local del2") == 0);
	/* renamed here, edited there: the vault's edit under the new name */
	CHECK(ino_of(v, ROOT_INO, "ren.txt") == 0);
	CHECK(strcmp(get(v, ROOT_INO, "ren2.txt"), "vault ren") == 0);
	/* renamed there, edited here: the local edit under the vault's new name */
	CHECK(ino_of(v, ROOT_INO, "mv.txt") == 0);
	CHECK(strcmp(get(v, ROOT_INO, "mv2.txt"), "local mv") == 0);
	char val[8];
	CHECK(fs_getxattr(v, ino_of(v, ROOT_INO, "xa.txt"), "user.a", val, sizeof(val)) == 1);
	struct stat s;
	CHECK(fs_lookup(v, ROOT_INO, "mode.txt", &s) == 0 && (s.st_mode & 07777) == 0600);
	CHECK(fs_lookup(v, ROOT_INO, "nl1", &s) == 0);
	CHECK(s.st_nlink == 2);
	CHECK(ino_of(v, ROOT_INO, "nl2") == s.st_ino);
	uint64_t d = ino_of(v, ROOT_INO, "d");
	CHECK(strcmp(get(v, d, "x"), "x") == 0);
	CHECK(strcmp(get(v, d, "l.txt"), "local d/l") == 0);
	CHECK(strcmp(get(v, d, "v.txt"), "vault d/v") == 0);
	/* deleted there, added to here: the directory comes back with only the new file */
	uint64_t g = ino_of(v, ROOT_INO, "gone");
	CHECK(g && strcmp(get(v, g, "new"), "local gone/new") == 0 && !ino_of(v, g, "f"));
	/* a directory renamed here, added to there: moved with what the vault added */
	uint64_t dm = ino_of(v, ROOT_INO, "dm2");
	CHECK(dm && !ino_of(v, ROOT_INO, "dm") && strcmp(get(v, dm, "y"), "y") == 0);
	CHECK(strcmp(get(v, dm, "z"), "vault dm/z") == 0);
	CHECK(rep->conflicts == 1);
}

/* The merged tree commits, loads back from the cache's root, and passes fs_check. */
static void commit_and_check(struct fs *v)
{
	CHECK(fs_commit(v) == 0);
	struct buf r = {0};
	CHECK(cache_root_read(st, &r) == 0);
	struct fs *again;
	CHECK(fs_open(&again, st, keys, vid, false) == 0);
	CHECK(fs_load_root(again, r.data, r.len) == 0);
	uint64_t files, objects;
	CHECK(fs_check(again, stderr, &files, &objects) == 0);
	CHECK(strcmp(get(again, ROOT_INO, conflict("shared.txt")), "local shared") == 0);
	struct inode *cc = inode_get(again, ino_of(again, ROOT_INO, conflict("shared.txt")));
	CHECK(cc && cc->nch == 1 && !oname_is_zero(&cc->ch[0].pack)); /* the local chunk, packed */
	fs_close(again);
	buf_free(&r);
}

static void three_way(void)
{
	struct fs *b = load(), *l = load(), *v = load();
	local_changes(l);
	vault_changes(v);
	struct merge_report rep = {0};
	CHECK(fs_merge(v, l, b, "hostA", when, &rep) == 0);
	for (size_t k = 0; k < rep.n; k++)
		fprintf(stderr, "  %s\n", rep.lines[k]);
	check_three_way(v, &rep);
	commit_and_check(v);
	merge_report_free(&rep);
	fs_close(b);
	fs_close(l);
	fs_close(v);
}

/* No common ancestor: paths only here are added, files that differ become conflict copies. */
static void two_way(void)
{
	struct fs *l = load(), *v = load();
	local_changes(l);
	vault_changes(v);
	struct merge_report rep = {0};
	CHECK(fs_merge(v, l, NULL, "hostA", when, &rep) == 0);
	CHECK(strcmp(get(v, ROOT_INO, "a.txt"), "local a") == 0);
	CHECK(strcmp(get(v, ROOT_INO, "b.txt"), "vault b") == 0);
	CHECK(strcmp(get(v, ROOT_INO, "shared.txt"), "vault shared") == 0);
	CHECK(strcmp(get(v, ROOT_INO, conflict("shared.txt")), "local shared") == 0);
	CHECK(strcmp(get(v, ROOT_INO, "keep.txt"), "base") == 0);
	CHECK(strcmp(get(v, ROOT_INO, conflict("keep.txt")), "local keep") == 0);
	CHECK(strcmp(get(v, ROOT_INO, "del2.txt"), "local del2") == 0); /* only here: added */
	CHECK(strcmp(get(v, ROOT_INO, "dv.txt"), "vault dv") == 0);	/* only there: stays */
	CHECK(strcmp(get(v, ino_of(v, ROOT_INO, "d"), "l.txt"), "local d/l") == 0);
	CHECK(rep.conflicts >= 2); /* fs_check: after three_way's commit and reload */
	merge_report_free(&rep);
	fs_close(l);
	fs_close(v);
}

int main(void)
{
	unit_setup();
	if (!mkdtemp(dir))
		return 1;
	keys = unit_keyring();
	CHECK(store_open(&st, dir) == 0);
	make_base();
	two_way(); /* first: three_way's commit frees the base's pages in the cache */
	three_way();
	store_close(st);
	buf_free(&base_root);
	keyring_free(keys);
	unit_remove_dir(dir);
	return unit_finish("test_merge");
}

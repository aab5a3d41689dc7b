/* Proves the sync engine against an in-memory vault (tests/unit/mem_remote.h), without FUSE or
 * root: a commit reaches the vault only as a complete root; a fresh device adopts it; a second
 * writer is kept out by the lease; a rollback of the vault's root is refused without touching the
 * cache; a divergence (offline commits while another device published) is merged; a root
 * replaced under a writer stops its uploads (conflict) and keeps no snapshot under the winner's
 * names; a lease another device took is not released by this one; clean-up keeps `keep` roots,
 * deletes what only older roots named and ignores listed roots past the vault's current one; a
 * retained snapshot mounts; a mount lists the vault's objects only when the cache's known journal
 * is missing or damaged (never on a fresh cache nor with the journal intact); an operator's
 * fork is refused at attach and while following, also
 * beyond the roots a root's tail holds (through history segments) and after a cache was
 * cleared; each cache keeps its own state outside the cache, never through a symlink. */
#include "tests/unit/unit.h"
#include "tests/unit/mem_remote.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "fs/core.h"
#include "fs/fs.h"
#include "format/meta.h"
#include "format/root.h"
#include "cache/files.h"
#include "sync/remote/keys.h"
#include "sync/state.h"
#include "sync/sync.h"

static struct keyring *keys;
static const uint8_t vid[16] = {9, 9};
static const struct fs_ctx ctx = {.uid = 0, .gid = 0, .umask = 022};
static char top[] = "/tmp/coffer-unit-sync-XXXXXX";

struct dev {
	char dir[96];
	struct store *st;
	struct sync *sy;
	struct fs *fs;
	struct sync_opts o;
};

static void dev_init(struct dev *d, const char *name)
{
	memset(d, 0, sizeof(*d));
	snprintf(d->dir, sizeof(d->dir), "%s/%s", top, name);
	d->o = (struct sync_opts){.keep = 16, .uploaders = 2, .lease_ttl = 120, .drain_limit = 60};
}

/* Attaches and, when that works, loads the filesystem and starts the sync. */
static int dev_mount(struct dev *d, struct mem_remote *m)
{
	CHECK(store_open(&d->st, d->dir) == 0);
	int err = sync_attach(&d->sy, &m->r, d->st, keys, vid, &d->o);
	if (err) {
		store_close(d->st);
		return err;
	}
	CHECK(fs_open(&d->fs, d->st, keys, vid, d->o.readonly) == 0);
	CHECK(fs_mount_load(d->fs, 0, 0) == 0);
	CHECK(sync_start(d->sy, d->fs) == 0);
	return 0;
}

/* Unmounts as coffer does: final commit, drain, stop; returns what the drain said. */
static int dev_umount(struct dev *d)
{
	CHECK(fs_commit(d->fs) == 0);
	int err = sync_drain(d->sy);
	sync_stop(d->sy);
	fs_close(d->fs);
	store_close(d->st);
	return err;
}

/* Creates or overwrites name at the top of the tree with text, and commits. */
static void dev_write(struct dev *d, const char *name, const char *text)
{
	struct stat s;
	int err = fs_lookup(d->fs, ROOT_INO, name, &s);
	if (err == -ENOENT)
		err = fs_mknod(d->fs, &ctx, ROOT_INO, name, S_IFREG | 0644, 0, NULL, &s);
	CHECK(err == 0);
	struct stat a = {.st_size = 0};
	CHECK(fs_setattr(d->fs, s.st_ino, &a, FS_SET_SIZE, &s) == 0);
	CHECK(fs_write(d->fs, s.st_ino, text, strlen(text), 0) == (ssize_t)strlen(text));
	CHECK(fs_commit(d->fs) == 0);
}

static bool dev_reads(struct dev *d, const char *name, const char *text)
{
	struct stat s;
	char got[256] = "";
	if (fs_lookup(d->fs, ROOT_INO, name, &s))
		return false;
	ssize_t n = fs_read(d->fs, s.st_ino, got, sizeof(got) - 1, 0);
	return n == (ssize_t)strlen(text) && memcmp(got, text, (size_t)n) == 0;
}

static int read_file(const char *dir, const char *name, struct buf *out)
{
	char p[160];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	int fd = open(p, O_RDONLY);
	if (fd < 0)
		return -errno;
	char tmp[4096];
	ssize_t n;
	while ((n = read(fd, tmp, sizeof(tmp))) > 0)
		buf_put(out, tmp, (size_t)n);
	close(fd);
	return n < 0 ? -EIO : 0;
}

/* The cache's root is byte for byte the vault's. */
static bool same_root(struct dev *d, struct mem_remote *m)
{
	struct buf b = {0};
	struct mem_entry *e = mem_find(m, "root");
	bool same = e && read_file(d->dir, "root", &b) == 0 && b.len == e->len &&
		    memcmp(b.data, e->data, b.len) == 0;
	buf_free(&b);
	return same;
}

static uint64_t root_gen(const void *p, size_t len)
{
	struct root_info ri = {0};
	return root_peek(keys, vid, p, len, &ri) == 0 ? ri.gen : 0;
}

static uint64_t vault_gen(struct mem_remote *m)
{
	struct mem_entry *e = mem_find(m, "root");
	return e ? root_gen(e->data, e->len) : 0;
}

static int on_vault(const struct oname *n, void *arg)
{
	char key[REMOTE_KEY_MAX];
	remote_key_object(key, n);
	return mem_find(arg, key) ? 0 : -ENOENT;
}

/* A writer's commits reach the vault; a fresh device adopts them; the lease keeps a second
 * writer out until the first unmounts. */
static void publish_adopt_lease(struct mem_remote *m)
{
	struct dev a, b;
	dev_init(&a, "a1");
	dev_init(&b, "b1");
	CHECK(dev_mount(&a, m) == 0);
	CHECK(mem_find(m, "lease") != NULL);
	dev_write(&a, "hello", "from a");
	CHECK(sync_drain(a.sy) == 0);
	CHECK(same_root(&a, m));
	CHECK(fs_each_object(a.fs, on_vault, m) == 0); /* everything the root names is there */
	CHECK(mem_count(m, "roots/") >= 1);
	CHECK(dev_mount(&b, m) == -EBUSY); /* a holds the lease */
	b.o.readonly = true;
	CHECK(dev_mount(&b, m) == 0);
	CHECK(same_root(&b, m));
	CHECK(dev_reads(&b, "hello", "from a"));
	CHECK(dev_umount(&b) == 0);
	CHECK(dev_umount(&a) == 0);
	CHECK(mem_find(m, "lease") == NULL); /* released at unmount */
	b.o.readonly = false;
	CHECK(dev_mount(&b, m) == 0); /* now b may write */
	CHECK(dev_reads(&b, "hello", "from a"));
	dev_write(&b, "hello", "from b");
	CHECK(dev_umount(&b) == 0);
	CHECK(dev_mount(&a, m) == 0); /* a adopts b's newer root: its own was uploaded */
	CHECK(same_root(&a, m));
	CHECK(dev_reads(&a, "hello", "from b"));
	CHECK(dev_umount(&a) == 0);
}

/* A vault that shows an older root than one this cache saw is refused; so is an empty one. */
static void rollback(struct mem_remote *m)
{
	struct dev a;
	dev_init(&a, "a2");
	CHECK(dev_mount(&a, m) == 0);
	dev_write(&a, "r", "one");
	CHECK(sync_drain(a.sy) == 0);
	struct mem_entry *e = mem_find(m, "root");
	struct buf old = {0};
	buf_put(&old, e->data, e->len);
	dev_write(&a, "r", "two");
	CHECK(dev_umount(&a) == 0);
	struct buf now = {0};
	e = mem_find(m, "root");
	buf_put(&now, e->data, e->len);
	CHECK(root_gen(now.data, now.len) > root_gen(old.data, old.len));

	mem_set(m, "root", old.data, old.len); /* the operator serves the older root */
	struct buf cached = {0};
	CHECK(read_file(a.dir, "root", &cached) == 0);
	CHECK(dev_mount(&a, m) == -ESTALE);
	struct buf after = {0};
	CHECK(read_file(a.dir, "root", &after) == 0); /* nothing local changed */
	CHECK(after.len == cached.len && memcmp(after.data, cached.data, after.len) == 0);
	mem_unset(m, "root"); /* the operator deletes the vault */
	CHECK(dev_mount(&a, m) == -ESTALE);
	mem_set(m, "root", now.data, now.len); /* honest again */
	CHECK(dev_mount(&a, m) == 0);
	CHECK(dev_reads(&a, "r", "two"));
	CHECK(dev_umount(&a) == 0);
	buf_free(&old);
	buf_free(&now);
	buf_free(&cached);
	buf_free(&after);
}

struct find {
	const char *prefix;
	char found[256];
};

static int find_entry(void *arg, const char *name, const struct stat *st, uint64_t next)
{
	(void)st;
	(void)next;
	struct find *f = arg;
	if (strncmp(name, f->prefix, strlen(f->prefix)) == 0)
		snprintf(f->found, sizeof(f->found), "%s", name);
	return 0;
}

/* The name of the first top-level entry that starts with prefix ("" if none). */
static const char *dev_find(struct dev *d, const char *prefix, struct find *f)
{
	*f = (struct find){.prefix = prefix};
	CHECK(fs_opendir(d->fs, ROOT_INO) == 0);
	CHECK(fs_readdir(d->fs, ROOT_INO, 0, false, find_entry, f) == 0);
	return f->found;
}

/* What a merged tree must hold, on every device that mounts it. */
static void merged_tree(struct dev *d)
{
	struct find f;
	CHECK(dev_reads(d, "offline", "a's work"));
	CHECK(dev_reads(d, "online", "b's work, again"));
	CHECK(dev_reads(d, "shared", "b's shared"));
	CHECK(dev_reads(d, dev_find(d, "shared (conflict ", &f), "a's shared"));
	uint64_t files, objects;
	CHECK(fs_check(d->fs, stderr, &files, &objects) == 0);
}

/* Commits made offline while another device published are merged: the vault's changes and the
 * offline ones both stay, a file both changed is kept twice (the vault's under its name), the
 * merge is published on top of the vault's root, and every device then sees all of it. With
 * the common ancestor gone from the vault (drop), the merge is two-way, with the same result
 * here. */
static void divergence(struct mem_remote *m, const char *names[3], bool drop)
{
	struct dev a, b, c;
	dev_init(&a, names[0]);
	dev_init(&b, names[1]);
	dev_init(&c, names[2]);
	CHECK(dev_mount(&a, m) == 0);
	dev_write(&a, "shared", "base");
	CHECK(dev_umount(&a) == 0);
	char ancestor[REMOTE_KEY_MAX];
	remote_key_retained_root(ancestor, vault_gen(m));
	m->down = -EHOSTDOWN;
	a.o.drain_limit = 1;	      /* gives up 1 s after the last progress */
	CHECK(dev_mount(&a, m) == 0); /* offline, from the cache */
	dev_write(&a, "offline", "a's work");
	dev_write(&a, "shared", "a's shared");
	dev_write(&a, "offline", "a's work"); /* a is now generations ahead of b */
	CHECK(dev_umount(&a) == -EAGAIN);     /* nothing could upload */
	a.o.drain_limit = 60;
	m->down = 0;
	CHECK(dev_mount(&b, m) == 0);
	dev_write(&b, "online", "b's work");
	dev_write(&b, "shared", "b's shared");
	dev_write(&b, "online", "b's work, again");
	CHECK(dev_umount(&b) == 0);
	uint64_t gen = vault_gen(m);
	if (drop) {
		CHECK(mem_find(m, ancestor) != NULL);
		mem_unset(m, ancestor);
	}
	CHECK(dev_mount(&a, m) == 0); /* merged */
	merged_tree(&a);
	struct buf status = {0};
	CHECK(read_file(a.dir, "status", &status) == 0);
	buf_u8(&status, 0);
	/* two-way: every file that differs is a conflict copy, also those only the vault changed */
	CHECK(status.data &&
	      strstr((char *)status.data, drop ? "conflict copies: " : ": 1 conflict copy: "));
	CHECK(status.data && strstr((char *)status.data, "/shared (conflict "));
	buf_free(&status);
	CHECK(dev_umount(&a) == 0);
	CHECK(vault_gen(m) > gen); /* published on top of b's */
	CHECK(dev_mount(&b, m) == 0);
	merged_tree(&b);
	CHECK(dev_umount(&b) == 0);
	CHECK(dev_mount(&c, m) == 0); /* a fresh device */
	merged_tree(&c);
	CHECK(dev_umount(&c) == 0);
}

/* A root replaced under a mounted writer stops its uploads; the other root stays. */
static void publish_conflict(struct mem_remote *m)
{
	struct dev a;
	dev_init(&a, "a4");
	CHECK(dev_mount(&a, m) == 0);
	dev_write(&a, "c", "one");
	CHECK(sync_drain(a.sy) == 0);
	struct mem_entry *e = mem_find(m, "root");
	struct buf other = {0};
	buf_put(&other, e->data, e->len);
	mem_set(m, "root", other.data, other.len); /* same bytes, a new version: someone wrote */
	dev_write(&a, "c", "two");
	CHECK(sync_drain(a.sy) == -EAGAIN);
	e = mem_find(m, "root");
	CHECK(e && e->len == other.len && memcmp(e->data, other.data, e->len) == 0);
	char key[REMOTE_KEY_MAX];
	remote_key_retained_root(key, fs_generation(a.fs));
	CHECK(mem_find(m, key) == NULL); /* the loser kept no snapshot under the winner's names */
	struct buf status = {0};
	CHECK(read_file(a.dir, "status", &status) == 0);
	buf_u8(&status, 0);
	CHECK(status.data && strstr((char *)status.data, "\"state\":\"conflict\"") != NULL);
	CHECK(dev_umount(&a) == -EAGAIN);
	CHECK(mem_find(m, "lease") != NULL); /* after a conflict the lease is left to expire */
	mem_unset(m, "lease");
	buf_free(&other);
	buf_free(&status);
}

/* A lease another device took while this one was mounted is not deleted at unmount. */
static void lease_taken(struct mem_remote *m)
{
	struct dev a;
	dev_init(&a, "a6");
	CHECK(dev_mount(&a, m) == 0);
	struct lease l;
	char tag[TAG_MAX], now[TAG_MAX];
	CHECK(lease_get(&m->r, keys, vid, &l, tag) == 0);
	const uint8_t other[DEVICE_ID_BYTES] = {0xb, 0xb};
	CHECK(lease_put(&m->r, keys, vid, other, 120, tag, now) == 0);
	CHECK(dev_umount(&a) == 0);
	CHECK(lease_get(&m->r, keys, vid, &l, tag) == 0);
	CHECK(memcmp(l.device, other, sizeof(other)) == 0); /* still the other device's */
	mem_unset(m, "lease");
}

/* Clean-up keeps the newest `keep` roots and deletes the objects only older roots named. */
static void clean_up(struct mem_remote *m)
{
	struct dev a;
	dev_init(&a, "a5");
	a.o.keep = 2;
	CHECK(dev_mount(&a, m) == 0);
	static const char *const forged[] = {"roots/00000000009999999999",
					     "roots/00000000009999999998",
					     "roots/00000000009999999997"};
	for (size_t k = 0; k < 3; k++) /* listed names past any root the vault really holds */
		mem_set(m, forged[k], "x", 1);
	for (int k = 0; k < 6; k++) {
		char text[32];
		snprintf(text, sizeof(text), "version %d", k);
		dev_write(&a, "x", text);
		CHECK(sync_drain(a.sy) == 0);
	}
	CHECK(fs_each_object(a.fs, on_vault, m) == 0);
	CHECK(dev_umount(&a) == 0); /* clean-up follows the publish the drain waited for */
	CHECK(mem_count(m, "roots/") == 2 + 3); /* the forged names counted for nothing */
	for (size_t k = 0; k < 3; k++)
		mem_unset(m, forged[k]);
	/* the two retained roots name a page table, a page and a chunk each, and nothing else is
	 * left */
	CHECK(mem_count(m, "objects/") >= 3 && mem_count(m, "objects/") <= 6);
}

/* A retained snapshot mounts read-only; one that is not retained is refused. */
static void snapshot(struct mem_remote *m)
{
	struct snapshot *v = NULL;
	size_t n = 0;
	CHECK(sync_list_snapshots(&m->r, keys, vid, &v, &n) == 0 && n == 2);
	struct dev s;
	dev_init(&s, "snap");
	s.o.readonly = true;
	s.o.snapshot = n ? v[0].gen : 1;
	CHECK(dev_mount(&s, m) == 0);
	CHECK(dev_reads(&s, "x", "version 4"));
	CHECK(dev_umount(&s) == 0);
	s.o.snapshot = 1;
	CHECK(dev_mount(&s, m) == -ENOENT);
	free(v);
}

/* Mounts d, and checks that the mount listed the vault's objects `listed` times (0 or 1). */
static void mount_counting_lists(struct dev *d, struct mem_remote *m, unsigned listed)
{
	unsigned before = m->object_lists;
	CHECK(dev_mount(d, m) == 0);
	CHECK(m->object_lists - before == listed);
}

/* A mount never lists the vault while the known journal is there and intact; when it is lost
 * (deleted, or its header damaged) the mount lists once, uploads what the vault may lack, and
 * the rebuilt journal spares the next mount the listing. */
static void no_listing(struct mem_remote *m)
{
	struct dev d;
	char path[160];
	dev_init(&d, "nolist");
	snprintf(path, sizeof(path), "%s/known", d.dir);
	mount_counting_lists(&d, m, 0); /* fresh cache */
	dev_write(&d, "nolist", "one");
	CHECK(dev_umount(&d) == 0);
	mount_counting_lists(&d, m, 0); /* the journal is intact */
	CHECK(dev_reads(&d, "nolist", "one"));
	CHECK(dev_umount(&d) == 0);
	CHECK(unlink(path) == 0);
	unsigned puts = m->puts;
	mount_counting_lists(&d, m, 1); /* lost: listed, and the cached objects upload again */
	CHECK(sync_drain(d.sy) == 0);
	CHECK(m->puts > puts);
	CHECK(fs_each_object(d.fs, on_vault, m) == 0);
	CHECK(dev_umount(&d) == 0);
	mount_counting_lists(&d, m, 0); /* rebuilt */
	CHECK(dev_umount(&d) == 0);
	int fd = open(path, O_WRONLY);
	CHECK(fd >= 0 && pwrite(fd, "XXXXXXXX", 8, 0) == 8);
	close(fd);
	mount_counting_lists(&d, m, 1); /* damaged header */
	CHECK(dev_reads(&d, "nolist", "one"));
	CHECK(dev_umount(&d) == 0);
	mount_counting_lists(&d, m, 0);
	CHECK(dev_umount(&d) == 0);
}

static void copy_root(struct mem_remote *m, struct buf *out)
{
	struct mem_entry *e = mem_find(m, "root");
	CHECK(e != NULL);
	buf_free(out);
	if (e)
		buf_put(out, e->data, e->len);
}

/* Whether the cache's root is byte for byte b. */
static bool cache_root_is(struct dev *d, const struct buf *b)
{
	struct buf c = {0};
	bool same = read_file(d->dir, "root", &c) == 0 && c.len == b->len &&
		    memcmp(c.data, b->data, c.len) == 0;
	buf_free(&c);
	return same;
}

/* Polls (up to 20 s) until the cache's status holds text. */
static bool status_says(struct dev *d, const char *text)
{
	for (int k = 0; k < 200; k++) {
		struct buf st = {0};
		bool found = read_file(d->dir, "status", &st) == 0 && (buf_u8(&st, 0), st.data) &&
			     strstr((char *)st.data, text);
		buf_free(&st);
		if (found)
			return true;
		usleep(100000);
	}
	return false;
}

/* Issue 10, scenario 2: a and b saw root P; b publishes X; the operator shows a the old P, and
 * a publishes over it. Neither device ever accepts the other's branch: b refuses a's at
 * attach and while following (its cache untouched, still serving X), a refuses b's; the status
 * shows the vault root's short hash. */
static void fork_refused(struct mem_remote *m)
{
	struct dev a, b;
	struct buf p = {0}, x = {0}, forked = {0}, cached = {0};
	dev_init(&a, "a7");
	dev_init(&b, "b7");
	CHECK(dev_mount(&a, m) == 0);
	dev_write(&a, "f", "base");
	CHECK(dev_umount(&a) == 0);
	CHECK(dev_mount(&b, m) == 0);
	CHECK(dev_reads(&b, "f", "base"));
	copy_root(m, &p);
	dev_write(&b, "X", "b's");
	CHECK(dev_umount(&b) == 0);
	copy_root(m, &x);
	mem_set(m, "root", p.data, p.len); /* the operator shows a the old root */
	CHECK(dev_mount(&a, m) == 0);	   /* a has only seen P: nothing to notice yet */
	dev_write(&a, "f", "a's");
	dev_write(&a, "f", "a's, again");
	CHECK(dev_umount(&a) == 0);
	copy_root(m, &forked);
	CHECK(root_gen(forked.data, forked.len) > root_gen(x.data, x.len));
	CHECK(read_file(b.dir, "root", &cached) == 0);
	CHECK(dev_mount(&b, m) == -ESTALE); /* fork detected at attach */
	CHECK(cache_root_is(&b, &cached));
	mem_set(m, "root", x.data, x.len); /* b follows X read-only; then the fork appears */
	b.o.readonly = true;
	CHECK(dev_mount(&b, m) == 0);
	CHECK(status_says(&b, "\"remote_root\":\""));
	mem_set(m, "root", forked.data, forked.len);
	CHECK(status_says(&b, "fork or rollback detected"));
	CHECK(dev_reads(&b, "X", "b's") && dev_reads(&b, "f", "base"));
	CHECK(dev_umount(&b) == 0);
	CHECK(cache_root_is(&b, &cached));
	mem_set(m, "root", x.data, x.len); /* and a, who published the fork, refuses b's X */
	CHECK(dev_mount(&a, m) == -ESTALE);
	mem_set(m, "root", forked.data, forked.len);
	buf_free(&p);
	buf_free(&x);
	buf_free(&forked);
	buf_free(&cached);
}

/* A mount that published a root (re-sealed with its chain) and stopped before its cache and
 * state recorded it: at the next mount the cache's root and the vault's are the same commit in
 * two sealings, and no merge happens. Made here by re-sealing the vault's root into the cache
 * and setting the state back to the previous generation. */
/* A vault root of a later format version (a newer coffer published it; it authenticates) is
 * refused as such, by the cache that synced before and by a fresh one, and nothing is changed:
 * with the root back, both mount. */
static void newer_root(struct mem_remote *m)
{
	struct dev a, b;
	dev_init(&a, "a12");
	dev_init(&b, "b12");
	CHECK(dev_mount(&a, m) == 0);
	dev_write(&a, "p", "one");
	CHECK(dev_umount(&a) == 0);
	struct buf r = {0}, plain = {0}, sealed = {0}, before = {0};
	struct root_plain rp;
	uint8_t aad[ROOT_AAD_BYTES];
	copy_root(m, &r);
	CHECK(root_unseal(keys->root, vid, r.data, r.len, &rp) == 0);
	root_encode(&rp, &plain);
	root_plain_free(&rp);
	plain.data[4] = ROOT_VERSION + 1;
	root_aad(vid, aad);
	CHECK(meta_seal(keys->root, aad, sizeof(aad), &plain, &sealed) == 0);
	char tag[TAG_MAX];
	CHECK(m->r.ops->put_if(&m->r, "root", sealed.data, sealed.len, NULL, tag) == -ESTALE);
	CHECK(m->r.ops->put(&m->r, "root", sealed.data, sealed.len) == 0);
	CHECK(read_file(a.dir, "root", &before) == 0);
	CHECK(dev_mount(&a, m) == -EPROTONOSUPPORT && cache_root_is(&a, &before));
	CHECK(dev_mount(&b, m) == -EPROTONOSUPPORT);
	CHECK(m->r.ops->put(&m->r, "root", r.data, r.len) == 0);
	CHECK(dev_mount(&a, m) == 0 && dev_reads(&a, "p", "one"));
	CHECK(dev_umount(&a) == 0);
	CHECK(dev_mount(&b, m) == 0 && dev_reads(&b, "p", "one"));
	CHECK(dev_umount(&b) == 0);
	buf_free(&r);
	buf_free(&plain);
	buf_free(&sealed);
	buf_free(&before);
}

static void published_unrecorded(struct mem_remote *m)
{
	struct dev a;
	dev_init(&a, "a9");
	CHECK(dev_mount(&a, m) == 0);
	dev_write(&a, "p", "one");
	CHECK(sync_drain(a.sy) == 0);
	uint64_t g1 = vault_gen(m);
	dev_write(&a, "p", "two");
	CHECK(dev_umount(&a) == 0);
	struct buf r = {0}, plain = {0}, sealed = {0}, st = {0};
	struct root_plain rp;
	uint8_t aad[ROOT_AAD_BYTES];
	copy_root(m, &r);
	CHECK(root_unseal(keys->root, vid, r.data, r.len, &rp) == 0);
	memset(&rp.chain, 0, sizeof(rp.chain)); /* as committed locally */
	root_encode(&rp, &plain);
	root_aad(vid, aad);
	CHECK(meta_seal(keys->root, aad, sizeof(aad), &plain, &sealed) == 0);
	root_plain_free(&rp);
	char path[160];
	snprintf(path, sizeof(path), "%s/root", a.dir);
	FILE *f = fopen(path, "wb");
	CHECK(f && fwrite(sealed.data, 1, sealed.len, f) == sealed.len && fclose(f) == 0);
	struct store *store;
	struct sync_state ss;
	CHECK(store_open(&store, a.dir) == 0);
	CHECK(state_load(store, vid, &ss) == 0);
	ss.synced = g1; /* the publish of g1 was the last one recorded */
	memset(ss.synced_hash, 0x77, sizeof(ss.synced_hash));
	CHECK(state_save(store, vid, &ss) == 0);
	store_close(store);
	CHECK(dev_mount(&a, m) == 0);
	CHECK(same_root(&a, m)); /* the vault's sealing, adopted as the same commit */
	CHECK(read_file(a.dir, "status", &st) == 0);
	buf_u8(&st, 0);
	CHECK(st.data && strstr((char *)st.data, "\"last_merge\":\"\""));
	CHECK(dev_reads(&a, "p", "two"));
	CHECK(dev_umount(&a) == 0);
	buf_free(&r);
	buf_free(&plain);
	buf_free(&sealed);
	buf_free(&st);
}

/* Writes and publishes n times, `commits` commits each. */
static void publishes(struct dev *d, int n, int commits)
{
	for (int k = 0; k < n; k++)
		for (int c = 0; c < commits; c++) {
			char text[32];
			snprintf(text, sizeof(text), "%d.%d", k, c);
			dev_write(d, "g", text);
			if (c == commits - 1)
				CHECK(sync_drain(d->sy) == 0);
		}
}

/* A device away for more publishes than a root's tail holds proves descent through history
 * segments; a fork made beyond that gap is still refused; so is a rollback after its cache was
 * cleared (the state outside the cache remembers). */
static void long_gap(struct mem_remote *m)
{
	struct dev a, b, c;
	struct buf p = {0};
	dev_init(&a, "a8");
	dev_init(&b, "b8");
	dev_init(&c, "c8");
	CHECK(dev_mount(&a, m) == 0);
	dev_write(&a, "g", "base");
	CHECK(dev_umount(&a) == 0);
	copy_root(m, &p);
	CHECK(dev_mount(&b, m) == 0 && dev_umount(&b) == 0);
	CHECK(dev_mount(&c, m) == 0 && dev_umount(&c) == 0);
	a.o.keep = c.o.keep = 64; /* P's objects stay for c's branch */
	CHECK(dev_mount(&a, m) == 0);
	publishes(&a, 17, 1);
	CHECK(dev_umount(&a) == 0);
	CHECK(mem_count(m, "history/") == 1);
	CHECK(dev_mount(&b, m) == 0); /* 17 publishes away: proved through the segment */
	CHECK(dev_reads(&b, "g", "16.0"));
	CHECK(dev_umount(&b) == 0);
	mem_set(m, "root", p.data, p.len); /* c is shown P, and builds a longer branch on it */
	CHECK(dev_mount(&c, m) == 0);
	publishes(&c, 6, 3);
	CHECK(dev_umount(&c) == 0);
	CHECK(vault_gen(m) > 17 + root_gen(p.data, p.len));
	struct buf cached = {0};
	CHECK(read_file(b.dir, "root", &cached) == 0);
	CHECK(dev_mount(&b, m) == -ESTALE); /* a fork beyond any tail */
	CHECK(cache_root_is(&b, &cached));
	buf_free(&cached);
	/* c's cache cleared: its state outside the cache still refuses the older root P */
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", c.dir);
	CHECK(system(cmd) == 0);
	mem_set(m, "root", p.data, p.len);
	CHECK(dev_mount(&c, m) == -ESTALE);
	buf_free(&p);
}

/* The state outside the cache: one file per cache folder under XDG_STATE_HOME/coffer/VAULT-ID;
 * a symlink in place of one of its folders or of the file is not followed. */
static void outside_state(void)
{
	char base[160], cmd[512], target[160];
	snprintf(base, sizeof(base), "%s/xdg", top);
	snprintf(target, sizeof(target), "%s/elsewhere", top);
	CHECK(mkdir(base, 0700) == 0 && mkdir(target, 0700) == 0);
	const char *saved = getenv("XDG_STATE_HOME");
	char *keep = saved ? strdup(saved) : NULL;
	setenv("XDG_STATE_HOME", base, 1);
	struct dev a, b;
	dev_init(&a, "o1");
	dev_init(&b, "o2");
	struct store *sa, *sb;
	struct buf got = {0};
	CHECK(store_open(&sa, a.dir) == 0 && store_open(&sb, b.dir) == 0);
	CHECK(cache_outside_state_replace(sa, vid, "one", 3) == 0);
	CHECK(cache_outside_state_replace(sb, vid, "two", 3) == 0);
	CHECK(cache_outside_state_read(sa, vid, &got) == 0 && got.len == 3 &&
	      memcmp(got.data, "one", 3) == 0); /* two caches of one vault: two files */
	buf_free(&got);
	snprintf(cmd, sizeof(cmd),
		 "test $(ls %s/coffer/09090000000000000000000000000000 | wc -l) = 2 && "
		 "test $(stat -c %%a %s/coffer) = 700",
		 base, base);
	CHECK(system(cmd) == 0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s/coffer && ln -s %s %s/coffer", base, target, base);
	CHECK(system(cmd) == 0);
	CHECK(cache_outside_state_replace(sa, vid, "three", 5) < 0);
	CHECK(cache_outside_state_read(sa, vid, &got) < 0);
	buf_free(&got);
	snprintf(cmd, sizeof(cmd), "test -z \"$(ls -A %s)\"", target);
	CHECK(system(cmd) == 0); /* nothing written through the symlink */
	store_close(sa);
	store_close(sb);
	if (keep)
		setenv("XDG_STATE_HOME", keep, 1);
	else
		unsetenv("XDG_STATE_HOME");
	free(keep);
}

static struct mem_remote *fresh_vault(void)
{
	struct mem_remote *m = mem_remote_new();
	if (!m)
		exit(1);
	return m;
}

/* The version of the sealed root p. */
static uint32_t root_version(const void *p, size_t len)
{
	struct root_plain rp;
	if (root_unseal(keys->root, vid, p, len, &rp))
		return 0;
	uint32_t v = rp.version;
	root_plain_free(&rp);
	return v;
}

/* A cache whose newest root was committed offline by a release before root version 3 (the
 * pages inline): the next mount publishes it as it is (re-sealed as version 2, its pages
 * uploaded), a fresh device reads it, and the next commit publishes version 3. */
static void old_root_unpublished(struct mem_remote *m)
{
	struct dev a, b;
	dev_init(&a, "a10");
	dev_init(&b, "b10");
	CHECK(dev_mount(&a, m) == 0);
	dev_write(&a, "o", "online");
	CHECK(sync_drain(a.sy) == 0);
	m->down = -EIO;
	dev_write(&a, "o", "offline");
	struct buf r = {0}, plain = {0}, sealed = {0};
	struct root_plain rp;
	uint8_t aad[ROOT_AAD_BYTES];
	CHECK(read_file(a.dir, "root", &r) == 0);
	CHECK(root_unseal(keys->root, vid, r.data, r.len, &rp) == 0 && rp.version == ROOT_VERSION);
	for (uint32_t k = 0; k < rp.npages; k++)
		rp.pages[k] = a.fs->pages[k].name;
	rp.version = ROOT_VERSION_2; /* as the previous release committed it */
	root_encode(&rp, &plain);
	root_plain_free(&rp);
	root_aad(vid, aad);
	CHECK(meta_seal(keys->root, aad, sizeof(aad), &plain, &sealed) == 0);
	CHECK(cache_root_replace(a.st, sealed.data, sealed.len) == 0);
	CHECK(dev_umount(&a) != 0); /* the vault is down: nothing published */
	m->down = 0;
	CHECK(dev_mount(&a, m) == 0);
	CHECK(sync_drain(a.sy) == 0);
	struct mem_entry *e = mem_find(m, "root");
	CHECK(e && root_version(e->data, e->len) == ROOT_VERSION_2);
	CHECK(dev_reads(&a, "o", "offline"));
	CHECK(dev_umount(&a) == 0);
	b.o.readonly = true;
	CHECK(dev_mount(&b, m) == 0);
	CHECK(dev_reads(&b, "o", "offline"));
	CHECK(dev_umount(&b) == 0);
	CHECK(dev_mount(&a, m) == 0);
	dev_write(&a, "o", "version 3");
	CHECK(dev_umount(&a) == 0);
	e = mem_find(m, "root");
	CHECK(e && root_version(e->data, e->len) == ROOT_VERSION);
	dev_init(&b, "c10");
	b.o.readonly = true;
	CHECK(dev_mount(&b, m) == 0);
	CHECK(dev_reads(&b, "o", "version 3"));
	CHECK(dev_umount(&b) == 0);
	buf_free(&r);
	buf_free(&plain);
	buf_free(&sealed);
}

int main(void)
{
	unit_setup();
	if (!mkdtemp(top))
		return 1;
	keys = unit_keyring();
	outside_state();
	struct mem_remote *m = fresh_vault();
	publish_adopt_lease(m);
	rollback(m);
	divergence(m, (const char *[]){"a3", "b3", "c3"}, false);
	divergence(m, (const char *[]){"a4", "b4", "c4"}, true);
	publish_conflict(m);
	lease_taken(m);
	no_listing(m);
	m->r.ops->free(&m->r);
	m = fresh_vault();
	clean_up(m);
	snapshot(m);
	m->r.ops->free(&m->r);
	m = fresh_vault();
	published_unrecorded(m);
	fork_refused(m);
	old_root_unpublished(m);
	m->r.ops->free(&m->r);
	m = fresh_vault();
	long_gap(m);
	m->r.ops->free(&m->r);
	m = fresh_vault();
	newer_root(m);
	m->r.ops->free(&m->r);
	keyring_free(keys);
	unit_remove_dir(top);
	return unit_finish("test_sync");
}

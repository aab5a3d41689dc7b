/* Proves the vault walk of `coffer verify` (sync/verify.c) against an in-memory vault
 * (tests/unit/mem_remote.h) that a real filesystem and sync published: a clean vault counts
 * every page and chunk once; a damaged inode page is reported with the paths of its inodes
 * that other pages name (and the root directory as "/"), a chunk under an unreadable page is
 * not reached, a missing chunk (here a pack of small files) carries its file's path; --repair from
 * the device's cache uploads both pages and the chunk again, after which the walk is clean. Runs
 * one fetch at a time: mem_remote is not thread-safe. */
#include "tests/unit/unit.h"
#include "tests/unit/mem_remote.h"
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "fs/core.h"
#include "fs/fs.h"
#include "format/meta.h"
#include "format/dirbucket.h"
#include "format/nametab.h"
#include "format/page.h"
#include "sync/engine.h"
#include "sync/remote/keys.h"
#include "sync/sync.h"
#include "sync/verify.h"

#define NFILES 75 /* the root directory, then files over two inode pages */
#define NOBJS  5  /* two pages, their table, two packs: f0 and f1 (the first commit), the rest */

static struct keyring *keys;
static const uint8_t vid[16] = {7, 7};
static const struct fs_ctx ctx = {.uid = 0, .gid = 0, .umask = 022};
static char dir[] = "/tmp/coffer-unit-verify-XXXXXX";
static struct oname page0, page1, chunk1;

/* A device writes NFILES small files and unmounts once the vault holds everything. */
static void publish(struct mem_remote *m)
{
	struct store *st;
	struct sync *sy;
	struct fs *fs;
	struct sync_opts o = {.keep = 16, .uploaders = 1, .lease_ttl = 120, .drain_limit = 60};
	CHECK(store_open(&st, dir) == 0);
	CHECK(sync_attach(&sy, &m->r, st, keys, vid, &o) == 0);
	CHECK(fs_open(&fs, st, keys, vid, false) == 0);
	CHECK(fs_mount_load(fs, 0, 0) == 0);
	CHECK(sync_start(sy, fs) == 0);
	for (int k = 0; k < NFILES; k++) {
		char name[16], text[32];
		struct stat s;
		snprintf(name, sizeof(name), "f%d", k);
		snprintf(text, sizeof(text), "file %d", k);
		CHECK(fs_mknod(fs, &ctx, ROOT_INO, name, S_IFREG | 0644, 0, NULL, &s) == 0);
		CHECK(fs_write(fs, s.st_ino, text, strlen(text), 0) == (ssize_t)strlen(text));
		if (k == 1) {
			CHECK(fs_commit(fs) == 0);
			chunk1 = inode_get(fs, s.st_ino)->ch[0].pack; /* small files are packed */
			CHECK(!oname_is_zero(&chunk1));
		}
	}
	CHECK(fs_commit(fs) == 0);
	CHECK(fs->npages == 2);
	page0 = fs->pages[0].name;
	page1 = fs->pages[1].name;
	CHECK(sync_drain(sy) == 0);
	sync_stop(sy);
	fs_close(fs);
	store_close(st);
}

static struct verify_problem *problem(struct verify_report *rep, const struct oname *n)
{
	char key[REMOTE_KEY_MAX];
	remote_key_object(key, n);
	for (size_t k = 0; k < rep->n; k++)
		if (strcmp(rep->v[k].key, key) == 0)
			return &rep->v[k];
	return NULL;
}

static bool has_path(const struct verify_problem *p, const char *path)
{
	for (size_t k = 0; p && k < p->npaths; k++)
		if (strcmp(p->paths[k], path) == 0)
			return true;
	return false;
}

static void flip(struct mem_remote *m, const struct oname *n)
{
	char key[REMOTE_KEY_MAX];
	remote_key_object(key, n);
	struct mem_entry *e = mem_find(m, key);
	CHECK(e && e->len > 100);
	if (e)
		e->data[100] ^= 1;
}

static void walk(struct mem_remote *m, struct store *repair, struct verify_report *rep)
{
	struct verify_opts o = {.parallel = 1, .repair_from = repair};
	CHECK(vault_verify(&m->r, keys, vid, &o, rep) == 0);
}

/* A split directory's bucket opens only as OBJ_BUCKET ("CFDB" || name): as a page or a table
 * (the other AADs) the same bytes are damage. */
static void fetch_bucket_kind(void)
{
	struct page_dent e = {.ino = 9, .name = "x", .len = 1, .type = DT_REG};
	struct dirbucket_plain d = {.dir = 3, .index = 0, .nbuckets = 1, .count = 1, .dent = &e};
	struct oname n = {.b = {7, 7}};
	uint8_t aad[DIRBUCKET_AAD_BYTES];
	struct buf b = {0}, sealed = {0}, plain = {0};
	dirbucket_encode(&d, &b);
	dirbucket_aad(&n, aad);
	CHECK(meta_seal(keys->meta, aad, sizeof(aad), &b, &sealed) == 0);
	const struct obj_want bucket = {.kind = OBJ_BUCKET}, page = {.kind = OBJ_PAGE},
			      table = {.kind = OBJ_TABLE};
	CHECK(fetch_check(keys, &n, &bucket, &sealed, &plain) == 0 && plain.len == b.len);
	CHECK(fetch_check(keys, &n, &page, &sealed, NULL) == -EBADMSG);
	CHECK(fetch_check(keys, &n, &table, &sealed, NULL) == -EBADMSG);
	buf_free(&b);
	buf_free(&sealed);
	buf_free(&plain);
}

/* fetch_check opens a name table only under its own AAD ("CFNT" || name) and meta key: the same
 * bytes are no page, and a table under another name or one byte short is damage. */
static void fetch_kinds(void)
{
	static struct nametab_plain t = {.kind = NAMETAB_PAGES, .count = 1};
	struct oname n = {.b = {1, 2}}, other = {.b = {1, 3}};
	uint8_t aad[NAMETAB_AAD_BYTES];
	struct buf b = {0}, sealed = {0}, plain = {0};
	nametab_encode(&t, &b);
	nametab_aad(&n, aad);
	CHECK(meta_seal(keys->meta, aad, sizeof(aad), &b, &sealed) == 0);
	const struct obj_want table = {.kind = OBJ_TABLE}, page = {.kind = OBJ_PAGE};
	CHECK(fetch_check(keys, &n, &table, &sealed, &plain) == 0 && plain.len == b.len &&
	      memcmp(plain.data, b.data, b.len) == 0);
	CHECK(fetch_check(keys, &n, &page, &sealed, NULL) == -EBADMSG);
	CHECK(fetch_check(keys, &other, &table, &sealed, NULL) == -EBADMSG);
	sealed.len--;
	CHECK(fetch_check(keys, &n, &table, &sealed, NULL) == -EBADMSG);
	buf_free(&b);
	buf_free(&sealed);
	buf_free(&plain);
	fetch_bucket_kind();
}

int main(void)
{
	unit_setup();
	if (!mkdtemp(dir))
		return 1;
	keys = unit_keyring();
	fetch_kinds();
	struct mem_remote *m = mem_remote_new();
	struct verify_report rep;

	walk(m, NULL, &rep); /* a vault that never published a root */
	CHECK(rep.roots == 0 && rep.objects == 0 && verify_status(&rep) == 0);
	verify_report_free(&rep);

	publish(m);
	walk(m, NULL, &rep);
	CHECK(rep.roots == 1 && rep.objects == NOBJS && rep.n == 0);
	CHECK(mem_count(m, "objects/") >= NOBJS); /* and the first commit's pages */
	CHECK(verify_status(&rep) == 0);
	verify_report_free(&rep);

	char key[REMOTE_KEY_MAX];
	remote_key_object(key, &chunk1);
	mem_unset(m, key);
	flip(m, &page1);
	walk(m, NULL, &rep);
	struct verify_problem *p = problem(&rep, &page1), *c = problem(&rep, &chunk1);
	CHECK(verify_status(&rep) == 1 && rep.missing == 1 && rep.damaged == 1 && rep.n == 2);
	CHECK(p && p->kind == VERIFY_PAGE && p->err == -EBADMSG);
	CHECK(p && p->npaths == VERIFY_PATHS_MAX && p->more == NFILES - 62 - VERIFY_PATHS_MAX &&
	      has_path(p, "/f62"));
	CHECK(c && c->kind == VERIFY_CHUNK && c->err == -ENOENT && has_path(c, "/f1"));
	CHECK(rep.objects == NOBJS); /* the damaged page's files share a pack with page 0's */
	verify_report_free(&rep);

	flip(m, &page0);
	walk(m, NULL, &rep);
	p = problem(&rep, &page0);
	CHECK(p && has_path(p, "/") && problem(&rep, &page1) && !problem(&rep, &chunk1));
	CHECK(problem(&rep, &page1) && problem(&rep, &page1)->npaths == 0);
	verify_report_free(&rep);

	struct store *st;
	CHECK(store_open_existing(&st, dir) == 0);
	walk(m, st, &rep);
	CHECK(rep.repaired == 3 && verify_status(&rep) == 0);
	c = problem(&rep, &chunk1);
	CHECK(c && c->repair == REPAIR_DONE && has_path(c, "/f1"));
	verify_report_free(&rep);
	store_close(st);
	walk(m, NULL, &rep);
	CHECK(rep.n == 0 && rep.objects == NOBJS && verify_status(&rep) == 0);
	verify_report_free(&rep);

	m->r.ops->free(&m->r);
	keyring_free(keys);
	unit_remove_dir(dir);
	return unit_finish("test_verify");
}

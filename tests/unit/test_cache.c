/* Proves, on a temporary cache folder: objects write, read, install (also through the fetch
 * hook) and unlink; the freed journal appends, walks, trims and drops, and skips a torn tail;
 * eviction removes only what the predicate allows, least recently used first, down to 90% of
 * the cap; the status text round-trips byte for byte and the parser refuses truncated or
 * garbage text; the nowait flag and the mount lock work; planted symlinks are never followed; a
 * folder owned by another user or writable by group or others is refused. */
#include "tests/unit/unit.h"
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include "cache/evict.h"
#include "cache/files.h"
#include "cache/freed.h"
#include "cache/lock.h"
#include "cache/nowait.h"
#include "cache/reserve.h"
#include "cache/status.h"
#include "cache/store.h"
#include "format/freed.h"
#include "format/status.h"

static char dir[] = "/tmp/coffer-cache-XXXXXX";

static void path_of(char *out, size_t cap, const char *name)
{
	snprintf(out, cap, "%s/%s", dir, name);
}

static void name_of(struct oname *n, int k)
{
	memset(n, 0, sizeof(*n));
	n->b[0] = (uint8_t)(k + 1);
	n->b[15] = 0xab;
}

static void test_objects(struct store *s)
{
	struct oname n;
	struct buf b = {0};
	name_of(&n, 0);
	CHECK(!store_obj_cached(s, &n));
	CHECK(store_obj_read(s, &n, &b) == -ENOENT);
	CHECK(store_obj_write(s, &n, "hello", 5) == 0);
	CHECK(store_obj_write(s, &n, "again", 5) == -EEXIST);
	CHECK(store_obj_cached(s, &n));
	CHECK(store_obj_read(s, &n, &b) == 0 && b.len == 5 && memcmp(b.data, "hello", 5) == 0);
	buf_free(&b);
	CHECK(store_obj_unlink(s, &n) == 0);
	CHECK(!store_obj_cached(s, &n));
	CHECK(store_obj_install(s, &n, "fetched", 7) == 0);
	CHECK(store_obj_read(s, &n, &b) == 0 && b.len == 7);
	buf_free(&b);
	CHECK(store_obj_unlink(s, &n) == 0);
}

static int fetches;

static int fake_fetch(void *arg, const struct oname *n, const struct obj_want *w, bool replace)
{
	(void)w;
	(void)replace;
	fetches++;
	return store_obj_install(arg, n, "remote", 6);
}

static void test_fetch_hook(struct store *s)
{
	struct oname n;
	struct buf b = {0};
	name_of(&n, 1);
	CHECK(store_obj_read(s, &n, &b) == -ENOENT);
	store_set_fetch(s, fake_fetch, s);
	CHECK(store_obj_read(s, &n, &b) == -ENOENT); /* a plain read never fetches */
	CHECK(fetches == 0);
	CHECK(store_obj_ensure(s, &n, &(struct obj_want){.kind = OBJ_PAGE}) == 0);
	CHECK(store_obj_ensure(s, &n, &(struct obj_want){.kind = OBJ_PAGE}) ==
	      0); /* there now: no second fetch */
	CHECK(fetches == 1);
	CHECK(store_obj_read(s, &n, &b) == 0 && b.len == 6 && memcmp(b.data, "remote", 6) == 0);
	store_set_fetch(s, NULL, NULL);
	buf_free(&b);
	CHECK(store_obj_unlink(s, &n) == 0);
}

static int collect(const struct oname *n, void *arg)
{
	int *seen = arg;
	seen[n->b[0]]++;
	return 0;
}

static void freed_counts(struct store *s, uint64_t upto, int seen[8])
{
	memset(seen, 0, 8 * sizeof(int));
	CHECK(cache_freed_each(s, upto, collect, seen) == 0);
}

static void test_freed(struct store *s)
{
	struct oname v[3];
	int seen[8];
	for (int k = 0; k < 3; k++)
		name_of(&v[k], k);
	CHECK(cache_freed_append(s, 1, v, 2) == 0);
	CHECK(cache_freed_append(s, 2, v + 2, 1) == 0);
	CHECK(cache_freed_append(s, 3, v, 1) == 0);
	freed_counts(s, 2, seen);
	CHECK(seen[1] == 1 && seen[2] == 1 && seen[3] == 1);
	CHECK(cache_freed_trim(s, 2) == 0); /* generation 3 never reached its commit point */
	freed_counts(s, 99, seen);
	CHECK(seen[1] == 1 && seen[2] == 1 && seen[3] == 1);
	CHECK(cache_freed_drop(s, 1) == 0);
	freed_counts(s, 99, seen);
	CHECK(seen[1] == 0 && seen[2] == 0 && seen[3] == 1);
	/* a torn last record is ignored, then dropped by the next rewrite */
	char p[128];
	path_of(p, sizeof(p), "freed.log");
	int fd = open(p, O_WRONLY | O_APPEND);
	CHECK(fd >= 0 && write(fd, "\x05\0\0\0\0\0\0\0\x09\0\0\0abc", 15) == 15);
	close(fd);
	freed_counts(s, 99, seen);
	CHECK(seen[3] == 1);
	CHECK(cache_freed_drop(s, 0) == 0);
	struct stat st;
	CHECK(stat(p, &st) == 0 && st.st_size == FREED_HEADER + NAME_BYTES);
	CHECK(cache_freed_drop(s, 99) == 0);
	CHECK(stat(p, &st) == 0 && st.st_size == 0);
}

static void test_freed_codec(void)
{
	struct oname v[2];
	name_of(&v[0], 0);
	name_of(&v[1], 1);
	struct buf b = {0};
	struct freed_record r;
	CHECK(freed_record_encode(&b, 77, v, 2) == 0 && !b.err);
	CHECK(b.len == FREED_HEADER + 2 * NAME_BYTES);
	CHECK(freed_record_decode(b.data, b.len, &r) == 0);
	CHECK(r.gen == 77 && r.count == 2 && r.len == b.len);
	CHECK(memcmp(r.names, v, sizeof(v)) == 0);
	for (size_t len = 0; len < b.len; len++)
		CHECK(freed_record_decode(b.data, len, &r) == -EINVAL);
	b.data[11] = 0xff; /* a count far beyond the bytes */
	CHECK(freed_record_decode(b.data, b.len, &r) == -EINVAL);
	buf_free(&b);
}

static int allowed_calls;

/* Everything but object 1 may go. */
static bool may_evict(const struct oname *n, void *arg)
{
	(void)arg;
	allowed_calls++;
	return n->b[0] != 2;
}

static void test_evict(struct store *s)
{
	struct oname v[8];
	static char data[65536];
	for (int k = 0; k < 8; k++) {
		char hex[2 * NAME_BYTES + 1], p[128];
		name_of(&v[k], k);
		CHECK(store_obj_write(s, &v[k], data, sizeof(data)) == 0);
		oname_hex(&v[k], hex);
		snprintf(p, sizeof(p), "%s/objects/%s", dir, hex);
		struct timespec t[2] = {{.tv_sec = 1000 + k}, {.tv_sec = 1000 + k}};
		CHECK(utimensat(AT_FDCWD, p, t, 0) == 0);
	}
	uint64_t all, one = cache_bytes_of(s, v, 1), bytes;
	CHECK(cache_evict(s, 0, may_evict, NULL, &all) == 0);
	CHECK(one >= sizeof(data) && all == 8 * one && allowed_calls == 0);
	CHECK(cache_bytes_of(s, v, 8) == all);
	/* cap 6 objects: down to 90% of it means 5 remain; the oldest allowed go first */
	CHECK(cache_evict(s, 6 * one, may_evict, NULL, &bytes) == 0);
	CHECK(bytes == 5 * one);
	bool expect[8] = {false, true, false, false, true, true, true, true};
	for (int k = 0; k < 8; k++)
		CHECK(store_obj_cached(s, &v[k]) == expect[k]);
	CHECK(cache_evict(s, 6 * one, may_evict, NULL, &bytes) == 0 && bytes == 5 * one);
	for (int k = 0; k < 8; k++)
		store_obj_unlink(s, &v[k]);
}

static struct status sample(void)
{
	struct status st = {
		.local_generation = 42,
		.remote_generation = 41,
		.remote_committed = 1700000000,
		.objects_waiting = 3,
		.bytes_waiting = 123456,
		.upload_rate = 98765.4,
		.objects_uploaded = 10,
		.bytes_uploaded = 20,
		.cache_bytes = 30,
		.last_error_time = 1700000001,
		.pid = 4321,
	};
	snprintf(st.state, sizeof(st.state), "uploading");
	snprintf(st.remote, sizeof(st.remote), "s3://host/b\"ucket\\x");
	snprintf(st.last_error, sizeof(st.last_error), "uploading: tab\there\nnewline");
	snprintf(st.last_merge, sizeof(st.last_merge),
		 "generation 7: 1 conflict copy: /a (conflict h 2026-01-02 030405)");
	snprintf(st.remote_root, sizeof(st.remote_root), "0123abcd");
	return st;
}

static void test_status_codec(void)
{
	struct status st = sample(), got;
	char text[STATUS_TEXT_MAX], old[STATUS_TEXT_MAX];
	int n = status_encode(&st, text, sizeof(text));
	/* the text the daemon has always written, by its old format string */
	snprintf(old, sizeof(old),
		 "{\"state\":\"%s\",\"remote\":\"%s\",\"local_generation\":%" PRIu64
		 ",\"remote_generation\":%" PRIu64 ",\"remote_committed\":%lld"
		 ",\"objects_waiting\":%zu"
		 ",\"bytes_waiting\":%" PRIu64 ",\"upload_rate\":%.0f"
		 ",\"objects_uploaded\":%" PRIu64 ",\"bytes_uploaded\":%" PRIu64
		 ",\"cache_bytes\":%" PRIu64 ",\"last_error\":\"%s\",\"last_error_time\":%lld"
		 ",\"pid\":%d,\"last_merge\":\"%s\",\"remote_root\":\"0123abcd\"}\n",
		 "uploading", "s3://host/b\\\"ucket\\\\x", (uint64_t)42, (uint64_t)41, 1700000000LL,
		 (size_t)3, (uint64_t)123456, 98765.4, (uint64_t)10, (uint64_t)20, (uint64_t)30,
		 "uploading: tab\\u0009here\\u000anewline", 1700000001LL, 4321,
		 "generation 7: 1 conflict copy: /a (conflict h 2026-01-02 030405)");
	CHECK(n > 0 && strcmp(text, old) == 0);
	CHECK(status_parse(text, (size_t)n, &got) == 0);
	CHECK(strcmp(got.state, st.state) == 0 && strcmp(got.remote, st.remote) == 0);
	CHECK(strcmp(got.last_error, st.last_error) == 0);
	CHECK(strcmp(got.last_merge, st.last_merge) == 0);
	CHECK(strcmp(got.remote_root, "0123abcd") == 0);
	CHECK(got.local_generation == 42 && got.remote_generation == 41 && got.pid == 4321);
	CHECK(got.remote_committed == 1700000000 && got.last_error_time == 1700000001);
	CHECK(got.objects_waiting == 3 && got.bytes_waiting == 123456 && got.cache_bytes == 30);
	CHECK(got.upload_rate == 98765.0 && got.objects_uploaded == 10 && got.bytes_uploaded == 20);
	char again[STATUS_TEXT_MAX];
	got.upload_rate = 98765.4;
	CHECK(status_encode(&got, again, sizeof(again)) == n && strcmp(again, text) == 0);
	CHECK(status_encode(&st, again, 100) == -ENOSPC);
	/* every truncation is refused (the one without the final newline is still whole) */
	for (int len = 0; len < n - 1; len++)
		CHECK(status_parse(text, (size_t)len, &got) == -EINVAL);
	CHECK(status_parse(text, (size_t)n - 1, &got) == 0);
	/* a daemon of an earlier version, still running after an upgrade, wrote neither last_merge
	 * nor remote_root */
	char *cut = strstr(text, ",\"last_merge\"");
	CHECK(cut != NULL);
	if (cut) {
		strcpy(cut, "}\n");
		CHECK(status_parse(text, strlen(text), &got) == 0 && got.pid == 4321 &&
		      got.last_merge[0] == 0 && got.remote_root[0] == 0);
	}
}

/* text with its first occurrence of from replaced by to, parsed */
static int parse_edited(const char *from, const char *to)
{
	struct status st = sample(), got;
	char text[STATUS_TEXT_MAX], edited[2 * STATUS_TEXT_MAX];
	status_encode(&st, text, sizeof(text));
	char *at = strstr(text, from);
	if (!at)
		return 1;
	snprintf(edited, sizeof(edited), "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
	return status_parse(edited, strlen(edited), &got);
}

static void test_status_garbage(void)
{
	struct status got;
	static const char *bad[] = {"", "hello", "{}", "[1,2]", "{\"state\":1}", "\"x\"", "{,}"};
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++)
		CHECK(status_parse(bad[k], strlen(bad[k]), &got) == -EINVAL);
	CHECK(parse_edited("\"pid\":4321", "\"pid\":4321,\"pid\":1") == -EINVAL);
	CHECK(parse_edited("\"pid\":4321", "\"pid\":4321,\"other\":1") == -EINVAL);
	CHECK(parse_edited("\"state\":\"uploading\",", "") == -EINVAL);
	CHECK(parse_edited(",\"pid\":4321", "") == -EINVAL);
	CHECK(parse_edited("\"local_generation\":42", "\"local_generation\":-42") == -EINVAL);
	CHECK(parse_edited("\"local_generation\":42", "\"local_generation\":4.2") == -EINVAL);
	CHECK(parse_edited("\"local_generation\":42", "\"local_generation\":042") == -EINVAL);
	CHECK(parse_edited("\"local_generation\":42",
			   "\"local_generation\":99999999999999999999") == -EINVAL);
	CHECK(parse_edited("\"pid\":4321", "\"pid\":99999999999") == -EINVAL);
	CHECK(parse_edited("\"upload_rate\":98765", "\"upload_rate\":nan") == -EINVAL);
	CHECK(parse_edited("\"upload_rate\":98765", "\"upload_rate\":1e999") == -EINVAL);
	CHECK(parse_edited("\"upload_rate\":98765", "\"upload_rate\":1.5e3") == 0);
	CHECK(parse_edited("\"state\":\"uploading\"", "\"state\":\"uploading-far-too-long\"") ==
	      -EINVAL);
	CHECK(parse_edited("tab\\u0009", "tab\t") == -EINVAL);
	CHECK(parse_edited("tab\\u0009", "tab\\u0000") == -EINVAL);
	CHECK(parse_edited("tab\\u0009", "tab\\ud800") == -EINVAL);
	CHECK(parse_edited("tab\\u0009", "tab\\q") == -EINVAL);
	CHECK(parse_edited("tab\\u0009", "tab\\u00") == -EINVAL);
	CHECK(parse_edited("tab\\u0009", "tab\\u00e9") == 0);
	CHECK(parse_edited("}\n", "} x") == -EINVAL);
	CHECK(parse_edited("{", " \n{ ") == 0);
	char longer[STATUS_REMOTE + 40];
	memset(longer, 'a', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = 0;
	CHECK(parse_edited("s3://host", longer) == -EINVAL);
	/* random damage never crashes nor reads out of bounds (ASan watches) */
	struct status st = sample();
	char text[STATUS_TEXT_MAX];
	int n = status_encode(&st, text, sizeof(text));
	for (int k = 0; k < 2000; k++) {
		char copy[STATUS_TEXT_MAX];
		memcpy(copy, text, (size_t)n);
		copy[random_u32() % (uint32_t)n] = (char)random_u32();
		status_parse(copy, (size_t)n, &got);
	}
}

static void test_status_file(struct store *s)
{
	struct status st = sample(), got;
	CHECK(cache_status_read(s, &got) == -ENOENT);
	CHECK(cache_status_write(s, &st) == 0);
	CHECK(cache_status_read(s, &got) == 0 && got.pid == 4321);
	CHECK(strcmp(got.remote, st.remote) == 0);
	char p[128];
	path_of(p, sizeof(p), "status");
	FILE *f = fopen(p, "w");
	CHECK(f && fputs("{\"state\":\"idle\"", f) >= 0);
	fclose(f);
	CHECK(cache_status_read(s, &got) == -EINVAL);
}

static void test_nowait(struct store *s)
{
	CHECK(!cache_nowait_isset(s));
	CHECK(cache_nowait_set(s) == 0);
	CHECK(cache_nowait_isset(s));
	cache_nowait_clear(s);
	CHECK(!cache_nowait_isset(s));
}

static void test_lock(void)
{
	struct store *a, *b, *w;
	CHECK(store_open(&a, dir) == 0 && store_open(&b, dir) == 0);
	CHECK(store_open_existing(&w, dir) == 0);
	CHECK(cache_lock_take(a) == 0);
	CHECK(cache_lock_take(b) == -EBUSY);
	CHECK(cache_lock_watch(w) == 0 && cache_lock_held(w));
	store_close(a);
	CHECK(!cache_lock_held(w));
	CHECK(cache_lock_take(b) == 0);
	store_close(b);
	store_close(w);
	CHECK(store_open_existing(&w, "/nonexistent/coffer-cache") == -ENOENT && w == NULL);
}

/* A symlink at name pointing at a victim file outside the cache. */
static void plant(const char *name, const char *victim)
{
	char p[128];
	path_of(p, sizeof(p), name);
	unlink(p);
	CHECK(symlink(victim, p) == 0);
}

static void test_symlinks(struct store *s)
{
	char victim[] = "/tmp/coffer-victim-XXXXXX";
	int fd = mkstemp(victim);
	CHECK(fd >= 0);
	close(fd);
	struct stat st;
	struct status status = sample();
	plant(".status.tmp", victim);
	CHECK(cache_status_write(s, &status) == 0);
	plant("reserve.tmp", victim);
	CHECK(cache_reserve_fill(s) == 0);
	CHECK(cache_reserve_release(s) == 0);
	plant("freed.log", victim);
	struct oname n;
	name_of(&n, 0);
	CHECK(cache_freed_append(s, 1, &n, 1) == -ELOOP);
	CHECK(cache_freed_each(s, 1, collect, NULL) == -ELOOP);
	plant("root", victim);
	struct buf b = {0};
	CHECK(cache_root_read(s, &b) == -ELOOP);
	CHECK(cache_root_replace(s, "r", 1) == 0 && cache_root_read(s, &b) == 0 && b.len == 1);
	buf_free(&b);
	CHECK(stat(victim, &st) == 0 && st.st_size == 0);
	unlink(victim);
}

/* A new cache folder on ext4 asks for its subfolders to be placed like top-level ones, so that
 * objects/ gets a block group with room (FS_TOPDIR_FL; other filesystems may not have it). */
static void test_topdir(void)
{
	char d[] = "/tmp/coffer-topdir-XXXXXX", cache[64];
	struct statfs sf;
	struct store *s;
	int flags = 0;
	CHECK(mkdtemp(d) != NULL);
	snprintf(cache, sizeof(cache), "%s/cache", d);
	CHECK(store_open(&s, cache) == 0);
	int fd = open(cache, O_RDONLY | O_DIRECTORY);
	CHECK(fd >= 0 && fstatfs(fd, &sf) == 0);
	if (sf.f_type == EXT4_SUPER_MAGIC)
		CHECK(ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0 && flags & FS_TOPDIR_FL);
	else
		printf("test_cache: /tmp is not ext4 (magic %lx): FS_TOPDIR_FL not checked\n",
		       (unsigned long)sf.f_type);
	close(fd);
	store_close(s);
	unit_remove_dir(d);
}

/* A folder another user owns, or that group or others may write, is refused before anything is
 * created in it; the same folder, once safe, opens. */
static void test_owner(void)
{
	char d[] = "/tmp/coffer-owner-XXXXXX", objs[64];
	struct store *s;
	struct stat st;
	CHECK(mkdtemp(d) != NULL);
	snprintf(objs, sizeof(objs), "%s/objects", d);
	CHECK(chmod(d, 0777) == 0);
	CHECK(store_open(&s, d) == -EPERM && s == NULL);
	CHECK(chmod(d, 0720) == 0);
	CHECK(store_open(&s, d) == -EPERM && s == NULL);
	CHECK(stat(objs, &st) < 0 && errno == ENOENT);
	CHECK(chmod(d, 0755) == 0);
	if (geteuid() == 0) { /* only root can give a folder away */
		CHECK(chown(d, 65534, 65534) == 0);
		CHECK(store_open(&s, d) == -EPERM && s == NULL);
		CHECK(store_open_existing(&s, d) == 0 && store_check_owner(s) == -EPERM);
		store_close(s);
		CHECK(chown(d, 0, 0) == 0);
	}
	CHECK(store_open(&s, d) == 0 && store_check_owner(s) == 0);
	store_close(s);
	rmdir(objs);
	rmdir(d);
}

static bool exists(const char *sub)
{
	char p[160];
	snprintf(p, sizeof(p), "%s/%s", dir, sub);
	return access(p, F_OK) == 0;
}

static void leave_temp(const char *sub)
{
	char p[160];
	snprintf(p, sizeof(p), "%s/%s", dir, sub);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0 && write(fd, "x", 1) == 1);
	if (fd >= 0)
		close(fd);
}

/* A crash leaves temporaries beside the root as well as in objects/: both are swept, and
 * nothing else is. */
static void test_clean_temp(struct store *s)
{
	CHECK(cache_root_replace(s, "root bytes", 10) == 0);
	leave_temp(".root.1a2b3c4d.tmp");
	leave_temp(".sync.state.00000000.tmp");
	leave_temp("objects/.0123456789abcdef0123456789abcdef.5e6f7a8b.tmp");
	CHECK(store_clean_temp(s) == 0);
	CHECK(!exists(".root.1a2b3c4d.tmp"));
	CHECK(!exists(".sync.state.00000000.tmp"));
	CHECK(!exists("objects/.0123456789abcdef0123456789abcdef.5e6f7a8b.tmp"));
	CHECK(exists("root") && exists("objects"));
}

int main(void)
{
	unit_setup();
	CHECK(mkdtemp(dir) != NULL);
	struct store *s;
	CHECK(store_open(&s, dir) == 0);
	test_objects(s);
	test_fetch_hook(s);
	test_freed(s);
	test_freed_codec();
	test_evict(s);
	test_status_codec();
	test_status_garbage();
	test_status_file(s);
	test_nowait(s);
	test_symlinks(s);
	test_clean_temp(s);
	store_close(s);
	test_lock();
	test_owner();
	test_topdir();
	unit_remove_dir(dir);
	return unit_finish("test_cache");
}

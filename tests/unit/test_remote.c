/* Proves: the remote key builders make the names coffer-format(5) gives; the roots/ name parser
 * takes exactly 20 decimal digits and refuses an overflowing value; the folder backend, driven
 * through its ops table on a temp folder, stores, lists and deletes, and its put_if refuses a
 * stale or missing version (-ESTALE), a missing key reads as -ENOENT and a missing vault folder
 * as -EHOSTDOWN; its put_fd copies a file (copy_file_range on one filesystem, the read/write
 * fallback from tmpfs) to the same bytes, and one shorter than asked fails leaving nothing; URLs
 * with a password or a bad port are refused; the XML helper finds elements and refuses other
 * documents. */
#include "tests/unit/unit.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cache/store.h"
#include "lib/fileio.h"
#include "sync/remote/keys.h"
#include "sync/remote/url.h"
#include "sync/remote/xml.h"

static void keys(void)
{
	char key[REMOTE_KEY_MAX];
	struct oname n;
	for (int i = 0; i < NAME_BYTES; i++)
		n.b[i] = (uint8_t)(i * 17);
	remote_key_object(key, &n);
	CHECK(strcmp(key, "objects/00112233445566778899aabbccddeeff") == 0);
	CHECK(remote_key_is_object(key));
	remote_key_retained_root(key, 42);
	CHECK(strcmp(key, "roots/00000000000000000042") == 0);
	CHECK(!remote_key_is_object(key));
	remote_key_retained_root(key, UINT64_MAX);
	CHECK(strcmp(key, "roots/18446744073709551615") == 0);
	CHECK(strcmp(remote_key_root(), "root") == 0);
	CHECK(strcmp(remote_key_lease(), "lease") == 0);
	CHECK(strcmp(remote_key_config(), "config") == 0);
	CHECK(strcmp(remote_prefix_objects(), "objects/") == 0);
	CHECK(strcmp(remote_prefix_roots(), "roots/") == 0);
	CHECK(!remote_key_is_object(remote_key_root()));
}

static void root_gens(void)
{
	static const uint64_t ok[] = {0, 1, 42, 9999999999ull, UINT64_MAX - 1, UINT64_MAX};
	char key[REMOTE_KEY_MAX];
	uint64_t gen;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		remote_key_retained_root(key, ok[i]);
		gen = 7;
		CHECK(remote_parse_root_gen(key + strlen(remote_prefix_roots()), &gen) == 0);
		CHECK(gen == ok[i]);
	}
	static const char *const bad[] = {
		"",
		"1",
		"0000000000000000001",	 /* 19 digits */
		"000000000000000000001", /* 21 digits */
		"+0000000000000000001",
		" 0000000000000000001",
		"-0000000000000000001",
		"0000000000000000001a",
		"0x000000000000000001",
		".00000000000000000001.tmp",
		"00000000000000000001.tmp",
		"00000000000000000001 ",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		gen = 7;
		CHECK(remote_parse_root_gen(bad[i], &gen) == -EINVAL);
		CHECK(gen == 7);
	}
	gen = 7;
	CHECK(remote_parse_root_gen("18446744073709551616", &gen) == -ERANGE);
	CHECK(remote_parse_root_gen("99999999999999999999", &gen) == -ERANGE);
	CHECK(remote_parse_root_gen("20000000000000000000", &gen) == -ERANGE);
	CHECK(gen == 7);
}

struct seen {
	char names[8][64];
	int n;
};

static int collect(const char *key, void *arg)
{
	struct seen *s = arg;
	if (s->n < 8)
		snprintf(s->names[s->n], sizeof(s->names[0]), "%s", key);
	s->n++;
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static void folder_objects(struct remote *r)
{
	char key[REMOTE_KEY_MAX];
	struct oname n = {{1, 2, 3}};
	struct buf b = {0};
	struct seen s = {0};
	remote_key_object(key, &n);
	CHECK(r->ops->list(r, remote_prefix_objects(), collect, &s) == 0 && s.n == 0);
	CHECK(r->ops->get(r, key, 1 << 20, &b, NULL) == -ENOENT);
	CHECK(r->ops->del(r, key) == -ENOENT);
	CHECK(r->ops->put(r, key, "sealed bytes", 12) == 0);
	CHECK(r->ops->get(r, key, 1 << 20, &b, NULL) == 0);
	CHECK(b.len == 12 && memcmp(b.data, "sealed bytes", 12) == 0);
	b.len = 0; /* a longer answer than the caller expects is refused, nothing kept */
	CHECK(r->ops->get(r, key, 11, &b, NULL) == -EFBIG && b.len == 0);
	CHECK(r->ops->get(r, key, 12, &b, NULL) == 0 && b.len == 12);
	CHECK(r->ops->list(r, remote_prefix_objects(), collect, &s) == 0);
	CHECK(s.n == 1 && strcmp(s.names[0], key + strlen(remote_prefix_objects())) == 0);
	CHECK(r->ops->del(r, key) == 0);
	CHECK(r->ops->get(r, key, 1 << 20, &b, NULL) == -ENOENT);
	buf_free(&b);
}

static void folder_put_if(struct remote *r)
{
	char t1[TAG_MAX], t2[TAG_MAX], t3[TAG_MAX];
	const char *root = remote_key_root();
	struct buf b = {0};
	CHECK(r->ops->put_if(r, root, "one", 3, "\"nothing there\"", t1) == -ESTALE);
	CHECK(r->ops->put_if(r, root, "one", 3, NULL, t1) == 0);
	CHECK(r->ops->put_if(r, root, "two", 3, NULL, t2) == -ESTALE); /* exists now */
	CHECK(r->ops->get(r, root, 1 << 20, &b, t3) == 0 && strcmp(t1, t3) == 0);
	CHECK(r->ops->put_if(r, root, "two", 3, t1, t2) == 0);
	CHECK(strcmp(t1, t2) != 0);
	CHECK(r->ops->put_if(r, root, "three", 5, t1, t3) == -ESTALE); /* stale tag */
	b.len = 0;
	CHECK(r->ops->get(r, root, 1 << 20, &b, NULL) == 0 && b.len == 3 &&
	      memcmp(b.data, "two", 3) == 0);
	buf_free(&b);
}

static void folder_gens(struct remote *r)
{
	static const uint64_t gens[] = {30, 2, 1000};
	char key[REMOTE_KEY_MAX];
	for (size_t i = 0; i < 3; i++) {
		remote_key_retained_root(key, gens[i]);
		CHECK(r->ops->put(r, key, "r", 1) == 0);
	}
	/* strangers the listing must skip */
	CHECK(r->ops->put(r, "roots/0000000000000000001", "x", 1) == 0);
	CHECK(r->ops->put(r, "roots/99999999999999999999", "x", 1) == 0);
	CHECK(r->ops->put(r, "roots/00000000000000000007.tmp", "x", 1) == 0);
	uint64_t *v = NULL;
	size_t n = 0;
	CHECK(remote_list_gens(r, &v, &n) == 0);
	CHECK(n == 3 && v && v[0] == 2 && v[1] == 30 && v[2] == 1000);
	free(v);
}

/* put_fd of a file made in srcdir (3 MiB and a bit) to the object n: same bytes back, nothing
 * left but the object; asking for more bytes than the file has is -EIO and leaves nothing. */
/* Entries of dir/objects, hidden ones (temporaries) included. */
static int entries(const char *dir)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/objects", dir);
	DIR *d = opendir(path);
	int n = 0;
	for (struct dirent *e; d && (e = readdir(d));)
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	if (d)
		closedir(d);
	return n;
}

static void put_fd_from(struct remote *r, const char *dir, const char *srcdir,
			const struct oname *n)
{
	char path[128], key[REMOTE_KEY_MAX];
	size_t len = 3 * 1048576 + 123;
	unsigned char *p = malloc(len);
	struct buf b = {0};
	random_bytes(p, len);
	snprintf(path, sizeof(path), "%s/coffer-put-fd-XXXXXX", srcdir);
	int fd = mkstemp(path);
	CHECK(fd >= 0 && file_write_all(fd, p, len) == 0);
	unlink(path);
	remote_key_object(key, n);
	CHECK(r->ops->put_fd(r, key, fd, len) == 0);
	CHECK(r->ops->get(r, key, len, &b, NULL) == 0 && b.len == len &&
	      memcmp(b.data, p, len) == 0);
	CHECK(r->ops->del(r, key) == 0);
	CHECK(r->ops->put_fd(r, key, fd, len + 1) == -EIO);
	CHECK(r->ops->get(r, key, len + 1, &b, NULL) == -ENOENT);
	CHECK(entries(dir) == 0); /* no temporary left */
	close(fd);
	buf_free(&b);
	free(p);
}

static void folder(void)
{
	char dir[] = "/tmp/coffer-test-remote-XXXXXX", missing[64];
	CHECK(mkdtemp(dir) != NULL);
	struct remote *r = remote_open(dir, NULL);
	CHECK(r != NULL);
	if (!r)
		return;
	folder_objects(r);
	folder_put_if(r);
	folder_gens(r);
	put_fd_from(r, dir, dir, &(struct oname){{7}});
	put_fd_from(r, dir, "/dev/shm", &(struct oname){{8}}); /* another filesystem: read/write */
	remote_free(r);

	snprintf(missing, sizeof(missing), "file://%s/none", dir);
	r = remote_open(missing, NULL);
	struct buf b = {0};
	CHECK(r && r->ops->get(r, remote_key_config(), 1 << 20, &b, NULL) == -EHOSTDOWN);
	remote_free(r);
	CHECK(remote_open("file://relative", NULL) == NULL);
	CHECK(remote_open("ftp://host/x", NULL) == NULL);
	nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

static void urls(void)
{
	struct url_parts u;
	const char *why = NULL;
	CHECK(url_parse("sftp://me@[::1]:2222/srv/v", &u, &why) == 0);
	CHECK(strcmp(u.scheme, "sftp") == 0 && strcmp(u.user, "me") == 0);
	CHECK(strcmp(u.host, "[::1]") == 0 && u.port == 2222 && strcmp(u.path, "/srv/v") == 0);
	CHECK(url_parse("webdav://host", &u, &why) == 0 && u.port == 0 && u.path[0] == 0);
	CHECK(url_parse("webdav://me:pw@host/x", &u, &why) == -EINVAL && why);
	CHECK(url_parse("s3://host:0/b", &u, &why) == -EINVAL);
	CHECK(url_parse("s3://host:65536/b", &u, &why) == -EINVAL);
	CHECK(url_parse("s3://host:/b", &u, &why) == -EINVAL);
	CHECK(url_parse("s3://ho_st/b", &u, &why) == -EINVAL);
	CHECK(url_parse("s3://host/b?x", &u, &why) == -EINVAL);
	CHECK(url_parse("host/b", &u, &why) == -EINVAL);
	CHECK(url_parse("://host/b", &u, &why) == -EINVAL); /* found by fuzz_url */
	char longuser[128];
	snprintf(longuser, sizeof(longuser), "sftp://%070d@host/v", 0); /* was cut to 63 bytes */
	CHECK(url_parse(longuser, &u, &why) == -EINVAL && why);
	char *j = url_join("http://h/base/", "a b/c~d%");
	CHECK(j && strcmp(j, "http://h/base/a%20b/c~d%25") == 0);
	free(j);
}

static struct buf text(const char *s)
{
	struct buf b = {0};
	buf_put(&b, s, strlen(s));
	return b;
}

static void xml(void)
{
	struct buf b = text("<?xml version=\"1.0\"?><ListBucketResult xmlns=\"x\"><IsTruncated>true"
			    "</IsTruncated><Contents><Key>k1</Key></Contents></ListBucketResult>");
	xmlNode *top;
	xmlDoc *doc = xml_parse(&b, "ListBucketResult", &top);
	CHECK(doc && top);
	if (doc) {
		CHECK(xml_text_is(xml_child(top, "IsTruncated"), "true"));
		char *k = xml_text(xml_child(xml_child(top, "Contents"), "Key"));
		CHECK(k && strcmp(k, "k1") == 0);
		free(k);
		CHECK(xml_child(top, "Missing") == NULL && xml_text(NULL) == NULL);
		xmlFreeDoc(doc);
	}
	CHECK(xml_parse(&b, "multistatus", &top) == NULL && top == NULL);
	buf_free(&b);
	b = text("<ListBucketResult><unclosed></ListBucketResult>");
	CHECK(xml_parse(&b, "ListBucketResult", &top) == NULL);
	buf_free(&b);
	b = text("");
	CHECK(xml_parse(&b, "ListBucketResult", &top) == NULL);
}

int main(void)
{
	unit_setup();
	keys();
	root_gens();
	folder();
	urls();
	xml();
	return unit_finish("test_remote");
}

/* Proves: a listing's guard refuses a repeated continuation token, keys that do not ascend
 * (ordered listings), more keys or pages than its caps and a long run of empty truncated pages,
 * and takes an honest listing; the netrc reader finds machine and default entries as curl does
 * (case, quotes, comments, macdef bodies, IPv6 brackets) and nothing else; webdav:// refuses to
 * open with a netrc entry or a login for its host unless -o insecure_http_auth, and opens
 * without one, and webdavs:// is unaffected. */
#include "tests/unit/unit.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "sync/remote/listing.h"
#include "sync/remote/netrc.h"
#include "sync/remote/remote.h"

static void guard_honest(void)
{
	struct list_guard g;
	list_guard_init(&g, 10, 5, true);
	CHECK(list_guard_key(&g, "a") == 0 && list_guard_key(&g, "b") == 0);
	CHECK(list_guard_page(&g, "t1") == 0);
	CHECK(list_guard_key(&g, "c") == 0);
	CHECK(list_guard_page(&g, "t2") == 0);
	CHECK(list_guard_page(&g, "t3") == 0); /* one empty page is fine */
	CHECK(list_guard_key(&g, "d") == 0);
	CHECK(list_guard_page(&g, NULL) == 0);
	CHECK(g.keys == 4 && g.pages == 4 && g.why[0] == 0);
	list_guard_free(&g);
}

static void guard_hostile(void)
{
	struct list_guard g;
	list_guard_init(&g, 10, 100, true);
	CHECK(list_guard_key(&g, "a") == 0 && list_guard_page(&g, "same") == 0);
	CHECK(list_guard_key(&g, "b") == 0 && list_guard_page(&g, "same") == -EPROTO);
	CHECK(strstr(g.why, "same continuation token") != NULL);
	list_guard_free(&g);

	list_guard_init(&g, 10, 100, true); /* fresh tokens, the same keys again */
	CHECK(list_guard_key(&g, "a") == 0 && list_guard_key(&g, "b") == 0);
	CHECK(list_guard_page(&g, "t1") == 0);
	CHECK(list_guard_key(&g, "a") == -EPROTO && strstr(g.why, "out of order"));
	list_guard_free(&g);

	list_guard_init(&g, 3, 100, false); /* unordered: repeats pass, the cap does not */
	CHECK(list_guard_key(&g, "x") == 0 && list_guard_key(&g, "x") == 0);
	CHECK(list_guard_key(&g, "x") == 0 && list_guard_key(&g, "x") == -EPROTO);
	CHECK(strstr(g.why, "more than 3 keys") != NULL && g.keys == 3);
	list_guard_free(&g);

	list_guard_init(&g, 1000, 4, true); /* fresh tokens and keys forever: the page cap */
	char key[16], tok[16];
	int err = 0, i;
	for (i = 0; i < 100 && !err; i++) {
		snprintf(key, sizeof(key), "k%04d", i);
		snprintf(tok, sizeof(tok), "t%d", i);
		err = list_guard_key(&g, key);
		err = err ? err : list_guard_page(&g, tok);
	}
	CHECK(err == -EPROTO && i == 4 && strstr(g.why, "more than 4 pages"));
	list_guard_free(&g);

	list_guard_init(&g, 1000, 100000, true); /* empty pages with fresh tokens */
	for (err = 0, i = 0; i < 1000 && !err; i++) {
		snprintf(tok, sizeof(tok), "t%d", i);
		err = list_guard_page(&g, tok);
	}
	CHECK(err == -EPROTO && i == LIST_EMPTY_RUN_MAX && strstr(g.why, "without a key"));
	list_guard_free(&g);
}

static bool has(const char *text, const char *host)
{
	return netrc_has_host(text, strlen(text), host);
}

static void netrc(void)
{
	CHECK(has("machine 127.0.0.1 login u password p\n", "127.0.0.1"));
	CHECK(has("machine other login u password p\nmachine Dav.Example.org\n",
		  "dav.example.ORG"));
	CHECK(has("machine other\n  login u\n  password p\ndefault login a password b\n", "x"));
	CHECK(has("machine \"h\" login u", "h"));
	CHECK(has("machine ::1 login u", "[::1]"));
	CHECK(!has("", "h"));
	CHECK(!has("machine other login u password p\n", "h"));
	CHECK(!has("machine other login h password h\n", "h")); /* a login, not a machine */
	CHECK(!has("# machine h login u\nmachine o\n", "h"));
	CHECK(!has("macdef init\nmachine h\n\nmachine o\n", "h"));
	CHECK(has("macdef init\nx y\n\nmachine h\n", "h"));
	CHECK(!has("machine", "h") && !has("machine hh", "h") && !has("machine \"h", "hx"));
	CHECK(!has("machine hx", "h"));
}

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	int ok = f && fputs(text, f) >= 0;
	return (f && fclose(f) == 0 && ok) ? 0 : -1;
}

static struct remote *dav(const char *url, const char *netrc_file, int insecure)
{
	struct remote_opts o = {.netrc = netrc_file, .insecure_http_auth = insecure};
	return remote_open(url, &o);
}

static void webdav_plain_auth(void)
{
	char dir[] = "/tmp/coffer-netrc-XXXXXX", with[64], without[64];
	CHECK(mkdtemp(dir) != NULL);
	snprintf(with, sizeof(with), "%s/with", dir);
	snprintf(without, sizeof(without), "%s/without", dir);
	const char *a = "machine 127.0.0.1 login u password secret\n", *b = "machine other\n";
	CHECK(write_file(with, a) == 0);
	CHECK(write_file(without, b) == 0);
	struct remote *r;
	CHECK(dav("webdav://127.0.0.1:1/v", with, 0) == NULL);
	CHECK(dav("webdav://u@127.0.0.1:1/v", without, 0) == NULL); /* a login in the URL */
	CHECK((r = dav("webdav://127.0.0.1:1/v", with, 1)) != NULL);
	remote_free(r);
	CHECK((r = dav("webdav://127.0.0.1:1/v", without, 0)) != NULL);
	remote_free(r);
	CHECK((r = dav("webdav://127.0.0.1:1/v", "/nonexistent/netrc", 0)) != NULL);
	remote_free(r);
	CHECK((r = dav("webdavs://127.0.0.1:1/v", with, 0)) != NULL);
	remote_free(r);
	unlink(with);
	unlink(without);
	rmdir(dir);
}

int main(void)
{
	unit_setup();
	guard_honest();
	guard_hostile();
	netrc();
	webdav_plain_auth();
	return unit_finish("test_listing");
}

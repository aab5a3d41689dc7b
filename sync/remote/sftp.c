/* sftp: the SFTP backend (sftp://[USER@]HOST[:PORT]/PATH) through libcurl and libssh2: key
 * authentication only (the key file, its public key from FILE.pub or derived from it, and
 * ssh-agent for a key locked with a passphrase), a known_hosts file that must hold the server's key
 * (a new key is added only with -o accept_new_host_key). Writes upload to a private temporary name
 * and rename it onto the key; libssh2 has no posix-rename, so a key that exists is removed first (a
 * reader can miss it for that instant: get retries a missing key once). SFTP has no conditional
 * write: put_if takes a lock directory (mkdir is exclusive), compares the content hash, writes,
 * unlocks. Remaining race: a lock older than LOCK_STALE seconds is taken to be dead and broken, so
 * a writer stalled that long while holding it can be overtaken. Must never accept an unknown or
 * changed host key unasked, or leave partial data under a key. */
#include "sync/remote/backends.h"
#include "sync/remote/listing.h"
#include "sync/remote/keys.h"
#include "sync/remote/sshkey.h"
#include "sync/remote/transfer.h"
#include "sync/remote/url.h"
#include "crypto/crypto.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LOCK_STALE 60

struct sftp_remote {
	struct remote base;
	struct xfer_pool *pool;
	char *base_url;	 /* sftp://[user@]host[:port]/path/ (%-encoded) */
	char *dir;	 /* /path/ as the server sees it (for quote commands) */
	long auth;	 /* CURLSSH_AUTH_PUBLICKEY (the key file) and/or CURLSSH_AUTH_AGENT */
	bool derive_pub; /* no FILE.pub: libssh2 derives the public key from the private one */
};

static struct sftp_remote *SF(struct remote *r)
{
	return (struct sftp_remote *)r;
}

static char *key_url(struct sftp_remote *s, const char *key)
{
	return url_join(s->base_url, key);
}

/* Runs quote commands (each a format with one or two server paths, quoted). */
static int quote(struct sftp_remote *s, const char *c1, const char *c2)
{
	struct curl_slist *l = curl_slist_append(NULL, c1), *l2 = l;
	if (l && c2)
		l2 = curl_slist_append(l, c2);
	struct xfer_req q = {.url = s->base_url, .prequote = l, .nobody = true};
	int err = l && l2 ? xfer_do(s->pool, &q) : -ENOMEM;
	curl_slist_free_all(l);
	return err;
}

static char *cmd(const char *verb, const char *dir, const char *a, const char *b)
{
	char *c = NULL;
	int n = b ? asprintf(&c, "%s \"%s%s\" \"%s%s\"", verb, dir, a, dir, b)
		  : asprintf(&c, "%s \"%s%s\"", verb, dir, a);
	return n < 0 ? NULL : c;
}

static int run1(struct sftp_remote *s, const char *verb, const char *a, const char *b)
{
	char *c = cmd(verb, s->dir, a, b);
	int err = c ? quote(s, c, NULL) : -ENOMEM;
	free(c);
	return err;
}

static int sftp_get_once(struct sftp_remote *s, const char *key, size_t max, struct buf *out)
{
	char *url = key_url(s, key);
	size_t from = out->len;
	struct xfer_req q = {.url = url, .out = out, .out_max = from + max};
	int err = url ? xfer_do(s->pool, &q) : -ENOMEM;
	if (err)
		out->len = from;
	free(url);
	return err;
}

static int sftp_get(struct remote *r, const char *key, size_t max, struct buf *out,
		    char tag[TAG_MAX])
{
	struct sftp_remote *s = SF(r);
	int err = sftp_get_once(s, key, max, out);
	if (err == -ENOENT && !remote_key_is_object(key)) {
		/* a replace is remove-then-rename: look once more after that instant */
		struct timespec ts = {0, 300 * 1000000L};
		nanosleep(&ts, NULL);
		err = sftp_get_once(s, key, max, out);
	}
	if (!err && tag)
		hash_hex(out->data, out->len, tag);
	return err;
}

/* Uploads to a temporary name beside key (making missing folders); *tmp gets its key. */
static int upload_tmp(struct sftp_remote *s, const char *key, const void *data, size_t len,
		      char tmp[300])
{
	const char *slash = strrchr(key, '/');
	snprintf(tmp, 300, "%.*s.tmp-%08x%08x", slash ? (int)(slash - key + 1) : 0, key,
		 random_u32(), random_u32());
	char *url = key_url(s, tmp);
	struct xfer_req q = {.url = url,
			     .upload = true,
			     .body = data ? data : "",
			     .len = len,
			     .create_dirs = true};
	int err = url ? xfer_do(s->pool, &q) : -ENOMEM;
	free(url);
	return err;
}

/* Renames tmp onto key; where key exists (no posix-rename in libssh2), removes it first. */
static int install(struct sftp_remote *s, const char *tmp, const char *key)
{
	int err = run1(s, "rename", tmp, key);
	if (err == -EIO) { /* the quote failed: key exists */
		char *rm = cmd("rm", s->dir, key, NULL), *mv = cmd("rename", s->dir, tmp, key);
		err = rm && mv ? quote(s, rm, mv) : -ENOMEM;
		free(rm);
		free(mv);
	}
	if (err)
		run1(s, "rm", tmp, NULL);
	return err;
}

static int sftp_put(struct remote *r, const char *key, const void *data, size_t len)
{
	struct sftp_remote *s = SF(r);
	char tmp[300];
	int err = upload_tmp(s, key, data, len, tmp);
	return err ? err : install(s, tmp, key);
}

static int sftp_del(struct remote *r, const char *key)
{
	int err = run1(SF(r), "rm", key, NULL);
	return err == -EIO ? -ENOENT : err;
}

static int each_line(struct buf *b, struct list_guard *g, int (*fn)(const char *key, void *arg),
		     void *arg)
{
	buf_put(b, "", 1);
	if (b->err)
		return b->err;
	int err = 0;
	for (char *save = NULL, *line = strtok_r((char *)b->data, "\r\n", &save); line && !err;
	     line = strtok_r(NULL, "\r\n", &save))
		if (!(err = list_guard_key(g, line)) && line[0] != '.' &&
		    !strchr(line, '/')) /* temporary names and locks start with '.' */
			err = fn(line, arg);
	return err;
}

static int sftp_list(struct remote *r, const char *prefix, int (*fn)(const char *key, void *arg),
		     void *arg)
{
	struct sftp_remote *s = SF(r);
	char *url = key_url(s, prefix);
	struct buf body = {0};
	struct list_guard g;
	struct xfer_req q = {.url = url,
			     .out = &body,
			     .dirlist = true,
			     .out_max = LIST_ANSWER_BYTES};
	list_guard_init(&g, LIST_KEYS_MAX, 1, false);
	int err = url ? xfer_do(s->pool, &q) : -ENOMEM;
	free(url);
	if (err == -EFBIG)
		snprintf(g.why, sizeof(g.why), "a folder listing of more than %zu bytes",
			 LIST_ANSWER_BYTES);
	if (!err)
		err = each_line(&body, &g, fn, arg);
	buf_free(&body);
	if (g.why[0])
		fprintf(stderr, "coffer: %s: the listing of %s was refused: %s\n", s->base.url,
			prefix, g.why);
	err = err == -EFBIG ? -EPROTO : err;
	list_guard_free(&g);
	return err == -ENOENT ? 0 : err; /* nothing stored under prefix yet */
}

/* ---- put_if: a lock directory ".KEY.lock" beside the vault's files ---- */

static void lock_name(const char *key, char out[300])
{
	snprintf(out, 300, ".%s.lock", key);
	for (char *p = out; *p; p++)
		if (*p == '/')
			*p = '_';
}

/* mkdir is exclusive on the server: whoever makes the folder holds the lock. A lock that stays
 * for LOCK_STALE seconds of our waiting is taken to belong to a dead writer and is broken. */
static int take_lock(struct sftp_remote *s, const char *lock)
{
	time_t start = time(NULL);
	for (;;) {
		char *mk = cmd("mkdir", s->dir, lock, NULL), *top = NULL;
		if (!mk || asprintf(&top, "*mkdir \"%s\"", s->dir) < 0) {
			free(mk);
			return -ENOMEM;
		}
		int err = quote(s, top, mk);
		free(mk);
		free(top);
		if (err != -EIO)
			return err;
		if (time(NULL) - start >= LOCK_STALE) {
			run1(s, "rmdir", lock, NULL); /* a dead writer's lock */
			start = time(NULL);
		}
		usleep(200000 + random_u32() % 300000);
	}
}

static int compare(struct sftp_remote *s, const char *key, const char *expect)
{
	struct buf cur = {0};
	char tag[TAG_MAX];
	int err = sftp_get_once(s, key, REMOTE_PUT_IF_MAX, &cur);
	if (err == -ENOENT)
		err = expect ? -ESTALE : 0;
	else if (!err) {
		hash_hex(cur.data, cur.len, tag);
		err = expect && strcmp(expect, tag) == 0 ? 0 : -ESTALE;
	}
	buf_free(&cur);
	return err;
}

static int sftp_put_if(struct remote *r, const char *key, const void *data, size_t len,
		       const char *expect, char tag[TAG_MAX])
{
	struct sftp_remote *s = SF(r);
	char lock[300], tmp[300];
	lock_name(key, lock);
	int err = upload_tmp(s, key, data, len, tmp);
	if (err)
		return err;
	err = take_lock(s, lock);
	if (err) {
		run1(s, "rm", tmp, NULL);
		return err;
	}
	err = compare(s, key, expect);
	if (!err)
		err = install(s, tmp, key);
	else
		run1(s, "rm", tmp, NULL);
	run1(s, "rmdir", lock, NULL);
	if (!err && tag)
		hash_hex(data, len, tag);
	return err;
}

static void sftp_free(struct remote *r)
{
	struct sftp_remote *s = SF(r);
	xfer_pool_free(s->pool);
	free(s->base_url);
	free(s->dir);
	free(s->base.url);
	free(s);
}

static const struct remote_ops sftp_ops = {
	.put = sftp_put,
	.get = sftp_get,
	.del = sftp_del,
	.list = sftp_list,
	.put_if = sftp_put_if,
	.free = sftp_free,
};

static int parse(struct sftp_remote *s, const char *url, const char **why)
{
	struct url_parts u;
	int err = url_parse(url, &u, why);
	if (err)
		return err;
	size_t n = strlen(u.path);
	while (n > 1 && u.path[n - 1] == '/')
		u.path[--n] = 0;
	if (n < 2 || strpbrk(u.path, "\"'~") || strstr(u.path, "//") || strstr(u.path, "/./") ||
	    strstr(u.path, "/../")) {
		*why = "expected sftp://[USER@]HOST[:PORT]/ABSOLUTE/PATH without '..', quotes or '~'";
		return -EINVAL;
	}
	char port[16] = "";
	if (u.port)
		snprintf(port, sizeof(port), ":%d", u.port);
	struct buf b = {0};
	char *head = NULL;
	if (asprintf(&head, "sftp://%s%s%s%s", u.user, u.user[0] ? "@" : "", u.host, port) < 0)
		return -ENOMEM;
	buf_put(&b, head, strlen(head));
	free(head);
	url_escape(&b, u.path, true);
	buf_put(&b, "/", 2);
	s->base_url = (char *)b.data;
	if (b.err || asprintf(&s->dir, "%s/", u.path) < 0 || !(s->base.url = strdup(url)))
		return -ENOMEM;
	return 0;
}

/* 1 when the key file is locked with a passphrase, 0 when not (or of a kind libssh2 may still
 * know), -ENOENT when it cannot be read. Its head is wiped after the look. */
static int key_locked(const char *path)
{
	char head[SSHKEY_HEAD_MAX];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -ENOENT;
	ssize_t n = read(fd, head, sizeof(head));
	close(fd);
	int locked = n < 0 ? -ENOENT : sshkey_locked(head, (size_t)n) == 1;
	wipe(head, sizeof(head));
	return locked;
}

/* The key file when it opens without a passphrase (its public key from FILE.pub, else derived
 * by libssh2), with ssh-agent after it when one runs; ssh-agent alone when the key is locked, or
 * when the default key is missing. A passphrase is never asked for nor taken from anywhere. */
static int choose_auth(struct sftp_remote *s, const char *k, bool named, char *msg, size_t cap)
{
	const char *sock = getenv("SSH_AUTH_SOCK");
	bool agent = sock && *sock;
	int locked = key_locked(k);
	if (locked == -ENOENT && (named || !agent)) {
		snprintf(msg, cap,
			 "cannot read the SSH key '%s' (-o ssh_key=FILE), and no ssh-agent holds "
			 "one (SSH_AUTH_SOCK is not set)",
			 k);
		return -ENOKEY;
	}
	if (locked == 1 && !agent) {
		snprintf(msg, cap,
			 "the SSH key '%s' is locked with a passphrase: load it into ssh-agent "
			 "(ssh-add %s) and set SSH_AUTH_SOCK",
			 k, k);
		return -ENOKEY;
	}
	s->auth = locked ? CURLSSH_AUTH_AGENT
			 : CURLSSH_AUTH_PUBLICKEY | (agent ? CURLSSH_AUTH_AGENT : 0);
	char pub[4300];
	snprintf(pub, sizeof(pub), "%s.pub", k);
	s->derive_pub = access(pub, R_OK) != 0;
	return 0;
}

/* Called on every handle after the common options (transfer.c): how this remote logs in. */
static void sftp_conn(CURL *h, void *arg)
{
	struct sftp_remote *s = arg;
	curl_easy_setopt(h, CURLOPT_SSH_AUTH_TYPES, s->auth);
	if (s->derive_pub) /* empty: curl passes no public key and libssh2 derives it */
		curl_easy_setopt(h, CURLOPT_SSH_PUBLIC_KEYFILE, "");
}

static int setup(struct sftp_remote *s, const struct remote_opts *o, char *msg, size_t cap)
{
	const char *home = getenv("HOME");
	char key[4200], known[4200];
	snprintf(key, sizeof(key), "%s/.ssh/id_ed25519", home ? home : "/root");
	snprintf(known, sizeof(known), "%s/.ssh/known_hosts", home ? home : "/root");
	const char *k = o->ssh_key ? o->ssh_key : key,
		   *kh = o->known_hosts ? o->known_hosts : known;
	int err = choose_auth(s, k, o->ssh_key != NULL, msg, cap);
	if (err)
		return err;
	if (access(kh, R_OK) != 0 && !o->accept_new_host_key) {
		snprintf(msg, cap,
			 "no known_hosts file '%s' to check the server's key (-o known_hosts=FILE, "
			 "or -o accept_new_host_key to add it)",
			 kh);
		return -ENOKEY;
	}
	struct xfer_conf xc = {.ssh_key = k,
			       .known_hosts = kh,
			       .accept_new_host_key = o->accept_new_host_key,
			       .setup = sftp_conn,
			       .setup_arg = s,
			       .owner = &s->base};
	s->pool = xfer_pool_new(&xc);
	return s->pool ? 0 : -ENOMEM;
}

struct remote *remote_sftp_open(const char *url, const struct remote_opts *o)
{
	struct sftp_remote *s = calloc(1, sizeof(*s));
	const char *why = "out of memory";
	char msg[9000];
	int err = s ? parse(s, url, &why) : -ENOMEM;
	if (err == -EINVAL)
		fprintf(stderr, "coffer: malformed URL '%s': %s\n", url, why);
	else if (err)
		fprintf(stderr, "coffer: out of memory\n");
	else if ((err = setup(s, o, msg, sizeof(msg))) == -ENOKEY)
		fprintf(stderr, "coffer: '%s': %s\n", url, msg);
	else if (err)
		fprintf(stderr, "coffer: out of memory\n");
	if (err) {
		if (s)
			sftp_free(&s->base);
		return NULL;
	}
	s->base.ops = &sftp_ops;
	return &s->base;
}

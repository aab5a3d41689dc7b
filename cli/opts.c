/* opts: option parsing shared by every command, and the vault and cache locations.
 * Must never accept a passphrase as an argument. */
#include "cli/cli.h"
#include "cache/files.h"
#include "sync/remote/keys.h"
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <getopt.h>
#include <stddef.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void die_usage(const char *usage)
{
	fputs(usage, stderr);
	exit(2);
}

/* "64M", "2G", "1048576" to bytes; 0 on a malformed size. */
static uint64_t parse_size(const char *v)
{
	char *end;
	unsigned long long n = strtoull(v, &end, 10);
	int shift = *end == 'K' || *end == 'k' ? 10
		    : *end == 'M'	       ? 20
		    : *end == 'G'	       ? 30
		    : *end == 'T'	       ? 40
					       : 0;
	if (end == v || (shift && *++end == 'i' && *++end != 'B') ||
	    (shift && *end == 'B' && end[1]))
		return 0;
	if (*end == 'B')
		end++;
	return *end ? 0 : (uint64_t)n << shift;
}

static int number(const char *opt, const char *v, unsigned long max, unsigned *out)
{
	char *end;
	unsigned long n = strtoul(v, &end, 10);
	if (end == v || *end || n == 0 || n > max) {
		fprintf(stderr, "coffer: -o %s takes a number from 1 to %lu\n", opt, max);
		return -1;
	}
	*out = (unsigned)n;
	return 1;
}

/* -o NAME=VALUE options that configure the remote. */
static int remote_option(struct remote_opts *r, char *opt)
{
	static const struct {
		const char *name;
		size_t off;
	} strs[] = {
		{"region=", offsetof(struct remote_opts, region)},
		{"s3_style=", offsetof(struct remote_opts, s3_style)},
		{"cacert=", offsetof(struct remote_opts, cacert)},
		{"netrc=", offsetof(struct remote_opts, netrc)},
		{"ssh_key=", offsetof(struct remote_opts, ssh_key)},
		{"known_hosts=", offsetof(struct remote_opts, known_hosts)},
	};
	if (strcmp(opt, "accept_new_host_key") == 0) {
		r->accept_new_host_key = 1;
		return 1;
	}
	if (strcmp(opt, "insecure_http_auth") == 0) {
		r->insecure_http_auth = 1;
		return 1;
	}
	int matched = 0;
	for (size_t k = 0; !matched && k < sizeof(strs) / sizeof(strs[0]); k++)
		if (strncmp(opt, strs[k].name, strlen(strs[k].name)) == 0) {
			*(const char **)((char *)r + strs[k].off) = opt + strlen(strs[k].name);
			matched = 1;
		}
	if (matched && r->s3_style && strcmp(r->s3_style, "path") &&
	    strcmp(r->s3_style, "virtual")) {
		fprintf(stderr, "coffer: -o s3_style= takes path or virtual\n");
		return -1;
	}
	return matched;
}

static int own_option(struct opts *o, char *opt)
{
	char *end;
	int r = remote_option(&o->ropts, opt);
	if (r)
		return r;
	if (strncmp(opt, "keep=", 5) == 0)
		return number("keep=", opt + 5, 100000, &o->keep);
	if (strncmp(opt, "inode_cache=", 12) == 0)
		return number("inode_cache=", opt + 12, 1u << 30, &o->inode_cache);
	if (strncmp(opt, "drain_timeout=", 14) == 0)
		return number("drain_timeout=", opt + 14, 86400 * 7, &o->drain_timeout);
	if (strncmp(opt, "cache_size=", 11) == 0) {
		if (!(o->cache_size = parse_size(opt + 11))) {
			fprintf(stderr,
				"coffer: -o cache_size= takes a size such as 512M or 20G\n");
			return -1;
		}
		return 1;
	}
	if (strncmp(opt, "commit=", 7) == 0) {
		unsigned long v = strtoul(opt + 7, &end, 10);
		if (*end || v == 0 || v > 86400) {
			fprintf(stderr, "coffer: commit= takes seconds between 1 and 86400\n");
			return -1;
		}
		o->commit_seconds = (unsigned)v;
		return 1;
	}
	if (strncmp(opt, "logfile=", 8) == 0) {
		static char abs[4096];
		char cwd[3900];
		o->logfile = opt + 8;
		if (o->logfile[0] != '/' && getcwd(cwd, sizeof(cwd))) { /* the daemon runs in / */
			snprintf(abs, sizeof(abs), "%s/%s", cwd, o->logfile);
			o->logfile = abs;
		}
		return 1;
	}
	if (strcmp(opt, "ro") == 0)
		o->readonly = true;
	return 0;
}

static int add_mount_options(struct opts *o, char *list)
{
	for (char *save, *opt = strtok_r(list, ",", &save); opt; opt = strtok_r(NULL, ",", &save)) {
		int r = own_option(o, opt);
		if (r < 0)
			return -1;
		if (r > 0)
			continue;
		size_t used = strlen(o->fuse_opts);
		if (used + strlen(opt) + 2 >= sizeof(o->fuse_opts)) {
			fprintf(stderr, "coffer: too many -o options\n");
			return -1;
		}
		snprintf(o->fuse_opts + used, sizeof(o->fuse_opts) - used, "%s%s", used ? "," : "",
			 opt);
	}
	return 0;
}

int parse_opts(int argc, char **argv, struct opts *o, const char *usage)
{
	static const struct option longs[] = {{"passfile", required_argument, 0, 'p'},
					      {"passcmd", required_argument, 0, 'P'},
					      {"cache", required_argument, 0, 'c'},
					      {"kdf-level", required_argument, 0, 'k'},
					      {"cipher", required_argument, 0, 'C'},
					      {"help", no_argument, 0, 'h'},
					      {"snapshot", required_argument, 0, 'S'},
					      {"no-wait", no_argument, 0, 'W'},
					      {"json", no_argument, 0, 'J'},
					      {"new-passfile", required_argument, 0, 'n'},
					      {"new-passcmd", required_argument, 0, 'N'},
					      {"repair", no_argument, 0, 'R'},
					      {"snapshots", no_argument, 0, 'L'},
					      {0, 0, 0, 0}};
	memset(o, 0, sizeof(*o));
	o->commit_seconds = 5;
	o->keep = 16;
	o->inode_cache = 65536;
	o->drain_timeout = 60;
	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, "fo:h", longs, NULL)) != -1) {
		switch (c) {
		case 'p':
			o->passfile = optarg;
			break;
		case 'P':
			o->passcmd = optarg;
			break;
		case 'n':
			o->new_passfile = optarg;
			break;
		case 'N':
			o->new_passcmd = optarg;
			break;
		case 'c':
			o->cache = optarg;
			break;
		case 'k':
			o->kdf_level = optarg;
			break;
		case 'C':
			o->cipher = optarg;
			break;
		case 'f':
			o->foreground = true;
			break;
		case 'o':
			if (add_mount_options(o, optarg))
				return -1;
			break;
		case 'h':
			o->help = true;
			break;
		case 'W':
			o->no_wait = true;
			break;
		case 'J':
			o->json = true;
			break;
		case 'R':
			o->repair = true;
			break;
		case 'L':
			o->snapshots = true;
			break;
		case 'S': {
			char *end;
			o->snapshot = strtoull(optarg, &end, 10);
			if (*end || o->snapshot == 0) {
				fprintf(stderr, "coffer: --snapshot takes a generation number\n");
				return -1;
			}
			break;
		}
		default:
			fprintf(stderr, "coffer: unknown or incomplete option '%s'\n",
				argv[optind - 1]);
			die_usage(usage);
		}
	}
	if (o->help) {
		fputs(usage, stdout);
		exit(0);
	}
	for (; optind < argc; optind++) {
		if (o->nargs == 4)
			die_usage(usage);
		o->args[o->nargs++] = argv[optind];
	}
	return 0;
}

/* The folder holding every default cache: $XDG_CACHE_HOME/coffer or ~/.cache/coffer. */
static void cache_parent(char *path, size_t cap)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	if (xdg && *xdg)
		snprintf(path, cap, "%s/coffer", xdg);
	else
		snprintf(path, cap, "%s/.cache/coffer", home ? home : "/root");
}

static bool unreachable(int err)
{
	return err == -EHOSTDOWN || err == -ECONNREFUSED || err == -ETIMEDOUT || err == -EAGAIN;
}

/* Whether the cache `c` was last mounted from `url` (its vault URL file says so). */
static bool cache_serves(struct store *c, const char *url)
{
	struct buf got = {0};
	bool same = cache_url_read(c, &got) == 0 && got.len > 0 && got.len == strlen(url) &&
		    memcmp(got.data, url, got.len) == 0;
	buf_free(&got);
	return same;
}

/* The cache folder at dir, if there is one and (with url) it serves url; NULL otherwise. */
static struct store *cache_at(const char *dir, const char *url)
{
	struct store *c;
	if (store_open_existing(&c, dir))
		return NULL;
	if (store_check_owner(c) == 0 && (!url || cache_serves(c, url)))
		return c;
	store_close(c);
	return NULL;
}

/* The vault cannot be reached: read the copy of its config that a cache kept at its last mount,
 * from --cache, or else from the default cache that was last mounted from the same URL. */
static int config_from_cache(const struct opts *o, const char *url, struct buf *text)
{
	struct store *c = NULL;
	if (o->cache) {
		c = cache_at(o->cache, NULL);
	} else {
		char parent[4096], dir[4096];
		cache_parent(parent, sizeof(parent));
		DIR *d = opendir(parent);
		struct dirent *e;
		while (d && !c && (e = readdir(d)))
			if (e->d_name[0] != '.' && snprintf(dir, sizeof(dir), "%s/%s", parent,
							    e->d_name) < (int)sizeof(dir))
				c = cache_at(dir, url);
		if (d)
			closedir(d);
	}
	int err = c ? cache_config_read(c, text) : -ENOENT;
	store_close(c);
	return !err && text->len > 0 && !text->err ? 0 : -ENOENT;
}

/* The message for a config that failed to parse. */
static int config_parsed(int err, const char *url)
{
	if (err == -EPROTONOSUPPORT)
		fprintf(stderr, "coffer: the vault at '%s' has a format this version cannot read\n",
			url);
	else if (err)
		fprintf(stderr, "coffer: the vault config at '%s' is damaged\n", url);
	return err;
}

static int config_get(const struct opts *o, struct remote *r, struct buf *text, char *tag)
{
	int err = r->ops->get(r, remote_key_config(), REMOTE_CONFIG_MAX, text, tag);
	if (unreachable(err) && o && config_from_cache(o, r->url, text) == 0) {
		fprintf(stderr, "coffer: %s: %s; using the config kept in the cache\n", r->url,
			remote_strerror(err));
		err = 0;
	} else if (err == -ENOENT) {
		fprintf(stderr,
			"coffer: no vault at '%s' (it has no config; create one with coffer "
			"init)\n",
			r->url);
	} else if (err) {
		fprintf(stderr, "coffer: cannot read the vault at '%s': %s\n", r->url,
			remote_strerror(err));
	}
	return err;
}

int vault_read(const struct opts *o, struct remote *r, struct buf *text, struct vault *v)
{
	int err = config_get(o, r, text, NULL);
	return err ? err : config_parsed(vault_config_parse(text->data, text->len, v), r->url);
}

int vault_read_tagged(struct remote *r, struct buf *text, struct vault *v, char tag[TAG_MAX])
{
	int err = config_get(NULL, r, text, tag);
	return err ? err : config_parsed(vault_config_parse(text->data, text->len, v), r->url);
}

/* An existing cache folder someone else could write to: say who owns it and how to fix it. */
static void refuse_cache(const char *path)
{
	struct stat st;
	if (stat(path, &st) == 0 && st.st_uid != geteuid())
		fprintf(stderr,
			"coffer: the cache folder '%s' is owned by uid %u, not by you (uid %u): "
			"refusing it; use a folder of your own\n",
			path, (unsigned)st.st_uid, (unsigned)geteuid());
	else
		fprintf(stderr,
			"coffer: the cache folder '%s' is writable by group or others (mode %04o): "
			"refusing it; chmod go-w it\n",
			path, (unsigned)(stat(path, &st) == 0 ? st.st_mode & 07777 : 0));
}

static int mkdir_p(char *path)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		int r = mkdir(path, 0700);
		*p = '/';
		if (r < 0 && errno != EEXIST)
			return -errno;
	}
	return mkdir(path, 0700) < 0 && errno != EEXIST ? -errno : 0;
}

int cache_open(const struct opts *o, const struct vault *v, struct store **s, char *path,
	       size_t cap)
{
	if (o->cache) {
		snprintf(path, cap, "%s", o->cache);
	} else {
		char parent[4000];
		cache_parent(parent, sizeof(parent));
		snprintf(path, cap, "%s/%s", parent, v->idhex);
	}
	if (o->snapshot) /* a snapshot never touches the cache of the live vault */
		snprintf(path + strlen(path), cap - strlen(path), ".snapshot-%llu",
			 (unsigned long long)o->snapshot);
	int err = mkdir_p(path);
	char abs[PATH_MAX];
	if (!err && realpath(path, abs))
		snprintf(path, cap, "%s", abs);
	if (!err)
		err = store_open(s, path);
	if (err == -EPERM)
		refuse_cache(path);
	else if (err)
		fprintf(stderr, "coffer: cannot open the cache folder '%s': %s\n", path,
			strerror(-err));
	return err;
}

void cache_path(const struct opts *o, const struct vault *v, char *path, size_t cap)
{
	if (o->cache) {
		snprintf(path, cap, "%s", o->cache);
	} else {
		cache_parent(path, cap > 40 ? cap - 40 : cap);
		snprintf(path + strlen(path), cap - strlen(path), "/%s", v->idhex);
	}
}

struct store *cache_of_vault(const struct opts *o, const struct vault *v)
{
	char path[4096];
	struct store *c = NULL;
	cache_path(o, v, path, sizeof(path));
	if (store_open_existing(&c, path) == 0 && store_check_owner(c) == 0)
		return c;
	store_close(c);
	return NULL;
}

/* The copy of v's config that cache c keeps (the config this user last unlocked there) into
 * text and *cached; -ENOENT when there is none, or it belongs to another vault. */
static int cached_config(struct store *c, const struct vault *v, struct buf *text,
			 struct vault *cached)
{
	if (!c || cache_config_read(c, text) || text->err ||
	    vault_config_parse(text->data, text->len, cached) ||
	    memcmp(cached->id, v->id, VAULT_ID_BYTES) != 0)
		return -ENOENT;
	return 0;
}

/* The KDF cap for v: the sensitive level, or the cache's copy of this vault's config (kept at
 * the last unlock, in a folder only this user can write) where it asks for more. */
static void kdf_cap(const struct opts *o, const struct vault *v, struct kdf_params *cap)
{
	struct store *c = cache_of_vault(o, v);
	struct buf text = {0};
	struct vault cached;
	vault_kdf_cap(cached_config(c, v, &text, &cached) == 0 ? &cached.kdf : NULL, cap);
	buf_free(&text);
	store_close(c);
}

static int kdf_refuse(const char *where, const struct vault *v, const struct kdf_params *cap)
{
	fprintf(stderr,
		"coffer: the vault config at '%s' asks for a key derivation of %llu passes over "
		"%llu MiB; coffer derives at most %llu passes over %llu MiB (the sensitive level, "
		"or this vault's config kept in the cache): refusing it (it may have been altered)\n",
		where, (unsigned long long)v->kdf.ops, (unsigned long long)(v->kdf.mem >> 20),
		(unsigned long long)cap->ops, (unsigned long long)(cap->mem >> 20));
	return -E2BIG;
}

/* After a wrong passphrase for text: whether the cache keeps an older config of this vault that
 * pass opens (its passphrase was changed elsewhere). Never unlocks with that copy. */
static bool changed_elsewhere(const struct opts *o, const struct buf *text, const struct vault *v,
			      const char *pass, size_t len, const struct kdf_params *cap)
{
	struct store *c = cache_of_vault(o, v);
	struct buf old = {0};
	struct vault cached;
	struct vault_master *m = NULL;
	bool changed = cached_config(c, v, &old, &cached) == 0 &&
		       (old.len != text->len || memcmp(old.data, text->data, old.len) != 0) &&
		       vault_master_open(old.data, old.len, pass, len, cap, &cached, &m) == 0;
	vault_master_free(m);
	buf_free(&old);
	store_close(c);
	return changed;
}

/* Makes the cache's copy of v's config text (after text was unlocked), unless the cache keeps
 * another vault's. */
static void remember_config(const struct opts *o, const struct buf *text, const struct vault *v)
{
	struct store *c = cache_of_vault(o, v);
	struct buf old = {0};
	struct vault cached;
	bool other = false, same = false;
	if (c && cache_config_read(c, &old) == 0 && !old.err) {
		other = vault_config_parse(old.data, old.len, &cached) == 0 &&
			memcmp(cached.id, v->id, VAULT_ID_BYTES) != 0;
		same = old.len == text->len && memcmp(old.data, text->data, old.len) == 0;
	}
	if (c && !other && !same)
		cache_config_replace(c, text->data, text->len);
	buf_free(&old);
	store_close(c);
}

/* One prompt and unlock; -EKEYEXPIRED when the passphrase is that of an older config. */
static int open_once(const struct opts *o, const struct buf *text, struct vault *v,
		     const struct kdf_params *cap, struct vault_master **m)
{
	size_t len;
	char *pass = passphrase_read(o, false, &len);
	if (!pass)
		return -EINVAL;
	int err = vault_master_open(text->data, text->len, pass, len, cap, v, m);
	if (err == -EACCES && changed_elsewhere(o, text, v, pass, len, cap))
		err = -EKEYEXPIRED;
	passphrase_free(pass);
	return err;
}

int vault_master_interactive(const struct opts *o, const char *dir, const struct buf *text,
			     struct vault *v, struct vault_master **m)
{
	struct kdf_params cap;
	bool tty = !o->passfile && !o->passcmd;
	*m = NULL;
	kdf_cap(o, v, &cap);
	if (!vault_kdf_within(&v->kdf, &cap))
		return kdf_refuse(dir, v, &cap);
	int err = open_once(o, text, v, &cap, m);
	for (int tries = 0; err == -EKEYEXPIRED; tries++) {
		fprintf(stderr,
			"coffer: the passphrase of this vault was changed on another device; enter "
			"the new one%s\n",
			tty ? "" : " (with --passfile or --passcmd)");
		if (!tty || tries)
			return -EACCES;
		err = open_once(o, text, v, &cap, m);
	}
	if (err == -EACCES)
		fprintf(stderr,
			"coffer: wrong passphrase for the vault at '%s' (or its config was altered)\n",
			dir);
	else if (err == -ENOMEM)
		fprintf(stderr, "coffer: not enough memory for the key derivation\n");
	else if (err && err != -EINVAL)
		fprintf(stderr, "coffer: the vault config in '%s' is damaged\n", dir);
	if (!err)
		remember_config(o, text, v);
	return err;
}

int vault_unlock_interactive(const struct opts *o, const char *dir, const struct buf *text,
			     struct vault *v)
{
	struct vault_master *m;
	if (v->cipher == CIPHER_AES256GCM && !cipher_aes_available()) {
		fprintf(stderr,
			"coffer: the vault at '%s' is sealed with AES-256-GCM, which this CPU cannot "
			"run (it lacks AES-NI or PCLMULQDQ); open it on a CPU that has them\n",
			dir);
		return -ENOTSUP;
	}
	int err = vault_master_interactive(o, dir, text, v, &m);
	if (!err && (err = vault_master_keys(m, v)))
		fprintf(stderr, "coffer: not enough memory for the keys\n");
	vault_master_free(m);
	return err;
}

/* Undoes the octal escapes (\\040 for space) of /proc/self/mountinfo in place. */
static void unescape(char *s)
{
	char *o = s;
	for (; *s; s++, o++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] && s[3]) {
			*o = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
			s += 3;
		} else {
			*o = *s;
		}
	}
	*o = 0;
}

int mounted_cache(const char *mp, char *cache, size_t cap)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[8192];
	int found = -ENOENT;
	while (f && fgets(line, sizeof(line), f)) {
		char *sep = strstr(line, " - "), *fields[5] = {0}, *save;
		if (!sep)
			continue;
		*sep = 0;
		fields[0] = strtok_r(line, " ", &save);
		for (int k = 1; k < 5; k++)
			fields[k] = strtok_r(NULL, " ", &save);
		char *type = strtok_r(sep + 3, " ", &save), *src = strtok_r(NULL, " ", &save);
		if (!fields[4] || !type || !src)
			continue;
		unescape(fields[4]);
		unescape(src);
		if (strcmp(fields[4], mp) == 0 && strcmp(type, "fuse.coffer") == 0 &&
		    strncmp(src, "coffer:", 7) == 0) {
			snprintf(cache, cap, "%s", src + 7);
			found = 0;
		}
	}
	if (f)
		fclose(f);
	return found;
}

struct remote *vault_open_unlocked(int argc, char **argv, const char *usage, struct opts *o,
				   struct buf *text, struct vault *v)
{
	if (parse_opts(argc, argv, o, usage) || o->nargs != 1)
		die_usage(usage);
	struct remote *r = remote_open(o->args[0], &o->ropts);
	*text = (struct buf){0};
	v->keys = NULL;
	if (!r || vault_read(NULL, r, text, v) || vault_unlock_interactive(o, r->url, text, v)) {
		buf_free(text);
		remote_free(r);
		return NULL;
	}
	return r;
}

void vault_close(struct remote *r, struct buf *text, struct vault *v)
{
	vault_release(v);
	buf_free(text);
	remote_free(r);
}

/* files: the root, config, sync.state and vault-url files of the cache and the outside copy of
 * sync.state (see files.h), read without following symlinks and replaced through a fresh
 * temporary.
 * Must never interpret their bytes: that is their codecs' job. */
#include "cache/files.h"
#include "cache/folder.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "crypto/crypto.h"
#include "lib/fileio.h"

#define ROOT_FILE   "root"
#define CONFIG_FILE "config"
#define STATE_FILE  "sync.state"
#define URL_FILE    "vault-url"

static int get(struct store *s, const char *name, struct buf *out)
{
	return file_read_nofollow_at(s->dirfd, name, out, CACHE_FILE_MAX);
}

static int put(struct store *s, const char *name, const void *p, size_t len)
{
	return file_replace_at(s->dirfd, name, p, len, 0);
}

int cache_root_read(struct store *s, struct buf *out)
{
	return get(s, ROOT_FILE, out);
}

int cache_root_replace(struct store *s, const void *p, size_t len)
{
	return put(s, ROOT_FILE, p, len);
}

int cache_config_read(struct store *s, struct buf *out)
{
	return get(s, CONFIG_FILE, out);
}

int cache_config_replace(struct store *s, const void *p, size_t len)
{
	return put(s, CONFIG_FILE, p, len);
}

int cache_state_read(struct store *s, struct buf *out)
{
	return get(s, STATE_FILE, out);
}

int cache_state_replace(struct store *s, const void *p, size_t len)
{
	return put(s, STATE_FILE, p, len);
}

int cache_url_read(struct store *s, struct buf *out)
{
	return get(s, URL_FILE, out);
}

int cache_url_replace(struct store *s, const void *p, size_t len)
{
	return put(s, URL_FILE, p, len);
}

/* The folder the outside state lives in, made as needed: a descriptor or a negative errno. */
static int outside_dir(struct store *s, const uint8_t vault_id[16])
{
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	char base[PATH_MAX], pwbuf[4096], vid[33];
	const char *parts[4];
	size_t np = 0;
	if (xdg && xdg[0] == '/') {
		snprintf(base, sizeof(base), "%s", xdg);
	} else {
		struct stat st;
		struct passwd pw, *pp = NULL;
		if (!(home && home[0] == '/')) {
			if (fstat(s->dirfd, &st) ||
			    getpwuid_r(st.st_uid, &pw, pwbuf, sizeof(pwbuf), &pp) || !pp ||
			    !pp->pw_dir || pp->pw_dir[0] != '/')
				return -ENOENT;
			home = pp->pw_dir;
		}
		snprintf(base, sizeof(base), "%s", home);
		parts[np++] = ".local";
		parts[np++] = "state";
	}
	for (int k = 0; k < 16; k++)
		snprintf(vid + 2 * k, 3, "%02x", vault_id[k]);
	parts[np++] = "coffer";
	parts[np++] = vid;
	if (xdg && xdg[0] == '/' && mkdir(base, 0700) && errno != EEXIST)
		return -errno; /* made when missing, as the XDG specification asks */
	int fd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (size_t k = 0; k < np; k++) {
		int next = mkdirat(fd, parts[k], 0700) && errno != EEXIST
				   ? -1
				   : openat(fd, parts[k],
					    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int e = -errno;
		close(fd);
		if (next < 0)
			return e;
		fd = next;
	}
	return fd;
}

/* The outside file's name: BLAKE2b-128 of the cache folder's absolute path, in hex. */
static int outside_name(struct store *s, char name[33])
{
	char link[64], path[PATH_MAX];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", s->dirfd);
	ssize_t n = readlink(link, path, sizeof(path) - 1);
	if (n <= 0)
		return -errno;
	hash_hex(path, (size_t)n, name);
	return 0;
}

int cache_outside_state_read(struct store *s, const uint8_t vault_id[16], struct buf *out)
{
	char name[33];
	int err = outside_name(s, name), fd = err ? err : outside_dir(s, vault_id);
	if (fd < 0)
		return fd;
	err = file_read_nofollow_at(fd, name, out, CACHE_FILE_MAX);
	close(fd);
	return err;
}

int cache_outside_state_replace(struct store *s, const uint8_t vault_id[16], const void *p,
				size_t len)
{
	char name[33];
	int err = outside_name(s, name), fd = err ? err : outside_dir(s, vault_id);
	if (fd < 0)
		return fd;
	err = file_replace_at(fd, name, p, len, 0);
	close(fd);
	return err;
}

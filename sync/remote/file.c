/* file: the local-folder backend (file:///path or a plain path): a folder on the same machine,
 * a USB disk, a NAS mount, or a folder another sync client watches.
 * Every write is atomic: temporary name, fsync, rename, fsync of the folder. An upload from the
 * cache is a copy_file_range(2) of the cache's file (a reflink where the filesystem has them, a
 * copy inside the kernel otherwise; read/write across filesystems), never a second pass through
 * memory. A missing vault folder reads as an unreachable remote (-EHOSTDOWN), never as an empty
 * one.
 * Must never leave a partly written file under a final name. */
#include "sync/remote/backends.h"
#include "crypto/crypto.h"
#include "lib/fileio.h"
#include <dirent.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

struct file_remote {
	struct remote base;
	char *dir;
};

static const char *root_dir(struct remote *r)
{
	return ((struct file_remote *)r)->dir;
}

/* Opens the folder that holds key (creating subfolders for writes); *leaf gets the file name. */
static int open_parent(struct remote *r, const char *key, bool create, const char **leaf)
{
	int fd = open(root_dir(r), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR ? -EHOSTDOWN : -errno;
	const char *slash = strrchr(key, '/');
	*leaf = slash ? slash + 1 : key;
	if (!slash)
		return fd;
	char sub[256];
	snprintf(sub, sizeof(sub), "%.*s", (int)(slash - key), key);
	if (create && mkdirat(fd, sub, 0755) < 0 && errno != EEXIST) {
		int err = -errno;
		close(fd);
		return err;
	}
	int d = openat(fd, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int err = d < 0 ? -errno : d;
	close(fd);
	return err;
}

static int file_put(struct remote *r, const char *key, const void *data, size_t len)
{
	const char *leaf;
	int d = open_parent(r, key, true, &leaf);
	if (d < 0)
		return d;
	int err = file_replace_at(d, leaf, data, len, 0);
	close(d);
	return err;
}

static int file_put_fd(struct remote *r, const char *key, int fd, size_t len)
{
	const char *leaf;
	int d = open_parent(r, key, true, &leaf);
	if (d < 0)
		return d;
	int err = file_replace_copy_at(d, leaf, fd, len, 0);
	close(d);
	return err;
}

static int file_get(struct remote *r, const char *key, size_t max, struct buf *out,
		    char tag[TAG_MAX])
{
	const char *leaf;
	int d = open_parent(r, key, false, &leaf);
	if (d < 0)
		return d;
	int err = file_read_at(d, leaf, out, max);
	close(d);
	if (!err && tag)
		hash_hex(out->data, out->len, tag);
	return err;
}

static int file_del(struct remote *r, const char *key)
{
	const char *leaf;
	int d = open_parent(r, key, false, &leaf);
	if (d < 0)
		return d;
	int err = unlinkat(d, leaf, 0) < 0 ? -errno : 0;
	close(d);
	return err;
}

static int file_list(struct remote *r, const char *prefix, int (*fn)(const char *key, void *arg),
		     void *arg)
{
	char key[256];
	snprintf(key, sizeof(key), "%sx", prefix);
	const char *leaf;
	int d = open_parent(r, key, false, &leaf);
	if (d == -ENOENT)
		return 0; /* nothing stored under prefix yet */
	if (d < 0)
		return d;
	DIR *dir = fdopendir(d);
	if (!dir) {
		close(d);
		return -errno;
	}
	int err = 0;
	for (struct dirent *e; !err && (e = readdir(dir));)
		if (e->d_name[0] != '.')
			err = fn(e->d_name, arg);
	closedir(dir);
	return err;
}

/* Compare and swap under an flock of the vault folder's .lock file. */
static int file_put_if(struct remote *r, const char *key, const void *data, size_t len,
		       const char *expect, char newtag[TAG_MAX])
{
	char lock[4200];
	snprintf(lock, sizeof(lock), "%s/.lock", root_dir(r));
	int lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (lfd < 0)
		return errno == ENOENT ? -EHOSTDOWN : -errno;
	flock(lfd, LOCK_EX);
	struct buf cur = {0};
	char tag[TAG_MAX];
	int err = file_get(r, key, REMOTE_PUT_IF_MAX, &cur, tag);
	if (err == -ENOENT)
		err = expect ? -ESTALE : 0;
	else if (!err && (!expect || strcmp(expect, tag) != 0))
		err = -ESTALE;
	if (!err)
		err = file_put(r, key, data, len);
	if (!err)
		hash_hex(data, len, newtag);
	buf_free(&cur);
	flock(lfd, LOCK_UN);
	close(lfd);
	return err;
}

static void file_free(struct remote *r)
{
	struct file_remote *f = (struct file_remote *)r;
	free(f->dir);
	free(f->base.url);
	free(f);
}

static const struct remote_ops file_ops = {
	.put = file_put,
	.put_fd = file_put_fd,
	.get = file_get,
	.del = file_del,
	.list = file_list,
	.put_if = file_put_if,
	.free = file_free,
};

struct remote *remote_file_open(const char *dir)
{
	char abs[4096];
	if (dir[0] != '/') { /* the daemon changes to /: keep the folder the user meant */
		char cwd[4000];
		if (!getcwd(cwd, sizeof(cwd)))
			return NULL;
		snprintf(abs, sizeof(abs), "%s/%s", cwd, dir);
		dir = abs;
	}
	struct file_remote *f = calloc(1, sizeof(*f));
	if (!f || !(f->dir = strdup(dir)) || !(f->base.url = strdup(dir))) {
		if (f)
			free(f->dir);
		free(f);
		return NULL;
	}
	f->base.ops = &file_ops;
	return &f->base;
}

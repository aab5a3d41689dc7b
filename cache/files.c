/* files: the root, config, sync.state and vault-url files of the cache (see files.h), read
 * without following symlinks and replaced through a fresh temporary.
 * Must never interpret their bytes: that is their codecs' job. */
#include "cache/files.h"
#include "cache/folder.h"
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

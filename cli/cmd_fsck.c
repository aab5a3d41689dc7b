/* cmd_fsck: `coffer fsck` checks an unmounted vault's cache: every inode page, directory entry,
 * link count and chunk block. Objects missing from the cache are fetched from the remote.
 * Must never modify the tree. */
#include "cli/cli.h"
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "cache/lock.h"
#include "fs/core.h"
#include "sync/sync.h"

static const char usage[] =
	"usage: coffer fsck [--passfile FILE | --passcmd CMD] [--cache DIR] [-o OPTIONS] VAULT\n"
	"\n"
	"Checks the local cache of an unmounted vault: opens every object (fetching missing\n"
	"ones from the vault) and checks every directory entry and link count.\n"
	"Exits 0 when the tree is consistent, 1 otherwise.\n" VAULT_HELP;

static int check(struct opts *o, struct remote *r, struct store *st, struct vault *v,
		 const char *cache)
{
	struct sync *s = NULL;
	struct sync_opts so = {.readonly = true, .keep = 16};
	int err = sync_attach(&s, r, st, v->keys, v->id, &so);
	struct fs *fs = NULL;
	if (!err)
		err = fs_open(&fs, st, v->keys, v->id, true);
	if (!err && (err = fs_mount_load(fs, 0, 0)))
		fprintf(stderr, "coffer: the root of cache '%s' cannot be read: %s\n", cache,
			err == -EBADMSG ? "authentication failed" : strerror(-err));
	long problems = 0;
	uint64_t files = 0, objects = 0;
	if (!err) {
		problems = fs_check(fs, stdout, &files, &objects);
		printf("coffer fsck: generation %" PRIu64 ", %" PRIu64 " inodes, %" PRIu64
		       " objects checked, %ld problems\n",
		       fs_generation(fs), files, objects, problems);
	}
	(void)o;
	fs_close(fs);
	sync_stop(s);
	return err || problems ? 1 : 0;
}

int cmd_fsck(int argc, char **argv)
{
	struct opts o;
	if (parse_opts(argc, argv, &o, usage) || o.nargs != 1)
		die_usage(usage);
	struct remote *r = remote_open(o.args[0], &o.ropts);
	struct buf text = {0};
	struct vault v;
	struct store *st;
	char cache[4096];
	if (!r || vault_read(&o, r, &text, &v) || cache_open(&o, &v, &st, cache, sizeof(cache)))
		return 1;
	int rc = 1;
	if (cache_lock_take(st))
		fprintf(stderr,
			"coffer: the cache '%s' is in use by a mounted coffer; unmount first\n",
			cache);
	else if (!vault_unlock_interactive(&o, r->url, &text, &v))
		rc = check(&o, r, st, &v, cache);
	vault_release(&v);
	store_close(st);
	buf_free(&text);
	remote_free(r);
	return rc;
}

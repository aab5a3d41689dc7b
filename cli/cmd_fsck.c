/* cmd_fsck: `coffer fsck` checks an unmounted vault's cache: every inode page, directory entry,
 * link count and chunk block. Must never modify the cache. */
#include "cli/cli.h"
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "fs/core.h"

static const char usage[] =
	"usage: coffer fsck [--passfile FILE | --passcmd CMD] [--cache DIR] VAULT\n"
	"\n"
	"Checks the local cache of an unmounted vault: opens every object and checks every\n"
	"directory entry and link count. Exits 0 when the tree is consistent, 1 otherwise.\n";

int cmd_fsck(int argc, char **argv)
{
	struct opts o;
	if (parse_opts(argc, argv, &o, usage) || o.nargs != 1)
		die_usage(usage);
	const char *dir = vault_path(o.args[0]);
	struct buf text = {0};
	struct vault v;
	struct store st;
	char cache[4096];
	if (!dir || vault_read(dir, &text, &v) || cache_open(&o, &v, &st, cache, sizeof(cache)))
		return 1;
	if (store_lock(&st)) {
		fprintf(stderr, "coffer: the cache '%s' is in use by a mounted coffer; unmount first\n",
			cache);
		return 1;
	}
	if (vault_unlock_interactive(&o, dir, &text, &v))
		return 1;
	struct fs *fs;
	int err = fs_open(&fs, &st, v.keys, v.id, true);
	if (!err && (err = fs_mount_load(fs, 0, 0)))
		fprintf(stderr, "coffer: the root of cache '%s' cannot be read: %s\n", cache,
			err == -EBADMSG ? "authentication failed" : strerror(-err));
	long problems = 0;
	uint64_t files = 0, objects = 0;
	if (!err)
		problems = fs_check(fs, stdout, &files, &objects);
	if (!err)
		printf("coffer fsck: generation %" PRIu64 ", %" PRIu64 " inodes, %" PRIu64
		       " objects checked, %ld problems\n",
		       fs_generation(fs), files, objects, problems);
	fs_close(fs);
	vault_release(&v);
	store_close(&st);
	buf_free(&text);
	return err || problems ? 1 : 0;
}

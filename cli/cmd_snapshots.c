/* cmd_snapshots: `coffer snapshots VAULT` lists the roots the vault retains (generation, commit
 * time, files and bytes), each of which `coffer mount --snapshot GEN` mounts read-only.
 * Must never change the vault. */
#include "cli/cli.h"
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sync/sync.h"

static const char usage[] = "usage: coffer snapshots [--passfile FILE | --passcmd CMD] [-o OPTIONS] VAULT\n"
			    "\n"
			    "Lists the generations the vault retains, oldest first.\n" VAULT_HELP;

int cmd_snapshots(int argc, char **argv)
{
	struct opts o;
	struct buf text;
	struct vault v;
	struct remote *r = vault_open_unlocked(argc, argv, usage, &o, &text, &v);
	if (!r)
		return 1;
	struct snapshot *snaps = NULL;
	size_t n = 0;
	int err = sync_list_snapshots(r, v.keys, v.id, &snaps, &n);
	if (err)
		fprintf(stderr, "coffer: cannot list the snapshots of %s: %s\n", r->url,
			err == -EBADMSG ? "a retained root failed authentication" : strerror(-err));
	else
		printf("%-12s  %-25s  %10s  %15s\n", "GENERATION", "COMMITTED", "INODES", "BYTES");
	for (size_t k = 0; !err && k < n; k++) {
		char when[64];
		sync_format_time(snaps[k].info.time_ns, when, sizeof(when));
		printf("%-12" PRIu64 "  %-25s  %10" PRIu64 "  %15" PRIu64 "\n", snaps[k].gen, when,
		       snaps[k].info.inodes, snaps[k].info.bytes);
	}
	free(snaps);
	vault_close(r, &text, &v);
	return err ? 1 : 0;
}

/* main: dispatches `coffer COMMAND`, and prints help and version.
 * Must never do work of its own beyond choosing the command. */
#include "cli/cli.h"
#include <stdio.h>
#include <string.h>
#include "crypto/crypto.h"

static const char usage[] =
	"usage: coffer COMMAND [OPTIONS] ARGS\n"
	"\n"
	"Coffer keeps an encrypted copy-on-write filesystem in a local cache, mirrors its\n"
	"ciphertext to a vault (a folder, S3, WebDAV or SFTP) and mounts it as plain files.\n"
	"\n"
	"commands:\n"
	"  init    VAULT                 create a vault (asks for a passphrase)\n"
	"  mount   VAULT MOUNTPOINT      mount a vault\n"
	"  umount  MOUNTPOINT            commit and unmount\n"
	"  status  MOUNTPOINT            show what waits to be mirrored to the vault\n"
	"  snapshots VAULT               list the retained generations of a vault\n"
	"  fsck    VAULT                 check the local cache of an unmounted vault\n"
	"  passwd  VAULT                 change the passphrase of a vault\n"
	"  verify  VAULT                 fetch and open every object of the vault itself\n"
	"\n"
	"Run `coffer COMMAND --help` for a command's options; see coffer(1).\n";

int main(int argc, char **argv)
{
	if (argc < 1)
		return 2;
	const char *self = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	if (strcmp(self, "mount.fuse.coffer") == 0) /* mount(8)'s helper for fuse.coffer */
		return cmd_mount_helper(argc, argv);
	if (strcmp(self, "umount.fuse.coffer") == 0)
		return cmd_umount_helper(argc, argv);
	if (argc < 2) {
		fputs(usage, stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
		fputs(usage, stdout);
		return 0;
	}
	if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
		printf("coffer %s\n", COFFER_VERSION);
		return 0;
	}
	if (crypto_setup()) {
		fprintf(stderr, "coffer: libsodium failed to initialize\n");
		return 1;
	}
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {{"init", cmd_init},		  {"mount", cmd_mount},	  {"umount", cmd_umount},
		    {"unmount", cmd_umount},	  {"fsck", cmd_fsck},	  {"status", cmd_status},
		    {"snapshots", cmd_snapshots}, {"passwd", cmd_passwd}, {"verify", cmd_verify}};
	for (size_t k = 0; k < sizeof(cmds) / sizeof(cmds[0]); k++)
		if (strcmp(cmd, cmds[k].name) == 0)
			return cmds[k].fn(argc - 1, argv + 1);
	fprintf(stderr, "coffer: unknown command '%s'\n\n%s", cmd, usage);
	return 2;
}

/* cmd_init: `coffer init` creates a vault config in a new or empty vault folder.
 * Must never overwrite an existing vault. */
#include "cli/cli.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage[] =
	"usage: coffer init [--passfile FILE | --passcmd CMD] [--kdf-level LEVEL] VAULT\n"
	"\n"
	"Creates a vault in VAULT (a folder or a file:///path URL). Asks twice for the\n"
	"passphrase with echo off unless --passfile or --passcmd is given.\n"
	"  --kdf-level LEVEL  Argon2id cost: min, interactive, moderate (default), sensitive\n";

int cmd_init(int argc, char **argv)
{
	struct opts o;
	struct kdf_params kdf;
	if (parse_opts(argc, argv, &o, usage) || o.nargs != 1)
		die_usage(usage);
	const char *dir = vault_path(o.args[0]);
	if (!dir)
		return 1;
	if (kdf_level(o.kdf_level ? o.kdf_level : "moderate", &kdf)) {
		fprintf(stderr, "coffer: unknown --kdf-level '%s'\n", o.kdf_level);
		return 2;
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		fprintf(stderr, "coffer: cannot create vault folder '%s': %s\n", dir, strerror(errno));
		return 1;
	}
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "coffer: cannot open vault folder '%s': %s\n", dir, strerror(errno));
		return 1;
	}
	if (faccessat(fd, VAULT_CONFIG_NAME, F_OK, 0) == 0) {
		fprintf(stderr, "coffer: '%s' already holds a vault; not overwriting it\n", dir);
		close(fd);
		return 1;
	}
	size_t len;
	char *pass = passphrase_read(&o, true, &len);
	struct buf text = {0};
	int err = pass ? vault_config_create(&text, pass, len, &kdf) : -EINVAL;
	passphrase_free(pass);
	if (!err)
		err = file_replace_at(fd, VAULT_CONFIG_NAME, text.data, text.len, 1);
	close(fd);
	buf_free(&text);
	if (err == -EEXIST)
		fprintf(stderr, "coffer: '%s' already holds a vault; not overwriting it\n", dir);
	else if (err == -ENOMEM)
		fprintf(stderr, "coffer: not enough memory for the key derivation\n");
	else if (err && err != -EINVAL)
		fprintf(stderr, "coffer: cannot write the vault config: %s\n", strerror(-err));
	if (err)
		return 1;
	printf("coffer: created a vault in %s\n", dir);
	return 0;
}

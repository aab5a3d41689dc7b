/* cmd_init: `coffer init` creates a vault: a config on the remote (a folder by default).
 * Must never overwrite an existing vault. */
#include "cli/cli.h"
#include "sync/remote/keys.h"
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static const char usage[] =
	"usage: coffer init [--passfile FILE | --passcmd CMD] [--kdf-level LEVEL]\n"
	"                   [--cipher aes256gcm|xchacha20] [-o OPTIONS] VAULT\n"
	"\n"
	"Creates a vault in VAULT. Asks twice for the passphrase with echo off unless\n"
	"--passfile or --passcmd is given.\n"
	"  --kdf-level LEVEL  Argon2id cost: min, interactive, moderate (default), sensitive\n"
	"  --cipher CIPHER    what the vault's data is sealed with: aes256gcm (the default\n"
	"                     where the CPU has AES-NI) or xchacha20 (the default otherwise)\n" VAULT_HELP;

/* The --cipher choice, or the default for this CPU; -1 after a message when it cannot be used. */
static int pick_cipher(const char *name, enum cipher *out)
{
	if (!name) {
		*out = vault_default_cipher();
		return 0;
	}
	if (cipher_parse(name, strlen(name), out)) {
		fprintf(stderr, "coffer: unknown --cipher '%s' (aes256gcm or xchacha20)\n", name);
		return -1;
	}
	if (*out == CIPHER_AES256GCM && !cipher_aes_available()) {
		fprintf(stderr, "coffer: --cipher aes256gcm: this CPU lacks AES-NI or PCLMULQDQ\n");
		return -1;
	}
	return 0;
}

int cmd_init(int argc, char **argv)
{
	struct opts o;
	struct kdf_params kdf;
	enum cipher cipher;
	if (parse_opts(argc, argv, &o, usage) || o.nargs != 1)
		die_usage(usage);
	if (pick_cipher(o.cipher, &cipher))
		return 2;
	if (kdf_level(o.kdf_level ? o.kdf_level : "moderate", &kdf)) {
		fprintf(stderr, "coffer: unknown --kdf-level '%s'\n", o.kdf_level);
		return 2;
	}
	struct remote *r = remote_open(o.args[0], &o.ropts);
	if (!r)
		return 1;
	bool folder = !strstr(r->url, "://") || strncmp(r->url, "file://", 7) == 0;
	const char *dir = strncmp(r->url, "file://", 7) == 0 ? r->url + 7 : r->url;
	if (folder && mkdir(dir, 0700) < 0 && errno != EEXIST) {
		fprintf(stderr, "coffer: cannot create vault folder '%s': %s\n", dir,
			strerror(errno));
		remote_free(r);
		return 1;
	}
	struct buf text = {0};
	char tag[TAG_MAX];
	int err = r->ops->get(r, remote_key_config(), REMOTE_CONFIG_MAX, &text, tag);
	if (err != -ENOENT) {
		if (err == 0)
			fprintf(stderr, "coffer: '%s' already holds a vault; not overwriting it\n",
				r->url);
		else
			fprintf(stderr, "coffer: cannot use '%s': %s\n", r->url,
				remote_strerror(err));
		buf_free(&text);
		remote_free(r);
		return 1;
	}
	buf_free(&text);
	size_t len;
	char *pass = passphrase_read(&o, true, &len);
	err = pass ? vault_config_create(&text, pass, len, &kdf, cipher) : -EINVAL;
	passphrase_free(pass);
	if (!err)
		err = r->ops->put_if(r, remote_key_config(), text.data, text.len, NULL, tag);
	buf_free(&text);
	if (err == -ESTALE)
		fprintf(stderr, "coffer: '%s' already holds a vault; not overwriting it\n", r->url);
	else if (err == -ENOMEM)
		fprintf(stderr, "coffer: not enough memory for the key derivation\n");
	else if (err && err != -EINVAL)
		fprintf(stderr, "coffer: cannot write the vault config to '%s': %s\n", r->url,
			strerror(-err));
	if (!err)
		printf("coffer: created a vault in %s (%s)\n", r->url,
		       cipher == CIPHER_AES256GCM ? "AES-256-GCM" : "XChaCha20-Poly1305");
	remote_free(r);
	return err ? 1 : 0;
}

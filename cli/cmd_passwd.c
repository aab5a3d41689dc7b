/* cmd_passwd: `coffer passwd VAULT` changes the passphrase (and with --kdf-level the Argon2id
 * cost) of a vault: the master key is unwrapped with the old passphrase and wrapped again under
 * the new one with a fresh salt; nothing else is re-encrypted. The vault's config is replaced
 * only if it is still the one read at the start (put_if), then the cache's copy.
 * Must never write a config that does not open, never replace a config another device changed
 * meanwhile, and never run offline (on the cache's copy of the config). */
#include "cli/cli.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "cache/files.h"
#include "sync/remote/keys.h"

static const char usage[] =
	"usage: coffer passwd [--passfile FILE | --passcmd CMD]\n"
	"                     [--new-passfile FILE | --new-passcmd CMD] [--kdf-level LEVEL]\n"
	"                     [--cache DIR] [-o OPTIONS] VAULT\n"
	"\n"
	"Changes the passphrase of the vault in VAULT without re-encrypting anything. Asks for\n"
	"the current passphrase, then twice for the new one, with echo off unless the options\n"
	"below give them. Copies of the old config (backups, other devices' caches) still open\n"
	"the vault with the old passphrase; see coffer(1).\n"
	"  --new-passfile FILE  read the new passphrase from the first line of FILE\n"
	"  --new-passcmd CMD    read the new passphrase from the output of CMD\n"
	"  --kdf-level LEVEL  new Argon2id cost: min, interactive, moderate, sensitive\n"
	"                     (default: keep the current one)\n"
	"  --cache DIR        the local cache whose copy of the config to update (default\n"
	"                     $XDG_CACHE_HOME/coffer/<vault id>)\n" VAULT_HELP;

/* The new config text: m wrapped under the new passphrase with cost kdf. */
static int rewrap(const struct opts *o, const struct vault_master *m, const struct buf *text,
		  const struct kdf_params *kdf, struct buf *out)
{
	size_t len;
	char *pass = passphrase_read_new(o, &len);
	if (!pass)
		return -EINVAL;
	int err = vault_config_rewrap(m, text->data, text->len, pass, len, kdf, out);
	passphrase_free(pass);
	if (err == -ENOMEM)
		fprintf(stderr, "coffer: not enough memory for the key derivation\n");
	else if (err)
		fprintf(stderr, "coffer: cannot make the new config: %s\n", strerror(-err));
	return err;
}

/* Replaces the vault's config if it still has version tag; says what happened. */
static int publish(struct remote *r, const struct buf *next, const char *tag)
{
	char newtag[TAG_MAX];
	int err = r->ops->put_if(r, remote_key_config(), next->data, next->len, tag, newtag);
	if (err == -ESTALE)
		fprintf(stderr,
			"coffer: the config of the vault at '%s' changed while coffer passwd ran "
			"(another device changed its passphrase?); nothing was changed: run coffer "
			"passwd again\n",
			r->url);
	else if (err)
		fprintf(stderr,
			"coffer: cannot write the new config to '%s': %s; the passphrase is "
			"unchanged unless the vault's config now opens with the new one\n",
			r->url, remote_strerror(err));
	return err;
}

/* The cache's copy follows, so that this device's next offline mount asks the new passphrase. */
static void update_cache(const struct opts *o, const struct vault *v, const struct buf *next)
{
	struct store *c = cache_of_vault(o, v);
	if (c && cache_config_replace(c, next->data, next->len))
		fprintf(stderr,
			"coffer: warning: cannot update the config kept in the cache; it is replaced "
			"at the next mount\n");
	store_close(c);
}

static int change(const struct opts *o, struct remote *r, const struct kdf_params *level)
{
	struct buf text = {0}, next = {0};
	struct vault v;
	struct vault_master *m = NULL;
	char tag[TAG_MAX];
	int err = vault_read_tagged(r, &text, &v, tag);
	if (!err)
		err = vault_master_interactive(o, r->url, &text, &v, &m);
	if (!err)
		err = rewrap(o, m, &text, level ? level : &v.kdf, &next);
	vault_master_free(m);
	if (!err)
		err = publish(r, &next, tag);
	if (!err) {
		update_cache(o, &v, &next);
		const struct kdf_params *k = level ? level : &v.kdf;
		printf("coffer: changed the passphrase of the vault at %s (key derivation: %llu "
		       "passes over %llu KiB)\n",
		       r->url, (unsigned long long)k->ops, (unsigned long long)(k->mem >> 10));
	}
	buf_free(&text);
	buf_free(&next);
	return err;
}

int cmd_passwd(int argc, char **argv)
{
	struct opts o;
	struct kdf_params kdf;
	if (parse_opts(argc, argv, &o, usage) || o.nargs != 1)
		die_usage(usage);
	if (o.kdf_level && kdf_level(o.kdf_level, &kdf)) {
		fprintf(stderr, "coffer: unknown --kdf-level '%s'\n", o.kdf_level);
		return 2;
	}
	if ((o.passfile && o.passcmd) || (o.new_passfile && o.new_passcmd)) {
		fprintf(stderr, "coffer: give a passphrase by a file or by a command, not both\n");
		return 2;
	}
	struct remote *r = remote_open(o.args[0], &o.ropts);
	if (!r)
		return 1;
	int err = change(&o, r, o.kdf_level ? &kdf : NULL);
	remote_free(r);
	return err ? 1 : 0;
}

/* cli: the coffer command line: shared option parsing, passphrase input, vault and cache
 * locations. Commands live in cli/cmd_*.c.
 * Must never take a passphrase from argv or print one. */
#ifndef COFFER_CLI_H
#define COFFER_CLI_H
#include <stdbool.h>
#include <stddef.h>
#include "cache/store.h"
#include "crypto/vault.h"
#include "sync/remote/remote.h"
#include <stdint.h>

#define COFFER_VERSION "0.1.0"

/* The vault URL forms and the -o options of every command that talks to the vault. */
#define VAULT_HELP                                                                                 \
	"\n"                                                                                       \
	"VAULT is a folder, file:///path, s3://HOST[:PORT]/BUCKET[/PREFIX] (s3+http:// for\n"      \
	"plain HTTP), webdav[s]://HOST[:PORT]/PATH or sftp://USER@HOST[:PORT]/PATH.\n"             \
	"  -o region=R        S3 region (default $AWS_REGION, $AWS_DEFAULT_REGION, us-east-1)\n"   \
	"  -o s3_style=path|virtual  S3 addressing (default virtual; path for s3+http://,\n"       \
	"                     IP addresses and explicit ports)\n"                                  \
	"  -o cacert=FILE     CA bundle for https (s3://, webdavs://)\n"                           \
	"  -o netrc=FILE      WebDAV login and password (default ~/.netrc)\n"                      \
	"  -o insecure_http_auth  webdav://: send that password over plain HTTP anyway\n"          \
	"  -o ssh_key=FILE    SFTP private key (default ~/.ssh/id_ed25519)\n"                      \
	"  -o known_hosts=FILE  SFTP host keys (default ~/.ssh/known_hosts)\n"                     \
	"  -o accept_new_host_key  SFTP: trust and record an unknown host key\n"                   \
	"S3 credentials come from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN\n"   \
	"or the ~/.aws/credentials profile ($AWS_PROFILE); see coffer(1).\n"

struct opts {
	const char *passfile, *passcmd, *cache, *kdf_level, *logfile;
	const char *new_passfile, *new_passcmd; /* coffer passwd's new passphrase */
	const char *cipher;			/* coffer init's --cipher */
	bool foreground, readonly, help, no_wait, json, repair, snapshots;
	unsigned commit_seconds, keep, drain_timeout, inode_cache;
	uint64_t cache_size, snapshot;
	struct remote_opts ropts;
	char fuse_opts[1024]; /* -o options not Coffer's own, passed to FUSE */
	const char *args[4];
	int nargs;
};

/* Parses argv after the command name; prints an error and returns -1 on bad usage. */
int parse_opts(int argc, char **argv, struct opts *o, const char *usage);
void die_usage(const char *usage);

/* Reads the passphrase into locked memory; confirm asks twice on a terminal. NULL on error. */
char *passphrase_read(const struct opts *o, bool confirm, size_t *len);
/* The new passphrase of coffer passwd: --new-passfile, --new-passcmd, or twice on a terminal. */
char *passphrase_read_new(const struct opts *o, size_t *len);
void passphrase_free(char *p);

/* Reads and parses the vault config from the remote, printing a clear message on failure.
 * With o, an unreachable remote falls back to the config copy of the cache that serves it. */
int vault_read(const struct opts *o, struct remote *r, struct buf *text, struct vault *v);
/* As vault_read(NULL, ...), and tag gets the config's version for put_if. */
int vault_read_tagged(struct remote *r, struct buf *text, struct vault *v, char tag[TAG_MAX]);
/* The existing cache folder of v (--cache, else the default one), owned by this user, or NULL. */
struct store *cache_of_vault(const struct opts *o, const struct vault *v);
/* Opens the cache (default $XDG_CACHE_HOME/coffer/<id>; a snapshot's gets the suffix
 * .snapshot-GEN) into *s; path gets its location. */
int cache_open(const struct opts *o, const struct vault *v, struct store **s, char *path,
	       size_t cap);
/* The cache folder of v for commands that only read it (--cache, else the default location;
 * not made absolute, no snapshot suffix). */
void cache_path(const struct opts *o, const struct vault *v, char *path, size_t cap);
/* Prompts, unlocks the vault config; prints "wrong passphrase" and fails when it is. When the
 * cache of this vault keeps an older config that the passphrase opens, says that the passphrase
 * was changed on another device (and on a terminal asks once more). After an unlock, the cache's
 * copy of the config is made text. */
int vault_unlock_interactive(const struct opts *o, const char *where, const struct buf *text,
			     struct vault *v);
/* The same, keeping the master key in *m (for coffer passwd) rather than a keyring. */
int vault_master_interactive(const struct opts *o, const char *where, const struct buf *text,
			     struct vault *v, struct vault_master **m);
/* For commands of one VAULT argument that need only the unlocked vault: parses argv (exits 2
 * on bad usage), opens the remote, reads the config and unlocks it. NULL (said why) on failure;
 * vault_close releases what it returned. */
struct remote *vault_open_unlocked(int argc, char **argv, const char *usage, struct opts *o,
				   struct buf *text, struct vault *v);
void vault_close(struct remote *r, struct buf *text, struct vault *v);
/* The cache folder of the coffer mounted at mp (absolute), from /proc/self/mountinfo. */
int mounted_cache(const char *mp, char *cache, size_t cap);
/* Runs fusermount3 -u (lazy: -uz) on mp by fork/exec; its exit status, or -1. */
int run_fusermount(const char *mp, bool lazy, bool quiet);

int cmd_init(int argc, char **argv);
int cmd_mount(int argc, char **argv);
int cmd_umount(int argc, char **argv);
int cmd_fsck(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_snapshots(int argc, char **argv);
int cmd_passwd(int argc, char **argv);
/* mount(8)'s and umount(8)'s helpers, run as mount.fuse.coffer and umount.fuse.coffer. */
int cmd_mount_helper(int argc, char **argv);
int cmd_umount_helper(int argc, char **argv);
int cmd_verify(int argc, char **argv);

#endif

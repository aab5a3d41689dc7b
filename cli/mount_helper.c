/* mount_helper: coffer as the mount(8) and umount(8) helper of the type fuse.coffer
 * (/sbin/mount.fuse.coffer and /sbin/umount.fuse.coffer are links to the coffer binary, so that
 * fstab lines and systemd mount units work). `mount.fuse.coffer SOURCE MOUNTPOINT [-sfnv]
 * [-o OPTIONS]` becomes `coffer mount`: passfile= and cache= become --passfile and --cache, the
 * options only mount(8) and systemd read (_netdev, nofail, noauto, user, x-systemd.*, ...) are
 * dropped, the rest go to -o. `umount.fuse.coffer MOUNTPOINT` becomes `coffer umount` (commit,
 * unmount, wait for the upload). Both exec this same binary with an argument vector.
 * Must never run a shell, never accept a passphrase command from fstab, and never pass on an
 * option it could not hold whole. */
#include "cli/cli.h"
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define HELPER_ARGV 16
#define HELPER_OPTS 2048

struct helper_cmd {
	char *argv[HELPER_ARGV];
	int argc;
	char opts[HELPER_OPTS]; /* the -o list passed on to coffer mount */
	char raw[HELPER_OPTS];	/* the -o lists as given (passfile= and cache= point into it) */
	size_t raw_used;
	const char *passfile, *cache;
	const char *pos[2]; /* the positional arguments */
	int npos;
	bool fake, lazy;
};

static const char mount_usage[] =
	"usage: mount.fuse.coffer VAULT MOUNTPOINT [-sfnv] [-o OPTIONS]\n"
	"(run by mount(8) for the type fuse.coffer; see FSTAB AND SYSTEMD in coffer(1))\n";
static const char umount_usage[] = "usage: umount.fuse.coffer MOUNTPOINT [-flnrv] [-t TYPE]\n"
				   "(run by umount(8) for the type fuse.coffer; see coffer(1))\n";

/* Options that mount(8), systemd or fstab readers consume: never meant for coffer or FUSE. */
static bool mount_only(const char *opt)
{
	static const char *const exact[] = {"defaults", "auto",	    "noauto", "user",
					    "users",	"nouser",   "owner",  "group",
					    "_netdev",	"_rnetdev", "nofail", "nobootwait"};
	static const char *const prefix[] = {"x-", "X-", "comment=", "user=", "helper="};
	for (size_t k = 0; k < sizeof(exact) / sizeof(exact[0]); k++)
		if (strcmp(opt, exact[k]) == 0)
			return true;
	for (size_t k = 0; k < sizeof(prefix) / sizeof(prefix[0]); k++)
		if (strncmp(opt, prefix[k], strlen(prefix[k])) == 0)
			return true;
	return false;
}

static int take_value(const char *opt, const char *name, const char **out)
{
	size_t n = strlen(name);
	if (strncmp(opt, name, n) != 0)
		return 0;
	if (!opt[n]) {
		fprintf(stderr, "mount.fuse.coffer: %s needs a value\n", name);
		return -1;
	}
	*out = opt + n;
	return 1;
}

/* Sorts one comma-separated -o list (modified in place) into c. */
static int sort_options(struct helper_cmd *c, char *list)
{
	if (!list)
		return -1;
	for (char *save, *opt = strtok_r(list, ",", &save); opt; opt = strtok_r(NULL, ",", &save)) {
		int r = take_value(opt, "passfile=", &c->passfile);
		if (!r)
			r = take_value(opt, "cache=", &c->cache);
		if (r < 0)
			return -1;
		if (r > 0 || mount_only(opt))
			continue;
		if (strncmp(opt, "passcmd=", 8) == 0) {
			fprintf(stderr, "mount.fuse.coffer: passcmd= is not accepted from a mount "
					"table (it would run a shell); use passfile=FILE\n");
			return -1;
		}
		size_t used = strlen(c->opts);
		if (used + strlen(opt) + 2 > sizeof(c->opts)) {
			fprintf(stderr, "mount.fuse.coffer: the options are too long\n");
			return -1;
		}
		snprintf(c->opts + used, sizeof(c->opts) - used, "%s%s", used ? "," : "", opt);
	}
	return 0;
}

/* A copy of one -o list in c->raw (which outlives the parse), or NULL when it is full. */
static char *keep_raw(struct helper_cmd *c, const char *list)
{
	size_t n = strlen(list) + 1;
	if (n > sizeof(c->raw) - c->raw_used) {
		fprintf(stderr, "mount.fuse.coffer: the options are too long\n");
		return NULL;
	}
	char *copy = memcpy(c->raw + c->raw_used, list, n);
	c->raw_used += n;
	return copy;
}

/* Single-letter flags of mount(8) and umount(8) helpers that change nothing here; l (lazy) and
 * f (fake, for mount) are reported through *lazy and c->fake. */
static int flags(struct helper_cmd *c, const char *arg, const char *allowed)
{
	for (const char *p = arg + 1; *p; p++) {
		if (!strchr(allowed, *p))
			return -1;
		if (*p == 'l')
			c->lazy = true;
		if (*p == 'f' && strchr(allowed, 's'))
			c->fake = true;
	}
	return arg[1] ? 0 : -1;
}

/* Parses the helper's argv (flags, -o lists, -t TYPE, at most 2 positional arguments) into c. */
static int parse_args(int argc, char **argv, struct helper_cmd *c, const char *allowed)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if ((!strcmp(a, "-o") || !strcmp(a, "-t")) && i + 1 < argc) {
			if (a[1] == 'o' && sort_options(c, keep_raw(c, argv[i + 1])))
				return -1;
			i++;
		} else if (a[0] == '-' && a[1] != '-') {
			if (flags(c, a, allowed)) {
				fprintf(stderr, "%s: option '%s' is not supported\n", argv[0], a);
				return -1;
			}
		} else if (c->npos < 2 && a[0] != '-') {
			c->pos[c->npos++] = a;
		} else {
			return -1;
		}
	}
	return 0;
}

static void parse_helper(int argc, char **argv, struct helper_cmd *c, const char *allowed, int want,
			 const char *usage)
{
	if (parse_args(argc, argv, c, allowed) || c->npos != want)
		die_usage(usage);
}

static void push(struct helper_cmd *c, const char *arg)
{
	if (c->argc < HELPER_ARGV - 1)
		c->argv[c->argc++] = (char *)arg;
	c->argv[c->argc] = NULL;
}

/* Runs this binary again as `coffer ...` (its process name stays coffer's, for ps and pgrep). */
static int run_coffer(struct helper_cmd *c)
{
	execv("/proc/self/exe", c->argv);
	perror("mount.fuse.coffer: cannot run coffer");
	return 1;
}

int cmd_mount_helper(int argc, char **argv)
{
	struct helper_cmd c = {.argc = 0};
	parse_helper(argc, argv, &c, "sfnv", 2, mount_usage);
	if (c.fake)
		return 0;
	push(&c, "coffer");
	push(&c, "mount");
	if (c.passfile) {
		push(&c, "--passfile");
		push(&c, c.passfile);
	}
	if (c.cache) {
		push(&c, "--cache");
		push(&c, c.cache);
	}
	if (c.opts[0]) {
		push(&c, "-o");
		push(&c, c.opts);
	}
	push(&c, "--");
	push(&c, c.pos[0]);
	push(&c, c.pos[1]);
	return run_coffer(&c);
}

int cmd_umount_helper(int argc, char **argv)
{
	struct helper_cmd c = {.argc = 0};
	parse_helper(argc, argv, &c, "flnrv", 1, umount_usage);
	if (c.lazy) /* nothing waits for a lazy unmount: the daemon still commits when it ends */
		return run_fusermount(c.pos[0], true, false) ? 1 : 0;
	push(&c, "coffer");
	push(&c, "umount");
	push(&c, "--");
	push(&c, c.pos[0]);
	return run_coffer(&c);
}

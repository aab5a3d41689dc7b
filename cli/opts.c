/* opts: option parsing shared by every command, and the vault and cache locations.
 * Must never accept a passphrase as an argument. */
#include "cli/cli.h"
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void die_usage(const char *usage)
{
	fputs(usage, stderr);
	exit(2);
}

static int own_option(struct opts *o, char *opt)
{
	char *end;
	if (strncmp(opt, "commit=", 7) == 0) {
		unsigned long v = strtoul(opt + 7, &end, 10);
		if (*end || v == 0 || v > 86400) {
			fprintf(stderr, "coffer: commit= takes seconds between 1 and 86400\n");
			return -1;
		}
		o->commit_seconds = (unsigned)v;
		return 1;
	}
	if (strncmp(opt, "logfile=", 8) == 0) {
		o->logfile = opt + 8;
		return 1;
	}
	if (strcmp(opt, "ro") == 0)
		o->readonly = true;
	return 0;
}

static int add_mount_options(struct opts *o, char *list)
{
	for (char *save, *opt = strtok_r(list, ",", &save); opt; opt = strtok_r(NULL, ",", &save)) {
		int r = own_option(o, opt);
		if (r < 0)
			return -1;
		if (r > 0)
			continue;
		size_t used = strlen(o->fuse_opts);
		if (used + strlen(opt) + 2 >= sizeof(o->fuse_opts)) {
			fprintf(stderr, "coffer: too many -o options\n");
			return -1;
		}
		snprintf(o->fuse_opts + used, sizeof(o->fuse_opts) - used, "%s%s", used ? "," : "",
			 opt);
	}
	return 0;
}

int parse_opts(int argc, char **argv, struct opts *o, const char *usage)
{
	static const struct option longs[] = {
		{"passfile", required_argument, 0, 'p'}, {"passcmd", required_argument, 0, 'P'},
		{"cache", required_argument, 0, 'c'},    {"kdf-level", required_argument, 0, 'k'},
		{"help", no_argument, 0, 'h'},           {0, 0, 0, 0}};
	memset(o, 0, sizeof(*o));
	o->commit_seconds = 5;
	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, "+fo:h", longs, NULL)) != -1) {
		switch (c) {
		case 'p': o->passfile = optarg; break;
		case 'P': o->passcmd = optarg; break;
		case 'c': o->cache = optarg; break;
		case 'k': o->kdf_level = optarg; break;
		case 'f': o->foreground = true; break;
		case 'o':
			if (add_mount_options(o, optarg))
				return -1;
			break;
		case 'h': o->help = true; break;
		default:
			fprintf(stderr, "coffer: unknown or incomplete option '%s'\n", argv[optind - 1]);
			die_usage(usage);
		}
	}
	if (o->help) {
		fputs(usage, stdout);
		exit(0);
	}
	for (; optind < argc; optind++) {
		if (o->nargs == 4)
			die_usage(usage);
		o->args[o->nargs++] = argv[optind];
	}
	return 0;
}

const char *vault_path(const char *vault)
{
	if (strncmp(vault, "file://", 7) == 0) {
		if (vault[7] != '/') {
			fprintf(stderr, "coffer: malformed URL '%s': expected file:///absolute/path\n",
				vault);
			return NULL;
		}
		return vault + 7;
	}
	if (strstr(vault, "://")) {
		fprintf(stderr,
			"coffer: unsupported vault URL '%s': this version supports folders and "
			"file:// URLs\n",
			vault);
		return NULL;
	}
	return vault;
}

int vault_read(const char *dir, struct buf *text, struct vault *v)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int err = fd < 0 ? -errno : file_read_at(fd, VAULT_CONFIG_NAME, text, 65536);
	if (fd >= 0)
		close(fd);
	if (err == -ENOENT) {
		fprintf(stderr, "coffer: no vault at '%s' (no %s file; create one with coffer init)\n",
			dir, VAULT_CONFIG_NAME);
		return err;
	}
	if (!err)
		err = vault_config_parse(text->data, text->len, v);
	if (err == -EPROTONOSUPPORT)
		fprintf(stderr, "coffer: the vault at '%s' has a format this version cannot read\n",
			dir);
	else if (err == -EINVAL)
		fprintf(stderr, "coffer: the vault config '%s/%s' is damaged\n", dir,
			VAULT_CONFIG_NAME);
	else if (err)
		fprintf(stderr, "coffer: cannot read the vault at '%s': %s\n", dir, strerror(-err));
	return err;
}

static int mkdir_p(char *path)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		int r = mkdir(path, 0700);
		*p = '/';
		if (r < 0 && errno != EEXIST)
			return -errno;
	}
	return mkdir(path, 0700) < 0 && errno != EEXIST ? -errno : 0;
}

int cache_open(const struct opts *o, const struct vault *v, struct store *s, char *path,
	       size_t cap)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	if (o->cache)
		snprintf(path, cap, "%s", o->cache);
	else if (xdg && *xdg)
		snprintf(path, cap, "%s/coffer/%s", xdg, v->idhex);
	else
		snprintf(path, cap, "%s/.cache/coffer/%s", home ? home : "/root", v->idhex);
	int err = mkdir_p(path);
	char abs[PATH_MAX];
	if (!err && realpath(path, abs))
		snprintf(path, cap, "%s", abs);
	if (!err)
		err = store_open(s, path);
	if (err)
		fprintf(stderr, "coffer: cannot open the cache folder '%s': %s\n", path,
			strerror(-err));
	return err;
}

int vault_unlock_interactive(const struct opts *o, const char *dir, const struct buf *text,
			     struct vault *v)
{
	size_t len;
	char *pass = passphrase_read(o, false, &len);
	if (!pass)
		return -EINVAL;
	int err = vault_unlock(text->data, text->len, pass, len, v);
	passphrase_free(pass);
	if (err == -EACCES)
		fprintf(stderr, "coffer: wrong passphrase for the vault at '%s'\n", dir);
	else if (err == -ENOMEM)
		fprintf(stderr, "coffer: not enough memory for the key derivation\n");
	else if (err)
		fprintf(stderr, "coffer: the vault config in '%s' is damaged\n", dir);
	return err;
}

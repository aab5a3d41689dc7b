/* aws: the S3 user's credentials and region where the AWS CLI keeps them (see aws.h). Reads the
 * two shared files whole (bounded by AWS_FILE_MAX) and asks the pure parser aws_ini for values.
 * Must never take a credential from the command line, log one, or free one unwiped. */
#include "sync/remote/aws.h"
#include "sync/remote/aws_ini.h"
#include "crypto/crypto.h"
#include "lib/fileio.h"
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VALUE_MAX 4096

static const char *env(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

static const char *profile_name(void)
{
	const char *p = env("AWS_PROFILE");
	return p ? p : "default";
}

static void file_path(char *out, size_t cap, const char *var, const char *name)
{
	const char *f = env(var), *home = env("HOME");
	if (f)
		snprintf(out, cap, "%s", f);
	else
		snprintf(out, cap, "%s/.aws/%s", home ? home : "/root", name);
}

/* The whole file (a missing or unreadable one is empty); wiped by file_drop. */
static void file_load(const char *path, struct buf *b)
{
	if (file_read_at(AT_FDCWD, path, b, AWS_FILE_MAX) < 0)
		b->len = 0;
}

static void file_drop(struct buf *b)
{
	if (b->data)
		wipe(b->data, b->cap);
	buf_free(b);
}

/* key of the profile in b into a new string (*dst, replaced); false when not there. */
static bool take(const struct buf *b, enum aws_file kind, const char *key, char **dst)
{
	char v[VALUE_MAX];
	int err =
		aws_ini_get((const char *)b->data, b->len, kind, profile_name(), key, v, sizeof(v));
	if (!err) {
		wipe_str_free(*dst);
		*dst = strdup(v);
	}
	wipe(v, sizeof(v));
	return !err;
}

static void creds_from(struct aws_creds *c, const char *path, enum aws_file kind)
{
	struct buf b = {0};
	file_load(path, &b);
	if (take(&b, kind, "aws_access_key_id", &c->id) &&
	    take(&b, kind, "aws_secret_access_key", &c->secret))
		take(&b, kind, "aws_session_token", &c->token);
	file_drop(&b);
}

void aws_creds_free(struct aws_creds *c)
{
	wipe_str_free(c->id);
	wipe_str_free(c->secret);
	wipe_str_free(c->token);
	*c = (struct aws_creds){0};
}

static int creds_env(struct aws_creds *c)
{
	const char *tok = env("AWS_SESSION_TOKEN");
	c->id = strdup(env("AWS_ACCESS_KEY_ID"));
	c->secret = strdup(env("AWS_SECRET_ACCESS_KEY"));
	c->token = tok ? strdup(tok) : NULL;
	return c->id && c->secret && (!tok || c->token) ? 0 : -ENOMEM;
}

int aws_creds_load(struct aws_creds *c, char *where, size_t cap)
{
	if (env("AWS_ACCESS_KEY_ID") && env("AWS_SECRET_ACCESS_KEY"))
		return creds_env(c);
	char cred[4096], conf[4096];
	file_path(cred, sizeof(cred), "AWS_SHARED_CREDENTIALS_FILE", "credentials");
	file_path(conf, sizeof(conf), "AWS_CONFIG_FILE", "config");
	creds_from(c, cred, AWS_FILE_CREDENTIALS);
	if (!c->id || !c->secret) {
		aws_creds_free(c);
		creds_from(c, conf, AWS_FILE_CONFIG);
	}
	if (c->id && c->secret)
		return 0;
	aws_creds_free(c);
	snprintf(where, cap, "%s (or %s) [%s]", cred, conf, profile_name());
	return -ENOKEY;
}

static bool region_ok(const char *r)
{
	return *r && strlen(r) < AWS_REGION_MAX &&
	       strspn(r, "abcdefghijklmnopqrstuvwxyz0123456789-") == strlen(r);
}

/* The profile's region in the config file, into out; false when there is none. */
static bool region_from_config(char *out, size_t cap)
{
	char path[4096];
	struct buf b = {0};
	file_path(path, sizeof(path), "AWS_CONFIG_FILE", "config");
	file_load(path, &b);
	int err = aws_ini_get((const char *)b.data, b.len, AWS_FILE_CONFIG, profile_name(),
			      "region", out, cap);
	file_drop(&b);
	return err != -ENOENT;
}

int aws_region(const char *opt, char out[AWS_REGION_MAX], const char **from)
{
	char file[VALUE_MAX] = "";
	const char *r = opt, *e1 = env("AWS_REGION"), *e2 = env("AWS_DEFAULT_REGION");
	*from = "-o region";
	if (!r && e1)
		r = e1, *from = "AWS_REGION";
	else if (!r && e2)
		r = e2, *from = "AWS_DEFAULT_REGION";
	else if (!r && region_from_config(file, sizeof(file)))
		r = file, *from = "the AWS config file";
	else if (!r)
		r = "us-east-1", *from = "the default";
	if (!region_ok(r))
		return -EINVAL;
	snprintf(out, AWS_REGION_MAX, "%s", r);
	return 0;
}

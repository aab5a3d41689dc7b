/* test_creds: whether an SSH key is locked with a passphrase (sync/remote/sshkey.c), the AWS CLI's
 * shared files (sync/remote/aws_ini.c: sections, profiles, nested settings, comments, bounds) and
 * where the S3 region and credentials come from (sync/remote/aws.c: -o region > AWS_REGION >
 * AWS_DEFAULT_REGION > config file > us-east-1). */
#include "tests/unit/unit.h"
#include "sync/remote/aws.h"
#include "sync/remote/aws_ini.h"
#include "sync/remote/sshkey.h"
#include <errno.h>
#include <string.h>
#include <unistd.h>

static int get(const char *text, enum aws_file kind, const char *profile, const char *key,
	       char *out, size_t cap)
{
	return aws_ini_get(text, strlen(text), kind, profile, key, out, cap);
}

static const char config[] = "# a comment\n"
			     "[default]\n"
			     "region = eu-west-1\n"
			     "output=json\n"
			     "\n"
			     "[profile dev]\n"
			     "s3 =\n"
			     "  region = nested-1\n"
			     "  addressing_style = path\n"
			     "Region: ap-south-1\r\n"
			     "[dev]\n"
			     "region = not-a-profile-in-config\n"
			     "[sso-session dev]\n"
			     "region = not-either\n"
			     "[profile   spaced  ]\n"
			     "\tregion\t=\t  us-west-2  \n"
			     "; region = commented-out\n"
			     "[profile twice]\n"
			     "region = first\n"
			     "[profile twice]\n"
			     "region = second\n"
			     "[profile empty]\n"
			     "region =\n"
			     "[profile flat]\n"
			     "aws_access_key_id = X\n"
			     "  region = indented-but-flat\n"
			     "[profile last]\n"
			     "region = no-newline";

static void test_parser(void)
{
	char v[64];
	CHECK(get(config, AWS_FILE_CONFIG, "default", "region", v, sizeof(v)) == 0 &&
	      strcmp(v, "eu-west-1") == 0);
	CHECK(get(config, AWS_FILE_CONFIG, "default", "output", v, sizeof(v)) == 0 &&
	      strcmp(v, "json") == 0);
	/* the nested "s3 = region" is not the profile's region; ':' and any case of the key */
	CHECK(get(config, AWS_FILE_CONFIG, "dev", "region", v, sizeof(v)) == 0 &&
	      strcmp(v, "ap-south-1") == 0);
	CHECK(get(config, AWS_FILE_CONFIG, "spaced", "region", v, sizeof(v)) == 0 &&
	      strcmp(v, "us-west-2") == 0);
	CHECK(get(config, AWS_FILE_CONFIG, "twice", "region", v, sizeof(v)) == 0 &&
	      strcmp(v, "second") == 0);
	CHECK(get(config, AWS_FILE_CONFIG, "last", "region", v, sizeof(v)) == 0 &&
	      strcmp(v, "no-newline") == 0);
	CHECK(get(config, AWS_FILE_CONFIG, "empty", "region", v, sizeof(v)) == -ENOENT);
	CHECK(get(config, AWS_FILE_CONFIG, "flat", "region", v, sizeof(v)) == 0 &&
	      strcmp(v, "indented-but-flat") == 0);
	CHECK(get(config, AWS_FILE_CONFIG, "nobody", "region", v, sizeof(v)) == -ENOENT);
	CHECK(get(config, AWS_FILE_CONFIG, "default", "aws_secret_access_key", v, sizeof(v)) ==
	      -ENOENT);
	/* in the credentials file "[dev]" is the profile dev */
	CHECK(get(config, AWS_FILE_CREDENTIALS, "dev", "region", v, sizeof(v)) == 0 &&
	      strcmp(v, "not-a-profile-in-config") == 0);
	/* bounds: the value must fit, the file must be small, a NUL is refused */
	CHECK(get(config, AWS_FILE_CONFIG, "default", "region", v, 9) == -ENAMETOOLONG);
	CHECK(get(config, AWS_FILE_CONFIG, "default", "region", v, 10) == 0);
	CHECK(aws_ini_get(config, AWS_FILE_MAX + 1, AWS_FILE_CONFIG, "default", "region", v,
			  sizeof(v)) == -EFBIG);
	const char nul[] = "[default]\nregion = a\0b\n";
	CHECK(aws_ini_get(nul, sizeof(nul) - 1, AWS_FILE_CONFIG, "default", "region", v,
			  sizeof(v)) == -EINVAL);
	/* the parser reads only len bytes: a cut file ends inside the value */
	CHECK(aws_ini_get(config, 34, AWS_FILE_CONFIG, "default", "region", v, sizeof(v)) == 0 &&
	      strcmp(v, "eu-") == 0);
	CHECK(aws_ini_get(config, 0, AWS_FILE_CONFIG, "default", "region", v, sizeof(v)) ==
	      -ENOENT);
}

static char dir[] = "/tmp/coffer-test-aws-XXXXXX";

static void write_file(const char *name, const char *text)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	CHECK(f && fputs(text, f) >= 0);
	if (f)
		fclose(f);
}

static const char *region(const char *opt, int *err)
{
	static char out[AWS_REGION_MAX];
	const char *from;
	*err = aws_region(opt, out, &from);
	return *err ? from : out;
}

static void test_region_order(void)
{
	char path[128];
	int err;
	snprintf(path, sizeof(path), "%s/config", dir);
	write_file("config", "[default]\nregion = eu-north-1\n[profile work]\nregion = "
			     "ca-central-1\n[profile bad]\nregion = Not_A_Region\n");
	setenv("AWS_CONFIG_FILE", path, 1);
	unsetenv("AWS_PROFILE");
	unsetenv("AWS_REGION");
	unsetenv("AWS_DEFAULT_REGION");
	CHECK(strcmp(region(NULL, &err), "eu-north-1") == 0 && !err);
	setenv("AWS_PROFILE", "work", 1);
	CHECK(strcmp(region(NULL, &err), "ca-central-1") == 0 && !err);
	setenv("AWS_DEFAULT_REGION", "sa-east-1", 1);
	CHECK(strcmp(region(NULL, &err), "sa-east-1") == 0 && !err);
	setenv("AWS_REGION", "me-south-1", 1);
	CHECK(strcmp(region(NULL, &err), "me-south-1") == 0 && !err);
	CHECK(strcmp(region("af-south-1", &err), "af-south-1") == 0 && !err);
	setenv("AWS_REGION", "", 1); /* empty is unset, as for the AWS CLI */
	unsetenv("AWS_DEFAULT_REGION");
	CHECK(strcmp(region(NULL, &err), "ca-central-1") == 0 && !err);
	setenv("AWS_PROFILE", "bad", 1); /* a malformed one is refused, naming where it was */
	CHECK(strcmp(region(NULL, &err), "the AWS config file") == 0 && err == -EINVAL);
	setenv("AWS_PROFILE", "nobody", 1);
	CHECK(strcmp(region(NULL, &err), "us-east-1") == 0 && !err);
	setenv("AWS_CONFIG_FILE", "/nonexistent/coffer/config", 1);
	unsetenv("AWS_PROFILE");
	CHECK(strcmp(region(NULL, &err), "us-east-1") == 0 && !err);
	unlink(path);
	unsetenv("AWS_CONFIG_FILE");
	unsetenv("AWS_REGION");
}

static void test_creds(void)
{
	char cred[128], conf[128], where[9000];
	struct aws_creds c = {0};
	snprintf(cred, sizeof(cred), "%s/credentials", dir);
	snprintf(conf, sizeof(conf), "%s/config", dir);
	write_file("credentials", "[default]\naws_access_key_id = A1\naws_secret_access_key = S1\n"
				  "[only-id]\naws_access_key_id = A2\n");
	write_file("config", "[profile only-id]\naws_access_key_id = A3\naws_secret_access_key = "
			     "S3\naws_session_token = T3\n");
	setenv("AWS_SHARED_CREDENTIALS_FILE", cred, 1);
	setenv("AWS_CONFIG_FILE", conf, 1);
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	unsetenv("AWS_SESSION_TOKEN");
	unsetenv("AWS_PROFILE");
	CHECK(aws_creds_load(&c, where, sizeof(where)) == 0 && strcmp(c.id, "A1") == 0 &&
	      strcmp(c.secret, "S1") == 0 && !c.token);
	aws_creds_free(&c);
	/* half a key pair in the credentials file: the config file's whole pair is taken */
	setenv("AWS_PROFILE", "only-id", 1);
	CHECK(aws_creds_load(&c, where, sizeof(where)) == 0 && strcmp(c.id, "A3") == 0 &&
	      strcmp(c.secret, "S3") == 0 && c.token && strcmp(c.token, "T3") == 0);
	aws_creds_free(&c);
	setenv("AWS_PROFILE", "nobody", 1);
	CHECK(aws_creds_load(&c, where, sizeof(where)) == -ENOKEY && strstr(where, "[nobody]") &&
	      strstr(where, cred) && !c.id && !c.secret);
	setenv("AWS_ACCESS_KEY_ID", "EA", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "ES", 1);
	CHECK(aws_creds_load(&c, where, sizeof(where)) == 0 && strcmp(c.id, "EA") == 0);
	aws_creds_free(&c);
	unlink(cred);
	unlink(conf);
	unsetenv("AWS_SHARED_CREDENTIALS_FILE");
	unsetenv("AWS_CONFIG_FILE");
	unsetenv("AWS_PROFILE");
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
}

static int locked(const char *text)
{
	return sshkey_locked(text, strlen(text));
}

static void test_sshkey(void)
{
	CHECK(locked("-----BEGIN OPENSSH PRIVATE KEY-----\n"
		     "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n") ==
	      0);
	CHECK(locked("-----BEGIN OPENSSH PRIVATE KEY-----\r\n"
		     "b3BlbnNzaC1rZXktdjEAAAAACmFlczI1Ni1jdHIAAAAGYmNyeXB0AAAAGAAAABBx\n") == 1);
	CHECK(locked("-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n") == 0);
	CHECK(locked("-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: "
		     "AES-128-CBC,00\n") == 1);
	CHECK(locked("-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIF\n") == 1);
	CHECK(locked("-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl") == -EINVAL); /* cut short */
	CHECK(locked("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5 a public key\n") == -EINVAL);
	CHECK(sshkey_locked("", 0) == -EINVAL);
}

int main(void)
{
	unit_setup();
	CHECK(mkdtemp(dir) != NULL);
	test_sshkey();
	test_parser();
	test_region_order();
	test_creds();
	rmdir(dir);
	return unit_finish("test_creds");
}

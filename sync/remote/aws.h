/* aws: where the AWS CLI keeps an S3 user's settings, read the way it reads them: credentials
 * from the environment or the shared credentials file, the region from -o region, AWS_REGION,
 * AWS_DEFAULT_REGION or the profile's "region" in the config file (AWS_PROFILE, default
 * "default"; AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE, default ~/.aws/...).
 * Must never take a credential from the command line, log one, or leave one unwiped. */
#ifndef COFFER_AWS_H
#define COFFER_AWS_H
#include <stddef.h>

struct aws_creds {
	char *id, *secret, *token; /* token may be NULL */
};

/* AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (with AWS_SESSION_TOKEN), else the profile's keys
 * in the credentials file, else in the config file. 0; -ENOKEY with where naming the files
 * looked at and the profile; -ENOMEM. */
int aws_creds_load(struct aws_creds *c, char *where, size_t cap);
/* Wipes and frees; c may be all NULL. */
void aws_creds_free(struct aws_creds *c);

#define AWS_REGION_MAX 64
/* The region, in the AWS CLI's order: opt (-o region), AWS_REGION, AWS_DEFAULT_REGION, the
 * profile's region in the config file, "us-east-1". *from names where it came from (a static
 * string, for messages). 0, or -EINVAL when the chosen one is not lowercase letters, digits and
 * '-' (or longer than AWS_REGION_MAX - 1). */
int aws_region(const char *opt, char out[AWS_REGION_MAX], const char **from);

#endif

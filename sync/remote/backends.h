/* backends: the constructor of each backend, for remote.c's URL dispatch only. The network ones
 * print a one-line error and return NULL when the URL is malformed or credentials are missing;
 * remote_file_open returns NULL only when out of memory. Not for use outside sync/remote/. */
#ifndef COFFER_REMOTE_BACKENDS_H
#define COFFER_REMOTE_BACKENDS_H
#include "sync/remote/remote.h"

struct remote *remote_file_open(const char *dir);
struct remote *remote_s3_open(const char *url, const struct remote_opts *o);
struct remote *remote_webdav_open(const char *url, const struct remote_opts *o);
struct remote *remote_sftp_open(const char *url, const struct remote_opts *o);

#endif

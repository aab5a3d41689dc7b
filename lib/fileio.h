/* fileio: whole-file helpers for any folder given as a descriptor (the cache folder, the vault
 * folder of the file:// backend): read a small file, replace one atomically, create a fresh
 * temporary. Knows no file names of its own.
 * Must never leave a partly written file under its final name, nor write through a symlink. */
#ifndef COFFER_FILEIO_H
#define COFFER_FILEIO_H
#include <stddef.h>
#include "lib/buf.h"

/* Appends the whole of the open file fd to out; -EFBIG when it holds more than max bytes. */
int file_read_fd(int fd, struct buf *out, size_t max);
/* Reads dirfd/name whole; nofollow refuses a symlink in its place (-ELOOP). */
int file_read_at(int dirfd, const char *name, struct buf *out, size_t max);
int file_read_nofollow_at(int dirfd, const char *name, struct buf *out, size_t max);
/* Atomically replaces (tmp, fsync, rename, fsync dir) dirfd/name; excl: fails with -EEXIST
 * instead of replacing an existing file. */
int file_replace_at(int dirfd, const char *name, const void *p, size_t len, int excl);
/* The same, with the first len bytes of the open file src as the contents (file_copy_fd). */
int file_replace_copy_at(int dirfd, const char *name, int src, size_t len, int excl);
/* Copies the first len bytes of src to dst's position: copy_file_range(2), which makes a reflink
 * or copies inside the kernel where the filesystems allow, else (EXDEV, EOPNOTSUPP, ENOSYS,
 * EINVAL) pread/write. -EIO when src holds fewer than len bytes. */
int file_copy_fd(int src, int dst, size_t len);
/* Creates dirfd/name for writing, new and empty: removes what was left there (a crash, or a
 * planted symlink) and opens with O_EXCL|O_NOFOLLOW. A descriptor or a negative errno. */
int file_create_fresh(int dirfd, const char *name);
/* Ends the writing of fd, opened by file_create_fresh(dirfd, tmp): closes it and, when err is
 * 0, renames tmp over name (no fsync); on any error removes tmp. Returns the error. */
int file_install_fresh(int fd, int dirfd, const char *tmp, const char *name, int err);
/* Writes all of p, retrying short writes and EINTR. */
int file_write_all(int fd, const void *p, size_t len);

#endif

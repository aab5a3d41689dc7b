/* fuse_io: the /dev/fuse channel under libfuse (fuse_session_custom_io). Every request and reply
 * passes through unchanged but for what libfuse 3.14 cannot do itself:
 * - the INIT reply asks for FUSE_HANDLE_KILLPRIV_V2 when the kernel offers it. The kernel then
 *   stops asking for the security.capability xattr before every write(2) (one round trip per
 *   write: fio 4 KiB random write sent 16,384 GETXATTRs for 16,384 writes) and before the
 *   chown of a file refreshes its attributes, and leaves the setuid/setgid kills to us;
 * - those kills, which libfuse drops from the requests (a write's FUSE_WRITE_KILL_SUIDGID, a
 *   truncation's FATTR_KILL_SUIDGID, an open's FUSE_OPEN_KILL_SUIDGID), are applied before the
 *   request runs; a chown's is fs_setattr's own.
 * Must never change a request, nor a reply other than the INIT reply's flags, nor do more in
 * the core than clear setuid/setgid bits. */
#include "fs/fuse_ops.h"
#include "fs/core.h"
#include <errno.h>
#include <linux/fuse.h>
#include <stddef.h>
#include <string.h>
#include <sys/uio.h>
#include <syslog.h>
#include <unistd.h>
#include "lib/log.h"

#define HDR sizeof(struct fuse_in_header)

/* Copies the n bytes at off of a request's body (after its header) into out; whether it has
 * them. */
static bool body(const char *req, size_t len, size_t off, void *out, size_t n)
{
	if (len < HDR + off + n)
		return false;
	memcpy(out, req + HDR + off, n);
	return true;
}

/* Whether request req (len bytes) asks us to clear setuid/setgid before it runs. */
static bool asks_kill(const struct fuse_in_header *h, const char *req, size_t len)
{
	uint32_t v;
	switch (h->opcode) {
	case FUSE_WRITE:
		return body(req, len, offsetof(struct fuse_write_in, write_flags), &v, 4) &&
		       v & FUSE_WRITE_KILL_SUIDGID;
	case FUSE_SETATTR:
		return body(req, len, offsetof(struct fuse_setattr_in, valid), &v, 4) &&
		       (v & (FATTR_KILL_SUIDGID | FATTR_SIZE)) == (FATTR_KILL_SUIDGID | FATTR_SIZE);
	case FUSE_OPEN:
		return body(req, len, offsetof(struct fuse_open_in, open_flags), &v, 4) &&
		       v & FUSE_OPEN_KILL_SUIDGID;
	default:
		return false;
	}
}

/* Looks at one request before libfuse runs it. */
static void inspect(struct fuse_ops_session *s, const char *req, size_t len)
{
	struct fuse_in_header h;
	uint32_t flags;
	if (len < HDR)
		return;
	memcpy(&h, req, HDR);
	if (h.opcode == FUSE_INIT) {
		s->killpriv_offered =
			body(req, len, offsetof(struct fuse_init_in, flags), &flags, 4) &&
			flags & FUSE_HANDLE_KILLPRIV_V2;
		s->init_unique = h.unique;
		return;
	}
	if (!asks_kill(&h, req, len) || !s->fs || fs_kill_suidgid(s->fs, h.nodeid) <= 0)
		return;
	/* A write's and an open's reply carry no attributes: the kernel must not keep (and
	 * exec by) the mode it has cached. A SETATTR's reply carries the new mode. */
	if (h.opcode != FUSE_SETATTR && s->se)
		fuse_lowlevel_notify_inval_inode(s->se, h.nodeid, -1, 0);
}

static ssize_t io_read(int fd, void *buf, size_t len, void *userdata)
{
	ssize_t r = read(fd, buf, len);
	if (r > 0) {
		int e = errno; /* libfuse reads errno after every read */
		inspect(userdata, buf, (size_t)r);
		errno = e;
	}
	return r;
}

/* The INIT reply with FUSE_HANDLE_KILLPRIV_V2 added to its flags, in init (cap bytes), when iov
 * is that reply and the kernel offered the flag; the reply's length, or 0 to send iov as it is. */
static size_t init_reply(struct fuse_ops_session *s, const struct iovec *iov, int count, char *init,
			 size_t cap)
{
	struct fuse_out_header o;
	if (!s->init_unique || count != 2 || iov[0].iov_len != sizeof(o))
		return 0;
	memcpy(&o, iov[0].iov_base, sizeof(o));
	size_t n = iov[1].iov_len, at = offsetof(struct fuse_init_out, flags);
	if (o.unique != s->init_unique || o.error != 0 || n < at + 4 || n > cap)
		return 0;
	s->init_unique = 0;
	if (!s->killpriv_offered)
		return 0;
	uint32_t flags;
	memcpy(init, iov[1].iov_base, n);
	memcpy(&flags, init + at, 4);
	flags |= FUSE_HANDLE_KILLPRIV_V2;
	memcpy(init + at, &flags, 4);
	s->killpriv_v2 = true;
	return n;
}

static ssize_t io_writev(int fd, struct iovec *iov, int count, void *userdata)
{
	char init[256];
	size_t n = init_reply(userdata, iov, count, init, sizeof(init));
	if (!n)
		return writev(fd, iov, count);
	struct iovec v[2] = {iov[0], {.iov_base = init, .iov_len = n}};
	log_msg(LOG_INFO, "kernel: setuid/setgid kills are ours (FUSE_HANDLE_KILLPRIV_V2)");
	return writev(fd, v, 2);
}

const struct fuse_custom_io fuse_io_channel = {.read = io_read, .writev = io_writev};

int fuse_io_attach(struct fuse_ops_session *s, struct fuse_session *se)
{
	s->se = se;
	return fuse_session_custom_io(se, &fuse_io_channel, fuse_session_fd(se));
}

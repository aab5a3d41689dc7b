/* fuse_ops: the FUSE low-level operation table that maps kernel requests onto fs/core.h.
 * Holds no filesystem logic of its own. */
#ifndef COFFER_FUSE_OPS_H
#define COFFER_FUSE_OPS_H
#define FUSE_USE_VERSION 34
#include <fuse_lowlevel.h>

#include <stdbool.h>

struct fs;

/* What a session serves and how: pass it as fuse_session_new's userdata; it must outlive the
 * session. */
struct fuse_ops_session {
	struct fs *fs;
	double cache_timeout; /* seconds the kernel keeps attributes and entries */
	bool keep_cache;      /* the kernel keeps file pages across opens (and caches writes) */
	/* The channel (fs/fuse_io.c): */
	struct fuse_session *se; /* for attribute invalidations after a setuid kill */
	uint64_t init_unique;	 /* the kernel's INIT request, until it is answered */
	bool killpriv_offered;	 /* the kernel offered FUSE_HANDLE_KILLPRIV_V2 */
	bool killpriv_v2;	 /* it was asked for: suid/sgid kills are ours */
};

/* follow: short kernel cache lifetimes, for read-only mounts that follow newer roots. */
void fuse_ops_session_init(struct fuse_ops_session *s, struct fs *fs, bool follow);

extern const struct fuse_lowlevel_ops coffer_fuse_ops;

/* Puts fs/fuse_io.c's channel under the mounted session se, whose userdata is s: call after
 * fuse_session_mount, before the loop. 0 or a negative errno (the session then stays on
 * libfuse's own channel, which works without FUSE_HANDLE_KILLPRIV_V2). */
int fuse_io_attach(struct fuse_ops_session *s, struct fuse_session *se);
/* The channel's two calls, for tests: the fd is /dev/fuse's (or a pipe standing in for it). */
extern const struct fuse_custom_io fuse_io_channel;

#endif

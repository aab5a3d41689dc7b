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
};

/* follow: short kernel cache lifetimes, for read-only mounts that follow newer roots. */
void fuse_ops_session_init(struct fuse_ops_session *s, struct fs *fs, bool follow);

extern const struct fuse_lowlevel_ops coffer_fuse_ops;

#endif

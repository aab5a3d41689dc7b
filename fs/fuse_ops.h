/* fuse_ops: the FUSE low-level operation table that maps kernel requests onto fs/core.h.
 * Holds no filesystem logic of its own. */
#ifndef COFFER_FUSE_OPS_H
#define COFFER_FUSE_OPS_H
#define FUSE_USE_VERSION 34
#include <fuse_lowlevel.h>

extern const struct fuse_lowlevel_ops coffer_fuse_ops;
/* Short kernel cache lifetimes, for read-only mounts that follow newer roots. */
void fuse_ops_follow_mode(void);

#endif

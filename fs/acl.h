/* acl: POSIX ACL xattr values and the mode (see acl.c). */
#ifndef COFFER_ACL_H
#define COFFER_ACL_H
#include <stddef.h>
#include <stdint.h>

#define ACL_ACCESS  "system.posix_acl_access"
#define ACL_DEFAULT "system.posix_acl_default"

/* Sets the permission bits of *mode from an access ACL; 1 when the ACL is just the mode,
 * 0 when it says more, -EINVAL when it is malformed. */
int acl_to_mode(const void *val, size_t len, uint32_t *mode);
/* Rewrites an access ACL's owner, group-class and other permissions after a chmod. */
void acl_chmod(void *val, size_t len, uint32_t mode);
/* Narrows *mode by a default ACL and returns the new node's access ACL (malloc'ed, same length). */
int acl_inherit(const void *dflt, size_t len, uint32_t *mode, void **access);

#endif

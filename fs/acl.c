/* acl: POSIX ACLs in their xattr form (system.posix_acl_access / _default), as FUSE_CAP_POSIX_ACL
 * asks of the filesystem: keep the mode and the access ACL in step, and hand a directory's default
 * ACL to the nodes made in it. The kernel does the permission checks.
 * Must never store an ACL it could not parse, or widen a mode beyond what the caller asked for. */
#include "fs/fs.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "fs/acl.h"

#define ACL_VERSION   2u
#define TAG_USER_OBJ  0x01
#define TAG_USER      0x02
#define TAG_GROUP_OBJ 0x04
#define TAG_GROUP     0x08
#define TAG_MASK      0x10
#define TAG_OTHER     0x20
#define ENTRY_BYTES   8u

static uint16_t get16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static void put16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

/* Checks the layout; returns the entry count or -EINVAL. */
static int entries(const unsigned char *v, size_t len)
{
	if (len < 4 || (len - 4) % ENTRY_BYTES ||
	    (v[0] | v[1] << 8 | v[2] << 16 | (uint32_t)v[3] << 24) != ACL_VERSION)
		return -EINVAL;
	int n = (int)((len - 4) / ENTRY_BYTES), seen = 0;
	for (int k = 0; k < n; k++) {
		uint16_t tag = get16(v + 4 + k * ENTRY_BYTES),
			 perm = get16(v + 6 + k * ENTRY_BYTES);
		if (perm & ~7u)
			return -EINVAL;
		if (tag != TAG_USER && tag != TAG_GROUP) {
			if (seen & tag ||
			    !(tag & (TAG_USER_OBJ | TAG_GROUP_OBJ | TAG_MASK | TAG_OTHER)))
				return -EINVAL;
			seen |= tag;
		}
	}
	return (seen & (TAG_USER_OBJ | TAG_GROUP_OBJ | TAG_OTHER)) ==
			       (TAG_USER_OBJ | TAG_GROUP_OBJ | TAG_OTHER)
		       ? n
		       : -EINVAL;
}

int acl_to_mode(const void *val, size_t len, uint32_t *mode)
{
	const unsigned char *v = val;
	int n = entries(v, len);
	if (n < 0)
		return n;
	uint32_t m = *mode & ~(uint32_t)0777, group = 0, mask = 8;
	for (int k = 0; k < n; k++) {
		uint16_t tag = get16(v + 4 + k * ENTRY_BYTES),
			 perm = get16(v + 6 + k * ENTRY_BYTES);
		if (tag == TAG_USER_OBJ)
			m |= (uint32_t)perm << 6;
		else if (tag == TAG_GROUP_OBJ)
			group = perm;
		else if (tag == TAG_MASK)
			mask = perm;
		else if (tag == TAG_OTHER)
			m |= perm;
	}
	*mode = m | (mask < 8 ? mask : group) << 3;
	return n == 3; /* 1: the ACL says no more than the mode */
}

void acl_chmod(void *val, size_t len, uint32_t mode)
{
	unsigned char *v = val;
	int n = entries(v, len);
	bool has_mask = false;
	for (int k = 0; k < n; k++)
		has_mask |= get16(v + 4 + k * ENTRY_BYTES) == TAG_MASK;
	for (int k = 0; k < n; k++) {
		unsigned char *e = v + 4 + k * ENTRY_BYTES;
		uint16_t tag = get16(e);
		if (tag == TAG_USER_OBJ)
			put16(e + 2, (mode >> 6) & 7);
		else if (tag == TAG_OTHER)
			put16(e + 2, mode & 7);
		else if (tag == (has_mask ? TAG_MASK : TAG_GROUP_OBJ))
			put16(e + 2, (mode >> 3) & 7);
	}
}

/* The access ACL a new node gets from its directory's default ACL (posix_acl_create_masq). */
int acl_inherit(const void *dflt, size_t len, uint32_t *mode, void **access)
{
	int n = entries(dflt, len);
	if (n < 0)
		return n;
	unsigned char *v = malloc(len);
	if (!v)
		return -ENOMEM;
	memcpy(v, dflt, len);
	uint32_t m = *mode;
	unsigned char *group = NULL, *mask = NULL;
	for (int k = 0; k < n; k++) {
		unsigned char *e = v + 4 + k * ENTRY_BYTES;
		uint16_t tag = get16(e), perm = get16(e + 2);
		if (tag == TAG_USER_OBJ) {
			perm &= (m >> 6) & 7;
			m &= (uint32_t)perm << 6 | ~(uint32_t)0700;
		} else if (tag == TAG_OTHER) {
			perm &= m & 7;
			m &= perm | ~(uint32_t)07;
		} else if (tag == TAG_GROUP_OBJ) {
			group = e;
		} else if (tag == TAG_MASK) {
			mask = e;
		}
		put16(e + 2, perm);
	}
	unsigned char *g = mask ? mask : group;
	uint16_t gp = get16(g + 2) & ((m >> 3) & 7);
	put16(g + 2, gp);
	m &= (uint32_t)gp << 3 | ~(uint32_t)070;
	*mode = m;
	*access = v;
	return 0;
}

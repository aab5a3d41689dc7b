/* Proves: ACL xattr values set the mode as the kernel would (the mask sets the group bits), chmod
 * rewrites the ACL, default ACLs narrow a new node's mode, and malformed ACLs are refused. */
#include "tests/unit/unit.h"
#include <errno.h>
#include <string.h>
#include "fs/acl.h"

static size_t acl(unsigned char *out, const unsigned (*e)[3], int n)
{
	out[0] = 2, out[1] = out[2] = out[3] = 0;
	for (int k = 0; k < n; k++) {
		unsigned char *p = out + 4 + 8 * k;
		p[0] = (unsigned char)e[k][0], p[1] = 0, p[2] = (unsigned char)e[k][1], p[3] = 0;
		p[4] = (unsigned char)e[k][2], p[5] = p[6] = p[7] = 0;
	}
	return 4 + 8 * (size_t)n;
}

int main(void)
{
	unit_setup();
	unsigned char v[64];
	const unsigned plain[][3] = {{1, 6, 0}, {4, 4, 0}, {0x20, 4, 0}};
	const unsigned full[][3] = {{1, 6, 0},
				    {2, 7, 65534},
				    {4, 4, 0},
				    {0x10, 7, 0},
				    {0x20, 0, 0}};
	uint32_t mode = 0100000;
	CHECK(acl_to_mode(v, acl(v, plain, 3), &mode) == 1 && mode == 0100644);
	size_t len = acl(v, full, 5);
	CHECK(acl_to_mode(v, len, &mode) == 0 && mode == 0100670);
	acl_chmod(v, len, 0100600);
	CHECK(acl_to_mode(v, len, &mode) == 0 && mode == 0100600);
	CHECK(v[4 + 8 * 3 + 2] == 0); /* the mask now grants nothing */
	mode = 0100666;
	void *access = NULL;
	acl(v, full, 5);
	CHECK(acl_inherit(v, len, &mode, &access) == 0 && mode == 0100660);
	uint32_t check = 0100000;
	CHECK(access && acl_to_mode(access, len, &check) == 0 && check == 0100660);
	free(access);
	const unsigned dup[][3] = {{1, 6, 0}, {1, 6, 0}, {4, 4, 0}, {0x20, 4, 0}};
	CHECK(acl_to_mode(v, acl(v, dup, 4), &mode) == -EINVAL);
	const unsigned noother[][3] = {{1, 6, 0}, {4, 4, 0}};
	CHECK(acl_to_mode(v, acl(v, noother, 2), &mode) == -EINVAL);
	CHECK(acl_to_mode(v, 7, &mode) == -EINVAL);
	return unit_finish("test_acl");
}

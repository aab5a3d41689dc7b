/* Proves: a vault config unlocks with its passphrase only; any change to a parameter, the id,
 * the salt or the wrapped key is refused; malformed text is reported as damaged. */
#include "tests/unit/unit.h"
#include <errno.h>
#include <string.h>
#include "fs/vault.h"

static struct buf make(void)
{
	struct buf b = {0};
	struct kdf_params p;
	kdf_level("min", &p);
	CHECK(vault_config_create(&b, "secret", 6, &p) == 0);
	return b;
}

static int unlock(struct buf *b, const char *pass)
{
	struct vault v;
	int err = vault_unlock(b->data, b->len, pass, strlen(pass), &v);
	vault_release(&v);
	return err;
}

int main(void)
{
	unit_setup();
	struct buf b = make();
	struct vault v;
	CHECK(vault_config_parse(b.data, b.len, &v) == 0 && strlen(v.idhex) == 32);
	CHECK(unlock(&b, "secret") == 0);
	CHECK(unlock(&b, "Secret") == -EACCES);
	/* change one hex digit in each line after the first: the unlock must fail */
	int refused = 0, lines = 0;
	for (size_t k = 0; k < b.len; k++) {
		if (b.data[k] != '\n' || k + 1 >= b.len)
			continue;
		char *sp = memchr(b.data + k + 1, ' ', b.len - k - 1);
		if (!sp)
			continue;
		lines++;
		char save = sp[1];
		sp[1] = save == '1' ? '2' : '1';
		refused += unlock(&b, "secret") != 0;
		sp[1] = save;
	}
	CHECK(lines == 4 && refused == 4);
	CHECK(vault_config_parse(b.data, b.len - 3, &v) == -EINVAL);
	struct buf extra = {0};
	buf_put(&extra, b.data, b.len);
	buf_put(&extra, "more 1\n", 7);
	CHECK(vault_config_parse(extra.data, extra.len, &v) == -EINVAL);
	b.data[13] = '2'; /* "coffer-vault 2" */
	CHECK(vault_config_parse(b.data, b.len, &v) == -EPROTONOSUPPORT);
	CHECK(vault_config_parse((const unsigned char *)"garbage\n", 8, &v) == -EINVAL);
	buf_free(&extra);
	buf_free(&b);
	return unit_finish("test_vault");
}

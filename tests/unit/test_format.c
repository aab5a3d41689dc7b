/* Proves: the codecs of format/ write the bytes coffer-format(5) states (its examples decode and
 * encode back byte for byte; field offsets and sizes are where the page says); every decoder
 * round-trips what its encoder wrote, and refuses every truncation, a byte too many, oversized
 * counts and damaged fields with a negative errno, never a crash (run under ASan too). */
#include "tests/unit/unit.h"
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include "format/block.h"
#include "format/config.h"
#include "format/dirbucket.h"
#include "format/format.h"
#include "format/history.h"
#include "format/lease.h"
#include "format/meta.h"
#include "format/nametab.h"
#include "format/page.h"
#include "format/root.h"
#include "format/state.h"

#define MAN_PAGE "man/coffer-format.5"

static uint64_t le(const unsigned char *p, int n)
{
	uint64_t v = 0;
	for (int k = 0; k < n; k++)
		v |= (uint64_t)p[k] << (8 * k);
	return v;
}

typedef int (*decoder)(const unsigned char *b, size_t len);

/* Every strict prefix of a valid encoding and the encoding plus one byte must be refused; each is
 * passed in an allocation of exactly its size, so that ASan sees any read past the end. */
static bool refuses_truncations(decoder dec, const unsigned char *b, size_t len)
{
	bool ok = true;
	for (size_t n = 0; n <= len + 1; n++) {
		if (n == len)
			continue;
		unsigned char *copy = malloc(n ? n : 1);
		memcpy(copy, b, n < len ? n : len);
		if (n > len)
			copy[len] = 0;
		int err = dec(copy, n);
		if (err >= 0) {
			fprintf(stderr, "a decode of %zu of %zu bytes returned %d\n", n, len, err);
			ok = false;
		}
		free(copy);
	}
	return ok;
}

/* Random changes of a valid encoding: each decode returns 0 or a negative errno, never crashes. */
static bool survives_mutations(decoder dec, const unsigned char *b, size_t len, int rounds)
{
	unsigned char *copy = malloc(len);
	bool ok = true;
	for (int r = 0; r < rounds; r++) {
		memcpy(copy, b, len);
		for (int k = 0, n = 1 + (int)(random_u32() % 4); k < n; k++)
			copy[random_u32() % len] = (unsigned char)random_u32();
		int err = dec(copy, len);
		ok &= err == 0 || err == -EINVAL || err == -EPROTONOSUPPORT || err == -EBADMSG;
	}
	free(copy);
	return ok;
}

/* The text between the man page's lines ".\" begin NAME" and ".\" end" (its examples). */
static bool man_example(const char *name, struct buf *out)
{
	FILE *f = fopen(MAN_PAGE, "r");
	char line[512], begin[64];
	bool in = false, found = false;
	snprintf(begin, sizeof(begin), ".\\\" begin %s\n", name);
	while (f && fgets(line, sizeof(line), f)) {
		if (in && strcmp(line, ".\\\" end\n") == 0) {
			found = true;
			break;
		}
		if (in)
			buf_put(out, line, strlen(line));
		in = in || strcmp(line, begin) == 0;
	}
	if (f)
		fclose(f);
	return found && out->len > 0;
}

/* --- config --- */

static int dec_config(const unsigned char *b, size_t len)
{
	struct config c;
	return config_decode(b, len, &c);
}

static void config(void)
{
	struct config c = {.kdf = {.ops = 2, .mem = 67108864}}, d;
	for (int k = 0; k < VAULT_ID_BYTES; k++)
		c.id[k] = (uint8_t)(0x10 + k);
	memset(c.salt, 0xab, sizeof(c.salt));
	memset(c.wrapped, 0x5c, sizeof(c.wrapped));
	struct buf b = {0}, h = {0}, man = {0};
	config_encode(&c, &b);
	config_encode_header(&c, &h);
	CHECK(b.len == 15 + 36 + 26 + 38 + 149);
	CHECK(memcmp(b.data, "coffer-vault 1\nid 101112131415161718191a1b1c1d1e1f\n", 51) == 0);
	CHECK(memcmp(b.data + 51, "kdf argon2id13 2 67108864\nsalt abab", 35) == 0);
	CHECK(memcmp(b.data + h.len, "key 5c5c", 8) == 0 && b.data[b.len - 1] == '\n');
	CHECK(config_decode(b.data, b.len, &d) == 0 && d.header_len == h.len);
	CHECK(memcmp(d.id, c.id, sizeof(c.id)) == 0 && memcmp(d.salt, c.salt, sizeof(c.salt)) == 0);
	CHECK(memcmp(d.wrapped, c.wrapped, sizeof(c.wrapped)) == 0);
	CHECK(d.kdf.ops == 2 && d.kdf.mem == 67108864);
	CHECK(refuses_truncations(dec_config, b.data, b.len));
	CHECK(survives_mutations(dec_config, b.data, b.len, 3000));
	static const char *bad[] = {"coffer-vault 3\n", "coffer-vault 12\n"};
	for (size_t k = 0; k < 2; k++)
		CHECK(config_decode((const unsigned char *)bad[k], strlen(bad[k]), &d) ==
		      -EPROTONOSUPPORT);
	/* a sign, a space, an upper-case digit or an overflowing number is damage */
	static const char *edits[][2] = {{" 2 ", " +2 "},
					 {" 2 ", "  2 "},
					 {"id 10", "id 1A"},
					 {"67108864", "99999999999999999999"}};
	for (size_t k = 0; k < 4; k++) {
		struct buf e = {0};
		char *at = memmem(b.data, b.len, edits[k][0], strlen(edits[k][0]));
		size_t pre = (size_t)((unsigned char *)at - b.data), ol = strlen(edits[k][0]);
		buf_put(&e, b.data, pre);
		buf_put(&e, edits[k][1], strlen(edits[k][1]));
		buf_put(&e, at + ol, b.len - pre - ol);
		CHECK(config_decode(e.data, e.len, &d) == -EINVAL);
		buf_free(&e);
	}
	/* the man page's example decodes and encodes back to the same bytes */
	CHECK(man_example("config", &man));
	CHECK(config_decode(man.data, man.len, &d) == 0);
	struct buf again = {0};
	config_encode(&d, &again);
	CHECK(again.len == man.len && memcmp(again.data, man.data, man.len) == 0);
	buf_free(&again);
	buf_free(&man);
	buf_free(&h);
	buf_free(&b);
}

/* Version 2: a cipher line before the key line, in the AAD; the man page's example. */
static void config2(void)
{
	struct config c = {.version = 2, .cipher = CIPHER_AES256GCM, .kdf = {2, 67108864}}, d;
	memset(c.wrapped, 0x5c, sizeof(c.wrapped));
	struct buf b = {0}, h = {0}, man = {0};
	config_encode(&c, &b);
	config_encode_header(&c, &h);
	CHECK(memcmp(b.data, "coffer-vault 2\n", 15) == 0);
	CHECK(h.len == 15 + 36 + 26 + 38 + 17 &&
	      memcmp(h.data + h.len - 17, "cipher aes256gcm\n", 17) == 0);
	CHECK(config_decode(b.data, b.len, &d) == 0 && d.version == 2 &&
	      d.cipher == CIPHER_AES256GCM && d.header_len == h.len);
	CHECK(refuses_truncations(dec_config, b.data, b.len));
	CHECK(survives_mutations(dec_config, b.data, b.len, 3000));
	struct buf e = {0}; /* an unknown cipher is a format this version cannot read */
	buf_put(&e, b.data, h.len - 4);
	buf_put(&e, "xyz\n", 4);
	buf_put(&e, b.data + h.len, b.len - h.len);
	CHECK(config_decode(e.data, e.len, &d) == -EPROTONOSUPPORT);
	buf_free(&e); /* version 2 without its cipher line is damage */
	buf_put(&e, b.data, h.len - 17);
	buf_put(&e, b.data + h.len, b.len - h.len);
	CHECK(config_decode(e.data, e.len, &d) == -EINVAL);
	buf_free(&e); /* version 1 with a cipher line is damage */
	buf_put(&e, b.data, b.len);
	e.data[13] = '1';
	CHECK(config_decode(e.data, e.len, &d) == -EINVAL);
	buf_free(&e);
	CHECK(man_example("config2", &man));
	CHECK(config_decode(man.data, man.len, &d) == 0 && d.cipher == CIPHER_AES256GCM);
	struct buf again = {0};
	config_encode(&d, &again);
	CHECK(again.len == man.len && memcmp(again.data, man.data, man.len) == 0);
	buf_free(&again);
	buf_free(&man);
	buf_free(&h);
	buf_free(&b);
}

/* --- blocks and metadata sealing --- */

static void block(enum cipher cipher)
{
	struct aead_key key[1] = {{.cipher = cipher}};
	unsigned char plain[DATA_BLOCK], back[DATA_BLOCK], sealed[SEALED_BLOCK];
	struct oname n, m;
	uint8_t aad[BLOCK_AAD_BYTES];
	random_bytes(key->k, KEY_BYTES);
	random_bytes(plain, sizeof(plain));
	random_bytes(n.b, NAME_BYTES);
	m = n;
	m.b[0] ^= 1;
	CHECK(CHUNK_SIZE == 1048576 && SEALED_BLOCK == 4136 && BLOCK_AAD_BYTES == 24);
	block_aad(&n, 0x01020304, aad);
	CHECK(memcmp(aad, "CFBK", 4) == 0 && memcmp(aad + 4, n.b, 16) == 0 &&
	      le(aad + 20, 4) == 0x01020304);
	struct oname ex; /* the man page's example */
	for (int k = 0; k < NAME_BYTES; k++)
		ex.b[k] = (uint8_t)(k * 0x11);
	block_aad(&ex, 2, aad);
	static const uint8_t want[BLOCK_AAD_BYTES] = {0x43, 0x46, 0x42, 0x4b, 0x00, 0x11,
						      0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
						      0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd,
						      0xee, 0xff, 2,	0,    0,    0};
	CHECK(memcmp(aad, want, sizeof(want)) == 0);
	block_seal(key, &n, 7, plain, sealed);
	CHECK(block_open(key, &n, 7, sealed, back) == 0 && memcmp(back, plain, DATA_BLOCK) == 0);
	CHECK(block_open(key, &n, 8, sealed, back) == -EBADMSG);
	CHECK(block_open(key, &m, 7, sealed, back) == -EBADMSG);
	unsigned char
		direct[DATA_BLOCK]; /* the layout: nonce || ciphertext || tag, AAD as stated */
	block_aad(&n, 7, aad);
	CHECK(aead_open(direct, sealed, SEALED_BLOCK, aad, sizeof(aad), key) == 0);
	for (size_t at = 0; at < SEALED_BLOCK; at += 1021) { /* nonce, data, tag */
		sealed[at] ^= 0x20;
		CHECK(block_open(key, &n, 7, sealed, back) == -EBADMSG);
		sealed[at] ^= 0x20;
	}
	block_seal_prefilled(key, &n, 7, plain, sealed); /* the nonce already there */
	CHECK(block_open(key, &n, 7, sealed, back) == 0 && memcmp(back, plain, DATA_BLOCK) == 0);
}

static void meta(void)
{
	static const size_t in[][2] = {{0, 512},	 {512, 512},	    {513, 1024},
				       {65536, 65536},	 {65537, 131072},   {131072, 131072},
				       {131073, 196608}, {1000000, 1048576}};
	for (size_t k = 0; k < sizeof(in) / sizeof(in[0]); k++)
		CHECK(meta_bucket(in[k][0]) == in[k][1]);
	struct aead_key key[1] = {{.cipher = CIPHER_XCHACHA20}};
	random_bytes(key->k, KEY_BYTES);
	struct buf p = {0}, s = {0}, o = {0};
	buf_put(&p, "payload", 7);
	CHECK(meta_seal(key, "ad", 2, &p, &s) == 0 && s.len == 512 + SEAL_OVERHEAD);
	unsigned char raw[512];
	CHECK(aead_open(raw, s.data, s.len, "ad", 2, key) == 0);
	CHECK(le(raw, 4) == 7 && memcmp(raw + 4, "payload", 7) == 0 && raw[11] == 0 &&
	      raw[511] == 0);
	CHECK(meta_open(key, "ad", 2, s.data, s.len, &o) == 0 && o.len == 7 &&
	      memcmp(o.data, "payload", 7) == 0);
	buf_free(&o);
	CHECK(meta_open(key, "aD", 2, s.data, s.len, &o) == -EBADMSG);
	buf_free(&o);
	for (size_t n = 0; n < s.len; n += 37) {
		CHECK(meta_open(key, "ad", 2, s.data, n, &o) == -EBADMSG);
		buf_free(&o);
	}
	/* a length field past the plaintext, even when authentic, is refused */
	unsigned char lie[512 + SEAL_OVERHEAD];
	raw[0] = 0xfd;
	raw[1] = 0x01;
	aead_seal(lie, raw, 512, "ad", 2, key);
	CHECK(meta_open(key, "ad", 2, lie, sizeof(lie), &o) == -EBADMSG);
	buf_free(&o);
	buf_free(&p);
	buf_free(&s);
}

/* --- pages --- */

static int dec_page(const unsigned char *b, size_t len)
{
	struct page_plain *p = malloc(sizeof(*p));
	int err = page_decode(b, len, p);
	if (!err)
		page_plain_free(p);
	free(p);
	return err;
}

static struct page_xattr xa[] =
	{{.name = "user.a", .name_len = 6, .val = (const void *)"v", .len = 1},
	 {.name = "user.empty", .name_len = 10, .val = NULL, .len = 0}};
static struct page_chunk ch[2]; /* chunks 0 and 2 of a file; chunk 1 is a hole */
static struct page_dent de[] = {{.ino = 129, .name = "file", .len = 4, .type = DT_REG},
				{.ino = 130, .name = "link", .len = 4, .type = DT_LNK}};

/* Page 2: a directory, a file with a hole, a symlink and a FIFO. */
static void sample_page(struct page_plain *p)
{
	memset(p, 0, sizeof(*p));
	ch[0] = (struct page_chunk){.index = 0, .nblocks = 256};
	ch[1] = (struct page_chunk){.index = 2, .nblocks = 3};
	memset(ch[0].name.b, 0x11, NAME_BYTES);
	memset(ch[1].name.b, 0x22, NAME_BYTES);
	p->index = 2;
	p->count = 4;
	p->rec[0] = (struct page_record){.ino = 128,
					 .mode = S_IFDIR | 0755,
					 .nlink = 2,
					 .uid = 1000,
					 .gid = 100,
					 .size = 0,
					 .atime = {1, 2},
					 .mtime = {3, 4},
					 .ctime = {5, 999999999},
					 .dent = de,
					 .ndent = 2,
					 .xa = xa,
					 .nxa = 2};
	p->rec[1] = (struct page_record){.ino = 129,
					 .mode = S_IFREG | 0644,
					 .nlink = 1,
					 .size = 2 * CHUNK_SIZE + 5,
					 .ch = ch,
					 .nch = 2};
	p->rec[2] = (struct page_record){.ino = 130,
					 .mode = S_IFLNK | 0777,
					 .nlink = 1,
					 .target = "../x",
					 .target_len = 4};
	p->rec[3] = (struct page_record){.ino = 191,
					 .mode = S_IFIFO | 0600,
					 .nlink = 1,
					 .rdev = 0x0102};
}

static bool same_record(const struct page_record *a, const struct page_record *b)
{
	bool ok = a->ino == b->ino && a->mode == b->mode && a->uid == b->uid && a->gid == b->gid &&
		  a->nlink == b->nlink && a->size == b->size && a->rdev == b->rdev &&
		  a->ctime.tv_sec == b->ctime.tv_sec && a->ctime.tv_nsec == b->ctime.tv_nsec &&
		  a->nxa == b->nxa && a->nch == b->nch && a->ndent == b->ndent &&
		  a->target_len == b->target_len && a->split == b->split &&
		  a->nbuckets == b->nbuckets && a->nentries == b->nentries &&
		  a->ntables == b->ntables &&
		  (!a->ntables || !memcmp(a->tables, b->tables, a->ntables * sizeof(*a->tables)));
	for (uint32_t k = 0; ok && k < a->nxa; k++)
		ok = a->xa[k].name_len == b->xa[k].name_len && a->xa[k].len == b->xa[k].len &&
		     !memcmp(a->xa[k].name, b->xa[k].name, a->xa[k].name_len) &&
		     (!a->xa[k].len || !memcmp(a->xa[k].val, b->xa[k].val, a->xa[k].len));
	for (uint32_t k = 0; ok && k < a->nch; k++)
		ok = !memcmp(&a->ch[k], &b->ch[k], sizeof(a->ch[k]));
	for (uint32_t k = 0; ok && k < a->ndent; k++)
		ok = a->dent[k].ino == b->dent[k].ino && a->dent[k].type == b->dent[k].type &&
		     a->dent[k].len == b->dent[k].len &&
		     !memcmp(a->dent[k].name, b->dent[k].name, a->dent[k].len);
	return ok && (!a->target_len || !memcmp(a->target, b->target, a->target_len));
}

/* Encodes the sample with one change and decodes it. */
static int page_with(void (*change)(struct page_plain *p))
{
	struct page_plain p;
	struct buf b = {0};
	sample_page(&p);
	change(&p);
	page_encode(&p, &b);
	int err = dec_page(b.data, b.len);
	buf_free(&b);
	return err;
}

static void ch_count(struct page_plain *p)
{
	p->count = PAGE_INODES + 1;
}
static void ch_ino_out(struct page_plain *p)
{
	p->rec[3].ino = 192;
}
static void ch_ino_zero(struct page_plain *p)
{
	p->index = 0;
	for (int k = 0; k < 4; k++)
		p->rec[k].ino = k == 0 ? 0 : (uint64_t)k;
}
static void ch_nlink(struct page_plain *p)
{
	p->rec[2].nlink = 0;
}
static void ch_nsec(struct page_plain *p)
{
	p->rec[1].mtime.tv_nsec = 1000000000;
}
static void ch_slash(struct page_plain *p)
{
	de[1].name = "a/b\0";
	de[1].len = 3;
	(void)p;
}
static void ch_nul(struct page_plain *p)
{
	de[1].name = "a\0b";
	de[1].len = 3;
	(void)p;
}
static void ch_empty(struct page_plain *p)
{
	de[1].len = 0;
	(void)p;
}
static void ch_long_name(struct page_plain *p)
{
	static char n[256];
	memset(n, 'x', sizeof(n));
	de[1].name = n;
	de[1].len = 256;
	(void)p;
}
static void ch_too_many_chunks(struct page_plain *p)
{
	p->rec[1].size = 2 * CHUNK_SIZE;
}
static void ch_zero_name(struct page_plain *p)
{
	memset(ch[1].name.b, 0, NAME_BYTES);
	(void)p;
}
static void ch_empty_chunk(struct page_plain *p)
{
	ch[1].nblocks = 0;
	(void)p;
}
static void ch_big_chunk(struct page_plain *p)
{
	ch[1].nblocks = CHUNK_BLOCKS + 1;
	(void)p;
}
static void ch_same_index(struct page_plain *p)
{
	ch[1].index = 0;
	(void)p;
}
static void ch_long_target(struct page_plain *p)
{
	static char t[TARGET_MAX_BYTES + 1];
	memset(t, 't', sizeof(t));
	p->rec[2].target = t;
	p->rec[2].target_len = sizeof(t);
}
static void ch_version(struct page_plain *p)
{
	(void)p;
}

static void restore_sample(void)
{
	de[1] = (struct page_dent){.ino = 130, .name = "link", .len = 4, .type = DT_LNK};
}

/* A page whose header claims a count (at offset at) the bytes cannot hold: refused before any
 * allocation of that size. */
static void huge_count(size_t at)
{
	struct page_plain p;
	struct buf b = {0};
	sample_page(&p);
	page_encode(&p, &b);
	for (int k = 0; k < 4; k++)
		b.data[at + k] = 0xff;
	CHECK(dec_page(b.data, b.len) == -EINVAL);
	b.data[at] = 0x60; /* 60000: within any maximum, but more than the bytes left */
	b.data[at + 1] = 0xea;
	b.data[at + 2] = b.data[at + 3] = 0;
	CHECK(dec_page(b.data, b.len) == -EINVAL);
	buf_free(&b);
}

static void page(void)
{
	struct page_plain p, *d = malloc(sizeof(*d));
	struct buf b = {0};
	sample_page(&p);
	page_encode(&p, &b);
	/* header: "CFPG", u32 version, u64 page index, u32 record count; then the records */
	CHECK(memcmp(b.data, "CFPG", 4) == 0 && le(b.data + 4, 4) == 3 && le(b.data + 8, 8) == 2);
	CHECK(le(b.data + 16, 4) == 4 && page_record_count(b.data, b.len) == 4);
	const unsigned char *r = b.data + PAGE_HEADER_BYTES;
	CHECK(le(r, 8) == 128 && le(r + 8, 4) == (S_IFDIR | 0755) && le(r + 12, 4) == 1000);
	CHECK(le(r + 16, 4) == 100 && le(r + 20, 4) == 2 && le(r + 24, 8) == 0 &&
	      le(r + 32, 8) == 0);
	CHECK(le(r + 40, 8) == 1 && le(r + 48, 4) == 2 && le(r + 52, 8) == 3 && le(r + 60, 4) == 4);
	CHECK(le(r + 64, 8) == 5 && le(r + 72, 4) == 999999999);
	CHECK(le(r + 76, 4) == 2 && le(r + 80, 2) == 6 && memcmp(r + 82, "user.a", 6) == 0);
	CHECK(le(r + 88, 4) == 1 && r[92] == 'v' && le(r + 93, 2) == 10);
	r += 93 + 2 + 10 + 4;		/* the empty value */
	CHECK(r[0] == PAGE_DIR_INLINE); /* version 3: the directory's form */
	r++;
	CHECK(le(r, 4) == 2 && le(r + 4, 8) == 129 && r[12] == DT_REG && le(r + 13, 2) == 4);
	CHECK(memcmp(r + 15, "file", 4) == 0);
	CHECK(page_decode(b.data, b.len, d) == 0 && d->index == 2 && d->count == 4);
	for (int k = 0; k < 4; k++)
		CHECK(same_record(&p.rec[k], &d->rec[k]));
	struct buf again = {0};
	page_encode(d, &again);
	CHECK(again.len == b.len && memcmp(again.data, b.data, b.len) == 0);
	page_plain_free(d);
	buf_free(&again);
	CHECK(refuses_truncations(dec_page, b.data, b.len));
	CHECK(survives_mutations(dec_page, b.data, b.len, 5000));
	CHECK(page_record_count(b.data, PAGE_HEADER_BYTES - 1) == -EINVAL);
	b.data[4] = 4;
	CHECK(dec_page(b.data, b.len) == -EPROTONOSUPPORT); /* a newer coffer's */
	b.data[4] = 0;
	CHECK(dec_page(b.data, b.len) == -EINVAL);
	void (*bad[])(struct page_plain *) =
		{ch_count,     ch_ino_out,     ch_ino_zero,  ch_nlink,	    ch_nsec,
		 ch_slash,     ch_nul,	       ch_empty,     ch_long_name,  ch_too_many_chunks,
		 ch_zero_name, ch_empty_chunk, ch_big_chunk, ch_same_index, ch_long_target};
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		int err = page_with(bad[k]);
		if (err != -EINVAL)
			fprintf(stderr, "page change %zu decoded: %d\n", k, err);
		CHECK(err == -EINVAL);
		restore_sample();
	}
	CHECK(page_with(ch_version) == 0);
	huge_count(PAGE_HEADER_BYTES + 76);		     /* the directory's xattr count */
	huge_count(PAGE_HEADER_BYTES + 93 + 2 + 10 + 4 + 1); /* its entry count */
	/* an empty page: no record, nothing to store */
	struct page_plain e = {.index = 9};
	struct buf eb = {0};
	page_encode(&e, &eb);
	CHECK(eb.len == PAGE_HEADER_BYTES && page_record_count(eb.data, eb.len) == 0);
	CHECK(dec_page(eb.data, eb.len) == 0);
	buf_free(&eb);
	buf_free(&b);
	free(d);
}

/* One regular file record (inode 129 of page 2, no xattr) of size bytes, in version 1 with the
 * chunk references refs[0..n) (nblocks 0: the zero name, a hole) or in the current version. */
static void file_page(struct buf *b, uint32_t version, uint64_t size, const uint32_t *nblocks,
		      uint32_t n)
{
	buf_put(b, "CFPG", 4);
	buf_u32(b, version);
	buf_u64(b, 2);
	buf_u32(b, 1);
	buf_u64(b, 129);
	buf_u32(b, S_IFREG | 0600);
	buf_u32(b, 0);
	buf_u32(b, 0);
	buf_u32(b, 1);
	buf_u64(b, size);
	buf_u64(b, 0);
	for (int k = 0; k < 3; k++) {
		buf_u64(b, 0);
		buf_u32(b, 0);
	}
	buf_u32(b, 0);
	buf_u32(b, n);
	for (uint32_t k = 0; k < n; k++) {
		unsigned char name[NAME_BYTES];
		memset(name, nblocks[k] ? 0x30 + (int)k : 0, NAME_BYTES);
		buf_put(b, name, NAME_BYTES);
		buf_u32(b, nblocks[k]);
	}
}

/* Version 1 pages (a reference per chunk, holes as the zero name with nblocks 0) still decode,
 * holes left out, and encode again in the current version; their old rules still hold. */
static void page_v1(void)
{
	const uint32_t nb[] = {0, 5, 0, 0, 256};
	struct buf b = {0}, again = {0};
	file_page(&b, 1, 4 * CHUNK_SIZE + 1, nb, 5);
	struct page_plain *d = malloc(sizeof(*d)), *e = malloc(sizeof(*e));
	CHECK(page_decode(b.data, b.len, d) == 0 && d->count == 1 && d->rec[0].nch == 2);
	CHECK(d->rec[0].ch[0].index == 1 && d->rec[0].ch[0].nblocks == 5 &&
	      d->rec[0].ch[0].name.b[0] == 0x31);
	CHECK(d->rec[0].ch[1].index == 4 && d->rec[0].ch[1].nblocks == 256 &&
	      d->rec[0].ch[1].name.b[15] == 0x34);
	CHECK(refuses_truncations(dec_page, b.data, b.len));
	CHECK(survives_mutations(dec_page, b.data, b.len, 3000));
	page_encode(d, &again);
	CHECK(le(again.data + 4, 4) == PAGE_VERSION && again.len < b.len);
	CHECK(page_decode(again.data, again.len, e) == 0 && same_record(&d->rec[0], &e->rec[0]));
	page_plain_free(d);
	page_plain_free(e);
	buf_free(&again);
	buf_free(&b);
	file_page(&b, 1, 4 * CHUNK_SIZE, nb, 5); /* one chunk past the size's span */
	CHECK(dec_page(b.data, b.len) == -EINVAL);
	buf_free(&b);
	file_page(&b, 1, 4 * CHUNK_SIZE + 1, nb, 5);
	memset(b.data + b.len - 4, 0, 4); /* a name with nblocks 0 */
	CHECK(dec_page(b.data, b.len) == -EINVAL);
	memset(b.data + b.len - 4 - NAME_BYTES, 0, NAME_BYTES + 4);
	b.data[b.len - 4] = 1; /* the zero name with nblocks 1 */
	CHECK(dec_page(b.data, b.len) == -EINVAL);
	buf_free(&b);
	free(d);
	free(e);
}

/* The current version: a file's chunks as runs, holes taking no byte, so that one byte at 2^50
 * costs one reference; every run rule is enforced on the bytes. */
static void page_runs(void)
{
	struct page_chunk far[3] = {{.index = 0, .nblocks = 256},
				    {.index = 1, .nblocks = 1},
				    {.index = 1u << 30, .nblocks = 1}};
	for (int k = 0; k < 3; k++)
		memset(far[k].name.b, 0x41 + k, NAME_BYTES);
	struct page_plain p = {.index = 2, .count = 1}, *d = malloc(sizeof(*d));
	p.rec[0] = (struct page_record){.ino = 129,
					.mode = S_IFREG | 0600,
					.nlink = 1,
					.size = (1ull << 50) + 1,
					.ch = far,
					.nch = 3};
	struct buf b = {0};
	page_encode(&p, &b);
	const size_t ro = PAGE_HEADER_BYTES + 80; /* the body, after the xattr count */
	const unsigned char *r = b.data + ro;
	CHECK(b.len == ro + 4 + 2 * 8 + 3 * 20);
	CHECK(le(r, 4) == 2 && le(r + 4, 4) == 0 && le(r + 8, 4) == 2 && r[12] == 0x41);
	CHECK(le(r + 28, 4) == 256 && r[32] == 0x42 && le(r + 48, 4) == 1);
	CHECK(le(r + 52, 4) == 1u << 30 && le(r + 56, 4) == 1 && r[60] == 0x43 &&
	      le(r + 76, 4) == 1);
	CHECK(page_decode(b.data, b.len, d) == 0 && same_record(&p.rec[0], &d->rec[0]));
	page_plain_free(d);
	CHECK(refuses_truncations(dec_page, b.data, b.len));
	CHECK(survives_mutations(dec_page, b.data, b.len, 3000));
	/* run 2 starting where run 1 ends (not merged), inside it, at 0, or past the span */
	const uint32_t bad_first[] = {2, 1, 0, (1u << 30) + 1, UINT32_MAX};
	for (size_t k = 0; k < sizeof(bad_first) / sizeof(bad_first[0]); k++) {
		unsigned char *at = b.data + ro + 52;
		for (int j = 0; j < 4; j++)
			at[j] = (unsigned char)(bad_first[k] >> (8 * j));
		CHECK(dec_page(b.data, b.len) == -EINVAL);
	}
	buf_free(&b);
	page_encode(&p, &b);
	unsigned char *len1 = b.data + ro + 8;
	const uint32_t bad_len[] = {0, 3, 60000, UINT32_MAX};
	for (size_t k = 0; k < sizeof(bad_len) / sizeof(bad_len[0]); k++) {
		for (int j = 0; j < 4; j++)
			len1[j] = (unsigned char)(bad_len[k] >> (8 * j));
		CHECK(dec_page(b.data, b.len) == -EINVAL);
	}
	buf_free(&b);
	page_encode(&p, &b);
	const uint32_t bad_runs[] = {0, 1, 3, 60000, UINT32_MAX}; /* the run count */
	for (size_t k = 0; k < sizeof(bad_runs) / sizeof(bad_runs[0]); k++) {
		for (int j = 0; j < 4; j++)
			b.data[ro + j] = (unsigned char)(bad_runs[k] >> (8 * j));
		CHECK(dec_page(b.data, b.len) == -EINVAL);
	}
	buf_free(&b);
	/* a file of no data: no run */
	p.rec[0].nch = 0;
	page_encode(&p, &b);
	CHECK(b.len == PAGE_HEADER_BYTES + 84 && le(b.data + PAGE_HEADER_BYTES + 80, 4) == 0);
	CHECK(dec_page(b.data, b.len) == 0);
	buf_free(&b);
	free(d);
}

/* --- roots --- */

static int dec_root(const unsigned char *b, size_t len)
{
	struct root_plain r;
	int err = root_decode(b, len, &r);
	if (!err)
		root_plain_free(&r);
	return err;
}

/* Version 2 (pages inline), as a root decoded from version 2 re-encodes. */
static void root(void)
{
	struct oname names[3] = {0};
	memset(names[0].b, 0xaa, NAME_BYTES);
	memset(names[2].b, 0xcc, NAME_BYTES);
	struct root_plain r = {.gen = 42,
			       .time_ns = 1700000000123456789,
			       .next_ino = 300,
			       .live_inodes = 7,
			       .live_bytes = 123456,
			       .npages = 3,
			       .pages = names,
			       .version = ROOT_VERSION_2},
			  d;
	struct buf b = {0};
	root_encode(&r, &b);
	CHECK(b.len == ROOT_HEADER_BYTES + 3 * NAME_BYTES + 56 && ROOT_HEADER_BYTES == 64);
	CHECK(memcmp(b.data, "CFRT", 4) == 0 && le(b.data + 4, 4) == 2 && le(b.data + 8, 8) == 42);
	CHECK(le(b.data + 16, 8) == 1700000000123456789 && le(b.data + 24, 8) == 300);
	CHECK(le(b.data + 32, 8) == 7 && le(b.data + 40, 8) == 123456);
	CHECK(le(b.data + 48, 4) == 4096 && le(b.data + 52, 4) == 256 && le(b.data + 56, 4) == 64);
	CHECK(le(b.data + 60, 4) == 3 && b.data[64] == 0xaa && b.data[80] == 0 &&
	      b.data[96] == 0xcc);
	CHECK(root_decode(b.data, b.len, &d) == 0 && d.gen == 42 && d.next_ino == 300 &&
	      d.time_ns == r.time_ns && d.live_inodes == 7 && d.live_bytes == 123456 &&
	      d.npages == 3 && memcmp(d.pages, names, sizeof(names)) == 0);
	root_plain_free(&d);
	CHECK(refuses_truncations(dec_root, b.data, b.len));
	CHECK(survives_mutations(dec_root, b.data, b.len, 3000));
	for (size_t at = 48; at < 60; at += 4) { /* other format parameters */
		b.data[at] ^= 1;
		CHECK(dec_root(b.data, b.len) == -EINVAL);
		b.data[at] ^= 1;
	}
	b.data[63] = 0x10; /* a page count the bytes do not hold */
	CHECK(dec_root(b.data, b.len) == -EINVAL);
	b.data[63] = 0;
	/* version 1: no chain section, read as "parent unknown" */
	b.data[4] = 1;
	CHECK(dec_root(b.data, b.len) == -EINVAL);
	CHECK(root_decode(b.data, b.len - 56, &d) == 0 && d.version == 1 && d.npages == 3 &&
	      link_is_zero(&d.chain.parent) && d.chain.nsegs == 0 && d.ntables == 0);
	struct buf again = {0}; /* re-encoded (a re-sealing): version 2, the pages inline */
	root_encode(&d, &again);
	CHECK(again.len == b.len && le(again.data + 4, 4) == 2 &&
	      memcmp(again.data + 8, b.data + 8, b.len - 8) == 0);
	buf_free(&again);
	root_plain_free(&d);
	b.data[4] = 4; /* a later version: a newer coffer's, not damage */
	CHECK(dec_root(b.data, b.len) == -EPROTONOSUPPORT);
	b.data[0] = 'X';
	CHECK(dec_root(b.data, b.len) == -EINVAL);
	b.data[0] = 'C';
	b.data[4] = 0;
	CHECK(dec_root(b.data, b.len) == -EINVAL);
	b.data[4] = 2;
	/* more segments than 2^63 would need a 65th level link: refused, nothing written past
	 * the 64 levels (ASan sees it) */
	struct buf big = {0};
	buf_put(&big, b.data, ROOT_HEADER_BYTES + 3 * NAME_BYTES);
	size_t c = big.len;
	for (size_t k = 0; k < 56 + 65 * ROOT_LINK_BYTES; k++)
		buf_u8(&big, 0);
	memset(big.data + c + 40, 0xff, 8); /* nsegs = 2^64 - 1 */
	big.data[c + 49] = 65;
	CHECK(!big.err && dec_root(big.data, big.len) == -EINVAL);
	buf_free(&big);
	/* sealed: AAD "CFRT" || vault id; another vault's root is refused */
	struct aead_key key[1] = {{.cipher = CIPHER_XCHACHA20}};
	uint8_t vid[VAULT_ID_BYTES] = {1, 2, 3}, other[VAULT_ID_BYTES] = {1, 2, 4},
		aad[ROOT_AAD_BYTES];
	random_bytes(key->k, KEY_BYTES);
	root_aad(vid, aad);
	CHECK(memcmp(aad, "CFRT", 4) == 0 && memcmp(aad + 4, vid, 16) == 0);
	struct buf s = {0};
	CHECK(meta_seal(key, aad, sizeof(aad), &b, &s) == 0 && s.len == 512 + SEAL_OVERHEAD);
	CHECK(root_unseal(key, vid, s.data, s.len, &d) == 0 && d.gen == 42);
	root_plain_free(&d);
	CHECK(root_unseal(key, other, s.data, s.len, &d) == -EBADMSG);
	CHECK(root_unseal(key, vid, s.data, s.len - 1, &d) == -EBADMSG);
	buf_free(&s);
	b.data[4] = 4; /* authenticated, of a later version: said as such */
	CHECK(meta_seal(key, aad, sizeof(aad), &b, &s) == 0);
	CHECK(root_unseal(key, vid, s.data, s.len, &d) == -EPROTONOSUPPORT);
	buf_free(&s);
	buf_free(&b);
}

/* A root with a parent, a tail of 2 and 3 segments (levels 0..2): every field round-trips. */
static void root_chain(void)
{
	struct root_plain r = {.gen = 50, .npages = 0, .version = ROOT_VERSION_2}, d;
	r.chain.parent.gen = 49;
	memset(r.chain.parent.hash, 0x49, ROOT_HASH_BYTES);
	r.chain.nsegs = 3;
	r.chain.ntail = 2;
	r.chain.nlevels = (uint8_t)hist_levels(3);
	r.chain.tail[0].gen = 48;
	r.chain.tail[1] = r.chain.parent;
	for (unsigned j = 0; j < r.chain.nlevels; j++)
		r.chain.level[j].gen = 40 - 10 * j;
	struct buf b = {0};
	root_encode(&r, &b);
	CHECK(r.chain.nlevels == 3 && b.len == 64 + 40 + 16 + 5 * 40);
	CHECK(le(b.data + 64, 8) == 49 && b.data[72] == 0x49 && le(b.data + 104, 8) == 3);
	CHECK(b.data[112] == 2 && b.data[113] == 3 && le(b.data + 120, 8) == 48);
	CHECK(root_decode(b.data, b.len, &d) == 0 && d.version == 2);
	CHECK(memcmp(&d.chain, &r.chain, sizeof(d.chain)) == 0);
	root_plain_free(&d);
	CHECK(refuses_truncations(dec_root, b.data, b.len));
	CHECK(survives_mutations(dec_root, b.data, b.len, 3000));
	b.data[113] = 2; /* levels that do not match the segment count */
	CHECK(dec_root(b.data, b.len) == -EINVAL);
	b.data[113] = 3;
	b.data[112] = HIST_ENTRIES; /* a full tail is never stored */
	CHECK(dec_root(b.data, b.len) == -EINVAL);
	buf_free(&b);
}

/* Version 3: u64 page count at 60, then ceil(n / 252) table names, then the chain section;
 * decoded pages stay zero until root_fill_table checks each table against its position. */
static void root_v3(void)
{
	struct oname tables[2] = {{.b = {0x71}}, {{0}}};
	struct root_plain r = {.gen = 9,
			       .next_ino = 300 * 64,
			       .npages = 300,
			       .ntables = 2,
			       .tables = tables},
			  d;
	struct buf b = {0};
	root_encode(&r, &b);
	CHECK(!b.err && b.len == ROOT_HEADER_V3_BYTES + 2 * NAME_BYTES + 56 && b.len == 156);
	CHECK(le(b.data + 4, 4) == 3 && le(b.data + 56, 4) == 64 && le(b.data + 60, 8) == 300);
	CHECK(b.data[68] == 0x71 && b.data[84] == 0 && le(b.data + 100, 8) == 0);
	CHECK(root_decode(b.data, b.len, &d) == 0 && d.version == 3 && d.npages == 300 &&
	      d.ntables == 2 && memcmp(d.tables, tables, sizeof(tables)) == 0);
	static const struct oname zero;
	bool all_zero = true;
	for (uint32_t k = 0; k < d.npages; k++)
		all_zero &= memcmp(&d.pages[k], &zero, sizeof(zero)) == 0;
	CHECK(all_zero);
	CHECK(refuses_truncations(dec_root, b.data, b.len));
	CHECK(survives_mutations(dec_root, b.data, b.len, 3000));
	/* table 1 holds pages 252..299: 48 names; anything else is not that table */
	static struct nametab_plain t;
	t = (struct nametab_plain){.kind = NAMETAB_PAGES, .first = 252, .count = 48};
	t.names[47].b[0] = 0x99;
	struct nametab_plain bad[4];
	for (int k = 0; k < 4; k++)
		bad[k] = t;
	bad[0].kind = NAMETAB_BUCKETS;
	bad[1].owner = 1;
	bad[2].first = 0;
	bad[3].count = 49;
	for (int k = 0; k < 4; k++)
		CHECK(root_fill_table(&d, 1, &bad[k]) == -EINVAL);
	bad[3].count = 47; /* fewer names: the pages past them stay zero */
	CHECK(root_fill_table(&d, 1, &bad[3]) == 0 && d.pages[298].b[0] == 0);
	CHECK(root_fill_table(&d, 2, &t) == -EINVAL); /* no table 2 */
	CHECK(root_fill_table(&d, 0, &t) == -EINVAL); /* table 0 is another position */
	CHECK(d.pages[299].b[0] == 0);
	CHECK(root_fill_table(&d, 1, &t) == 0 && d.pages[299].b[0] == 0x99 &&
	      d.pages[251].b[0] == 0);
	root_plain_free(&d);
	/* a page count the table names cannot hold */
	b.data[60] = (uint8_t)(505 & 0xff);
	b.data[61] = (uint8_t)(505 >> 8); /* 3 tables */
	CHECK(dec_root(b.data, b.len) == -EINVAL);
	b.data[60] = (uint8_t)(504 & 0xff); /* 2 tables: fine */
	CHECK(root_decode(b.data, b.len, &d) == 0 && d.npages == 504 && d.ntables == 2);
	root_plain_free(&d);
	buf_free(&b);
	r.npages = ROOT_PAGES_MAX + 1; /* past the bound, with every table name there */
	root_encode(&r, &b);
	CHECK(!b.err && b.len == ROOT_HEADER_V3_BYTES + 266306 * NAME_BYTES + 56);
	CHECK(dec_root(b.data, b.len) == -EINVAL);
	buf_free(&b);
	/* no pages: no tables */
	r.npages = 0;
	root_encode(&r, &b);
	CHECK(b.len == ROOT_HEADER_V3_BYTES + 56 && root_decode(b.data, b.len, &d) == 0 &&
	      d.npages == 0 && d.ntables == 0);
	root_plain_free(&d);
	buf_free(&b);
}

/* --- split directories: page version 3 records, buckets, linear hashing --- */

/* A split directory record: form byte 1, u32 nbuckets, u64 entries, ceil(n / 252) table names
 * (page version 3), round trip, bounds. */
static void page_split(void)
{
	struct page_plain p, *d = malloc(sizeof(*d));
	struct oname tabs[2];
	memset(tabs[0].b, 0x41, NAME_BYTES);
	memset(tabs[1].b, 0, NAME_BYTES); /* a table whose buckets are all empty */
	memset(&p, 0, sizeof(p));
	p.index = 0;
	p.count = 1;
	p.rec[0] = (struct page_record){.ino = 5,
					.mode = S_IFDIR | 0700,
					.nlink = 2,
					.split = 1,
					.nbuckets = NAMETAB_MAX + 1,
					.nentries = 70000,
					.ntables = 2,
					.tables = tabs};
	struct buf b = {0};
	page_encode(&p, &b);
	const unsigned char *r = b.data + PAGE_HEADER_BYTES + 76 + 4; /* after the xattr count */
	CHECK(b.len == PAGE_HEADER_BYTES + 80 + 1 + 4 + 8 + 2 * NAME_BYTES);
	CHECK(r[0] == PAGE_DIR_SPLIT && le(r + 1, 4) == NAMETAB_MAX + 1 && le(r + 5, 8) == 70000);
	CHECK(r[13] == 0x41 && r[13 + NAME_BYTES] == 0);
	CHECK(page_decode(b.data, b.len, d) == 0 && same_record(&p.rec[0], &d->rec[0]));
	CHECK(d->rec[0].ndent == 0 && !d->rec[0].dent);
	page_plain_free(d);
	CHECK(refuses_truncations(dec_page, b.data, b.len));
	CHECK(survives_mutations(dec_page, b.data, b.len, 3000));
	unsigned char *w = b.data + (r - b.data);
	w[0] = 2; /* no such form */
	CHECK(dec_page(b.data, b.len) == -EINVAL);
	w[0] = PAGE_DIR_SPLIT;
	memset(w + 1, 0, 4); /* no bucket */
	CHECK(dec_page(b.data, b.len) == -EINVAL);
	w[1] = 1; /* one bucket: one table name, and 16 bytes too many */
	CHECK(dec_page(b.data, b.len) == -EINVAL);
	w[1] = 0, w[4] = 0x01; /* 2^24 buckets: 66,576 table names that the bytes cannot hold */
	CHECK(dec_page(b.data, b.len) == -EINVAL);
	w[3] = 0x02, w[4] = 0; /* 2^25: past DIR_BUCKETS_MAX */
	CHECK(dec_page(b.data, b.len) == -EINVAL);
	buf_free(&b);
	free(d);
}

/* A version 2 page's directory has no form byte: its entries follow the xattrs directly. */
static void page_v2_dir(void)
{
	struct buf b = {0};
	buf_put(&b, "CFPG", 4);
	buf_u32(&b, 2);
	buf_u64(&b, 0);
	buf_u32(&b, 1);
	buf_u64(&b, 1);
	buf_u32(&b, S_IFDIR | 0755);
	buf_u32(&b, 0);
	buf_u32(&b, 0);
	buf_u32(&b, 2);
	for (int k = 0; k < 2 + 3; k++) /* size, rdev, three times (u64 + u32 each) */
		k < 2 ? buf_u64(&b, 0) : (buf_u64(&b, 0), buf_u32(&b, 0));
	buf_u32(&b, 0); /* no xattr */
	buf_u32(&b, 1);
	buf_u64(&b, 7);
	buf_u8(&b, DT_REG);
	buf_u16(&b, 3);
	buf_put(&b, "abc", 3);
	struct page_plain *d = malloc(sizeof(*d));
	CHECK(page_decode(b.data, b.len, d) == 0 && d->rec[0].ndent == 1 && !d->rec[0].split);
	CHECK(d->rec[0].dent[0].ino == 7 && memcmp(d->rec[0].dent[0].name, "abc", 3) == 0);
	struct buf again = {0};
	page_encode(d, &again); /* written as version 3: one form byte more */
	CHECK(le(again.data + 4, 4) == PAGE_VERSION && again.len == b.len + 1);
	page_plain_free(d);
	CHECK(page_decode(again.data, again.len, d) == 0 && d->rec[0].ndent == 1);
	page_plain_free(d);
	buf_free(&again);
	buf_free(&b);
	free(d);
}

static int dec_bucket(const unsigned char *b, size_t len)
{
	struct dirbucket_plain p;
	int err = dirbucket_decode(b, len, &p);
	if (!err)
		dirbucket_plain_free(&p);
	return err;
}

static struct page_dent bde[3] = {{.ino = 10, .name = "alpha", .len = 5, .type = DT_REG},
				  {.ino = 11, .name = "beta", .len = 4, .type = DT_DIR},
				  {.ino = 12, .name = "gamma", .len = 5, .type = DT_LNK}};

/* Header 28 bytes (magic, version, dir, index, nbuckets, count), then entries as in a page. */
static void dirbucket(void)
{
	struct dirbucket_plain p = {.dir = 77, .index = 2, .nbuckets = 5, .count = 3, .dent = bde},
			       d;
	struct buf b = {0};
	dirbucket_encode(&p, &b);
	CHECK(memcmp(b.data, "CFDB", 4) == 0 && le(b.data + 4, 4) == 1 && le(b.data + 8, 8) == 77);
	CHECK(le(b.data + 16, 4) == 2 && le(b.data + 20, 4) == 5 && le(b.data + 24, 4) == 3);
	CHECK(DIRBUCKET_HEADER == 28 && le(b.data + 28, 8) == 10 && b.data[36] == DT_REG);
	CHECK(le(b.data + 37, 2) == 5 && memcmp(b.data + 39, "alpha", 5) == 0);
	CHECK(b.len == 28 + 3 * 11 + 14);
	CHECK(dirbucket_decode(b.data, b.len, &d) == 0 && d.dir == 77 && d.index == 2 &&
	      d.nbuckets == 5 && d.count == 3);
	for (int k = 0; k < 3; k++)
		CHECK(d.dent[k].ino == bde[k].ino && d.dent[k].len == bde[k].len &&
		      !memcmp(d.dent[k].name, bde[k].name, bde[k].len));
	dirbucket_plain_free(&d);
	CHECK(refuses_truncations(dec_bucket, b.data, b.len));
	CHECK(survives_mutations(dec_bucket, b.data, b.len, 3000));
	struct {
		size_t at;
		uint8_t v;
	} bad[] = {{0, 'X'}, {4, 2}, {8, 0}, {16, 5}, {23, 0x02}, {37, 0}, {39, 0x2f}};
	uint8_t save;
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		if (bad[k].at == 8)
			memset(b.data + 8, 0, 8); /* directory 0 */
		save = b.data[bad[k].at];
		b.data[bad[k].at] = bad[k].v;
		CHECK(dec_bucket(b.data, b.len) == -EINVAL);
		b.data[bad[k].at] = save;
		if (bad[k].at == 8)
			b.data[8] = 77;
	}
	CHECK(dec_bucket(b.data, b.len) == 0);
	buf_free(&b);
	bde[2] = (struct page_dent){.ino = 12, .name = "alpha", .len = 5, .type = DT_LNK};
	dirbucket_encode(&p, &b); /* a name twice */
	CHECK(dec_bucket(b.data, b.len) == -EINVAL);
	buf_free(&b);
	bde[2] = (struct page_dent){.ino = 12, .name = "gamma", .len = 5, .type = DT_LNK};
	p.count = 0; /* an empty bucket decodes (it is never written: a zero name instead) */
	dirbucket_encode(&p, &b);
	CHECK(dec_bucket(b.data, b.len) == 0);
	for (int k = 0; k < 4; k++)
		b.data[24 + k] = 0xff; /* a count the bytes cannot hold */
	CHECK(dec_bucket(b.data, b.len) == -EINVAL);
	buf_free(&b);
}

/* The rule: n = 5 (L = 2, s = 1): h mod 4, or h mod 8 when h mod 4 is 0. Growing n by one
 * moves entries from bucket s to bucket n only, and every hash lands below n. */
static void linear_hashing(void)
{
	CHECK(dirbucket_of(12345, 1) == 0);
	CHECK(dirbucket_of(0x13, 5) == 3 && dirbucket_of(0x14, 5) == 4 &&
	      dirbucket_of(0x18, 5) == 0);
	CHECK(dirbucket_of(0x1f, 8) == 7 && dirbucket_of((uint64_t)1 << 40, 3) == 0);
	CHECK(dirbucket_of(~0ull, DIR_BUCKETS_MAX) == DIR_BUCKETS_MAX - 1);
	bool ok = true;
	for (int r = 0; r < 2000; r++) {
		uint64_t h = (uint64_t)random_u32() << 32 | random_u32();
		for (uint32_t n = 1; n < 300; n++) {
			uint32_t a = dirbucket_of(h, n), b = dirbucket_of(h, n + 1);
			uint32_t s = n - (1u << (31 - __builtin_clz(n)));
			ok &= a < n && b < n + 1 && (a == b || (a == s && b == n));
			ok &= dirbucket_of(h & 0xffffffffu, n) == a; /* 32 bits suffice */
		}
	}
	CHECK(ok);
	CHECK(dirbucket_hash("a", 1) == dirbucket_hash("a", 1) &&
	      dirbucket_hash("a", 1) != dirbucket_hash("b", 1));
}

/* --- name tables --- */

static int dec_nametab(const unsigned char *b, size_t len)
{
	struct nametab_plain t;
	return nametab_decode(b, len, &t);
}

/* Header 32 bytes (magic, version, kind, owner, first, count), then count names; every field
 * is bounded, and a full table seals into one 4 KiB bucket. */
static void nametab(void)
{
	static struct nametab_plain t, d;
	memset(&t, 0, sizeof(t));
	t.kind = NAMETAB_BUCKETS;
	t.owner = 0x1122334455667788u;
	t.first = 2 * NAMETAB_MAX;
	t.count = 3;
	t.names[0].b[0] = 0xa1;
	t.names[2].b[15] = 0xc3; /* names[1] zero: no object there */
	struct buf b = {0};
	nametab_encode(&t, &b);
	CHECK(!b.err && b.len == NAMETAB_HEADER_BYTES + 3 * NAME_BYTES && b.len == 80);
	CHECK(memcmp(b.data, "CFNT", 4) == 0 && le(b.data + 4, 4) == 1 && le(b.data + 8, 4) == 2);
	CHECK(le(b.data + 12, 8) == t.owner && le(b.data + 20, 8) == 504 &&
	      le(b.data + 28, 4) == 3);
	CHECK(b.data[32] == 0xa1 && b.data[79] == 0xc3);
	memset(&d, 0xee, sizeof(d));
	CHECK(nametab_decode(b.data, b.len, &d) == 0);
	CHECK(memcmp(&d, &t, sizeof(d)) == 0); /* names past count zeroed */
	CHECK(refuses_truncations(dec_nametab, b.data, b.len));
	CHECK(survives_mutations(dec_nametab, b.data, b.len, 3000));
	/* field by field: each bad value is damage */
	struct {
		size_t at, n;
		uint64_t v;
	} bad[] = {{0, 1, 'X'},
		   {4, 4, 2},
		   {4, 4, 0},
		   {8, 4, 0},
		   {8, 4, 3},
		   {20, 8, 1},
		   {20, 8, 251},
		   {28, 4, 0},
		   {28, 4, 253},
		   {28, 4, 2},
		   {20, 8, UINT64_MAX / 252 * 252}};
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		unsigned char c[80];
		memcpy(c, b.data, sizeof(c));
		for (size_t j = 0; j < bad[k].n; j++)
			c[bad[k].at + j] = (unsigned char)(bad[k].v >> (8 * j));
		CHECK(nametab_decode(c, sizeof(c), &d) == -EINVAL);
	}
	/* bound to its place: table 2 of directory 0x1122334455667788's 506 bucket names (2 left)
	 */
	CHECK(nametab_decode(b.data, b.len, &d) == 0);
	CHECK(nametab_bind(&d, NAMETAB_BUCKETS, t.owner, 2, 504 + 3) == 0);
	CHECK(nametab_bind(&d, NAMETAB_BUCKETS, t.owner, 2, 504 + 2) == -EINVAL); /* 3 > 2 left */
	CHECK(nametab_bind(&d, NAMETAB_BUCKETS, t.owner, 2, 504 + 300) == 0);	  /* fewer: fine */
	CHECK(nametab_bind(&d, NAMETAB_BUCKETS, t.owner, 2, 504) == -EINVAL);	  /* past the end */
	CHECK(nametab_bind(&d, NAMETAB_BUCKETS, t.owner, 1, 10000) == -EINVAL);
	CHECK(nametab_bind(&d, NAMETAB_BUCKETS, t.owner + 1, 2, 10000) == -EINVAL);
	CHECK(nametab_bind(&d, NAMETAB_PAGES, t.owner, 2, 10000) == -EINVAL);
	CHECK(nametab_bind(&d, NAMETAB_BUCKETS, t.owner, UINT64_MAX / 252, UINT64_MAX) == -EINVAL);
	/* a page table has no owner */
	b.data[8] = NAMETAB_PAGES;
	CHECK(nametab_decode(b.data, b.len, &d) == -EINVAL);
	memset(b.data + 12, 0, 8);
	CHECK(nametab_decode(b.data, b.len, &d) == 0 && d.kind == NAMETAB_PAGES && d.owner == 0);
	buf_free(&b);
	/* a full table: 4064 bytes, sealed into the 4 KiB bucket */
	t.count = NAMETAB_MAX;
	for (unsigned k = 0; k < NAMETAB_MAX; k++)
		memset(t.names[k].b, (int)k + 1, NAME_BYTES);
	nametab_encode(&t, &b);
	CHECK(b.len == NAMETAB_PLAIN_MAX && b.len == 4064);
	CHECK(nametab_decode(b.data, b.len, &d) == 0 && memcmp(&d, &t, sizeof(d)) == 0);
	struct aead_key key[1] = {{.cipher = CIPHER_XCHACHA20}};
	random_bytes(key->k, KEY_BYTES);
	struct oname n = {.b = {7, 7}}, m = {.b = {7, 8}};
	uint8_t aad[NAMETAB_AAD_BYTES], other[NAMETAB_AAD_BYTES];
	nametab_aad(&n, aad);
	nametab_aad(&m, other);
	CHECK(memcmp(aad, "CFNT", 4) == 0 && memcmp(aad + 4, n.b, NAME_BYTES) == 0);
	struct buf s = {0}, p = {0}, q = {0};
	CHECK(meta_seal(key, aad, sizeof(aad), &b, &s) == 0 && s.len == NAMETAB_SEALED_MAX);
	CHECK(meta_open(key, aad, sizeof(aad), s.data, s.len, &p) == 0 && p.len == b.len);
	CHECK(meta_open(key, other, sizeof(other), s.data, s.len, &q) == -EBADMSG); /* swapped */
	buf_free(&s);
	buf_free(&p);
	buf_free(&q);
	buf_free(&b);
}

/* --- history segments --- */

static int dec_hist(const unsigned char *b, size_t len)
{
	struct hist_seg s;
	return hist_decode(b, len, &s);
}

#define SIM_SEGS 64

/* The published chain of 1000 roots (generations 3 apart, as skipped local commits make them),
 * segments kept in an array by index with a made-up hash: every ancestor is found from the
 * newest root in a few segments, a generation never published is not, and every segment
 * round-trips its codec. */
static void history(void)
{
	static struct hist_seg segs[SIM_SEGS];
	struct root_chain c = {0};
	struct hist_seg seg;
	unsigned n = 1000, maxhops = 0;
	for (unsigned k = 1; k < n; k++) {
		struct root_link l = {.gen = 3 * k};
		memcpy(l.hash, &k, sizeof(k));
		if (chain_advance(&c, &l, &seg) == 1) {
			CHECK(seg.index < SIM_SEGS && seg.np == hist_pointers(seg.index));
			struct buf b = {0};
			hist_encode(&seg, &b);
			CHECK(b.len == HIST_HEADER_BYTES + (16 + seg.np) * ROOT_LINK_BYTES);
			CHECK(dec_hist(b.data, b.len) == 0 &&
			      refuses_truncations(dec_hist, b.data, b.len));
			if (seg.index == 6)
				CHECK(survives_mutations(dec_hist, b.data, b.len, 2000));
			segs[seg.index] = seg;
			uint8_t h[ROOT_HASH_BYTES] = {0};
			memcpy(h, &seg.index, sizeof(seg.index));
			h[31] = 0x5e;
			chain_add_segment(&c, &seg, h);
			buf_free(&b);
		}
		CHECK(c.nlevels == hist_levels(c.nsegs) && c.parent.gen == 3 * k);
	}
	CHECK(c.nsegs == (n - 1) / HIST_ENTRIES && c.ntail == (n - 1) % HIST_ENTRIES);
	for (unsigned k = 1; k < n + 1; k++) {
		for (unsigned off = 0; off < 2; off++) {
			uint64_t g = 3 * k + off, idx;
			uint8_t h[ROOT_HASH_BYTES];
			struct root_link out;
			unsigned hops = 0;
			int r = chain_locate(&c, g, &out, &idx, h);
			while (r == 1 && hops++ < 64) {
				CHECK(idx < c.nsegs && h[31] == 0x5e &&
				      memcmp(h, &idx, sizeof(idx)) == 0);
				r = hist_step(&segs[idx], g, &out, &idx, h);
			}
			maxhops = hops > maxhops ? hops : maxhops;
			if (off || k == n)
				CHECK(r == -ENOENT);
			else
				CHECK(r == 0 && out.gen == g &&
				      memcmp(out.hash, &k, sizeof(k)) == 0);
		}
	}
	CHECK(maxhops > 1 && maxhops <= 7);
	printf("history: %u segments, every root found in at most %u segment reads\n",
	       (unsigned)c.nsegs, maxhops);
	uint64_t idx;
	uint8_t h[ROOT_HASH_BYTES];
	struct root_link out;
	CHECK(chain_locate(&c, 1, &out, &idx, h) == -ENOENT); /* before the history starts */
	uint8_t aad[HIST_AAD_BYTES], vid[VAULT_ID_BYTES] = {5};
	hist_aad(vid, aad);
	CHECK(memcmp(aad, "CFHS", 4) == 0 && aad[4] == 5);
}

/* --- leases --- */

static int dec_lease(const unsigned char *b, size_t len)
{
	struct lease l;
	return lease_decode(b, len, &l);
}

static void lease(void)
{
	struct lease l = {.expiry = 1800000000}, d;
	memset(l.device, 0x77, sizeof(l.device));
	snprintf(l.host, sizeof(l.host), "laptop");
	struct buf b = {0}, s = {0};
	CHECK(lease_encode(&l, &b) == 0 && b.len == 128);
	CHECK(b.data[0] == 0x77 && b.data[15] == 0x77 && le(b.data + 16, 8) == 1800000000);
	CHECK(b.data[24] == 6 && memcmp(b.data + 25, "laptop", 6) == 0 && b.data[31] == 0 &&
	      b.data[127] == 0);
	CHECK(lease_decode(b.data, b.len, &d) == 0 && d.expiry == l.expiry &&
	      strcmp(d.host, "laptop") == 0 && memcmp(d.device, l.device, 16) == 0);
	CHECK(refuses_truncations(dec_lease, b.data, b.len));
	CHECK(survives_mutations(dec_lease, b.data, b.len, 2000));
	b.data[24] = LEASE_HOST_MAX + 1;
	CHECK(dec_lease(b.data, b.len) == -EINVAL);
	memset(l.host, 'h', LEASE_HOST_MAX); /* the longest host name fits */
	buf_free(&b);
	CHECK(lease_encode(&l, &b) == 0 && b.len == 128 && b.data[24] == LEASE_HOST_MAX);
	struct aead_key key[1] = {{.cipher = CIPHER_XCHACHA20}};
	uint8_t vid[VAULT_ID_BYTES] = {9}, other[VAULT_ID_BYTES] = {8};
	random_bytes(key->k, KEY_BYTES);
	CHECK(lease_seal(key, vid, &l, &s) == 0 && s.len == 168 && LEASE_SEALED == 168);
	CHECK(lease_open(key, vid, s.data, s.len, &d) == 0 && strlen(d.host) == LEASE_HOST_MAX);
	uint8_t aad[LEASE_AAD_BYTES] = "CFLS", raw[LEASE_PLAIN];
	memcpy(aad + 4, vid, sizeof(vid));
	CHECK(aead_open(raw, s.data, s.len, aad, sizeof(aad), key) == 0 && raw[24] == 64);
	CHECK(lease_open(key, other, s.data, s.len, &d) == -EBADMSG);
	CHECK(lease_open(key, vid, s.data, s.len - 1, &d) == -EBADMSG);
	buf_free(&s);
	buf_free(&b);
}

/* --- sync.state --- */

static int dec_state(const unsigned char *b, size_t len)
{
	struct sync_state s;
	return state_decode(b, len, &s);
}

static void state(void)
{
	struct sync_state s = {.seen = 18446744073709551615u, .synced = 0, .seen_time = 17}, d;
	for (int k = 0; k < 16; k++)
		s.device[k] = (uint8_t)(k * 17);
	memset(s.seen_hash, 0xab, ROOT_HASH_BYTES);
	memset(s.synced_hash, 0x01, ROOT_HASH_BYTES);
	struct buf b = {0}, man = {0};
	state_encode(&s, &b);
	static const char old[] = "seen 18446744073709551615\nsynced 0\n"
				  "device 00112233445566778899aabbccddeeff\n";
	CHECK(b.len == strlen(old) + 10 + 64 + 11 + 2 + 13 + 64 + 1 && b.len <= STATE_MAX_BYTES);
	CHECK(memcmp(b.data, old, strlen(old)) == 0);
	CHECK(memcmp(b.data + strlen(old), "seen-hash abab", 14) == 0);
	CHECK(state_decode(b.data, b.len, &d) == 0 && d.seen == s.seen && d.synced == 0 &&
	      memcmp(d.device, s.device, 16) == 0 && d.seen_time == 17 &&
	      memcmp(d.seen_hash, s.seen_hash, ROOT_HASH_BYTES) == 0 &&
	      memcmp(d.synced_hash, s.synced_hash, ROOT_HASH_BYTES) == 0);
	/* a cache from before the chain: its three lines alone, hashes unknown */
	CHECK(state_decode((const unsigned char *)old, strlen(old), &d) == 0 && d.seen == s.seen &&
	      d.seen_hash[0] == 0 && d.synced_hash[31] == 0 && d.seen_time == 0);
	for (size_t len = 0; len < b.len; len++) /* any other cut is damage */
		CHECK(len == strlen(old) || dec_state(b.data, len) == -EINVAL);
	CHECK(refuses_truncations(dec_state, (const unsigned char *)old, strlen(old)));
	CHECK(survives_mutations(dec_state, b.data, b.len, 2000));
	static const char *bad[] =
		{"seen 18446744073709551616\nsynced 0\ndevice 00112233445566778899aabbccddeeff\n",
		 "seen -1\nsynced 0\ndevice 00112233445566778899aabbccddeeff\n",
		 "synced 0\nseen 1\ndevice 00112233445566778899aabbccddeeff\n",
		 "seen 1\nsynced 0\ndevice 00112233445566778899AABBCCDDEEFF\n",
		 "seen 1\nsynced 0\ndevice 00112233445566778899aabbccddeeff\nmore 1\n",
		 "seen 1\nsynced 0\ndevice 00112233445566778899aabbccddeeff\nseen-hash 00\n"
		 "seen-time 0\nsynced-hash 00\n"};
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++)
		CHECK(dec_state((const unsigned char *)bad[k], strlen(bad[k])) == -EINVAL);
	CHECK(man_example("sync.state", &man));
	CHECK(state_decode(man.data, man.len, &d) == 0);
	struct buf again = {0};
	state_encode(&d, &again);
	CHECK(again.len == man.len && memcmp(again.data, man.data, man.len) == 0);
	buf_free(&again);
	buf_free(&man);
	buf_free(&b);
}

static void oname(void)
{
	struct oname n, m;
	char hex[2 * NAME_BYTES + 1];
	for (int k = 0; k < NAME_BYTES; k++)
		n.b[k] = (uint8_t)(0xf0 + k);
	oname_hex(&n, hex);
	CHECK(strcmp(hex, "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff") == 0);
	CHECK(oname_parse(&m, hex) == 0 && memcmp(&m, &n, sizeof(n)) == 0 && !oname_is_zero(&m));
	CHECK(oname_parse(&m, "f0f1f2f3f4f5f6f7f8f9fafbfcfdfef") == -EINVAL);
	CHECK(oname_parse(&m, "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff0") == -EINVAL);
	CHECK(oname_parse(&m, "F0f1f2f3f4f5f6f7f8f9fafbfcfdfeff") == -EINVAL);
	memset(&m, 0, sizeof(m));
	CHECK(oname_is_zero(&m));
}

int main(void)
{
	unit_setup();
	config();
	config2();
	block(CIPHER_XCHACHA20);
	if (cipher_aes_available())
		block(CIPHER_AES256GCM);
	meta();
	page();
	page_v1();
	page_runs();
	page_split();
	page_v2_dir();
	dirbucket();
	linear_hashing();
	root();
	root_chain();
	root_v3();
	history();
	nametab();
	lease();
	state();
	oname();
	return unit_finish("test_format");
}

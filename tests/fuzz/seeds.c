/* seeds: writes the seed corpora of the fuzz targets (tests/fuzz/corpus/NAME/seed-N) with the
 * real encoders: small valid examples of every format, so that the fuzzers start from the inside
 * of each decoder. Run by `make fuzz-seeds`; the output is committed.
 * Must never write anywhere but under the folder it is given. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "format/config.h"
#include "format/freed.h"
#include "format/lease.h"
#include "format/dirbucket.h"
#include "format/nametab.h"
#include "format/page.h"
#include "format/history.h"
#include "format/root.h"
#include "format/state.h"
#include "format/status.h"

static const char *top;

static void put(const char *target, int n, const void *p, size_t len)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", top, target);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%s/seed-%d", top, target, n);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(p, 1, len, f) != len || fclose(f)) {
		perror(path);
		exit(1);
	}
}

static void put_buf(const char *target, int n, struct buf *b)
{
	if (b->err)
		exit(1);
	put(target, n, b->data, b->len);
	buf_free(b);
}

static void put_str(const char *target, int n, const char *s)
{
	put(target, n, s, strlen(s));
}

static void seed_config(void)
{
	struct config c = {.kdf = {.ops = 2, .mem = 67108864}};
	memset(c.id, 0x11, sizeof(c.id));
	memset(c.salt, 0x22, sizeof(c.salt));
	memset(c.wrapped, 0x33, sizeof(c.wrapped));
	struct buf b = {0};
	config_encode(&c, &b);
	put_buf("config", 1, &b);
	c.version = 2; /* with the cipher line */
	c.cipher = CIPHER_AES256GCM;
	config_encode(&c, &b);
	put_buf("config", 2, &b);
}

static void seed_root(void)
{
	struct oname pages[3] = {{.b = {1}}, {{0}}, {.b = {3, 4}}};
	struct root_plain r = {.gen = 7,
			       .time_ns = 1700000000000000000,
			       .next_ino = 130,
			       .live_inodes = 5,
			       .live_bytes = 4096,
			       .npages = 3,
			       .pages = pages};
	struct buf b = {0};
	r.version = ROOT_VERSION_2; /* pages inline (still read) */
	root_encode(&r, &b);
	put_buf("root", 1, &b);
	r.npages = 0;
	root_encode(&r, &b);
	put_buf("root", 2, &b);
	r.chain.parent.gen = 6; /* a chained root: parent, tail of 2, 3 segments */
	memset(r.chain.parent.hash, 0x66, sizeof(r.chain.parent.hash));
	r.chain.ntail = 2;
	r.chain.tail[0].gen = 5;
	r.chain.tail[1] = r.chain.parent;
	r.chain.nsegs = 3;
	r.chain.nlevels = (uint8_t)hist_levels(3);
	for (unsigned j = 0; j < r.chain.nlevels; j++)
		r.chain.level[j].gen = 4 - j;
	root_encode(&r, &b);
	put_buf("root", 3, &b);
	struct oname tables[2] = {{.b = {5}}, {{0}}}; /* version 3: 300 pages in two tables */
	r.version = 0;
	r.npages = 300;
	r.ntables = 2;
	r.tables = tables;
	root_encode(&r, &b);
	put_buf("root", 4, &b);
	r.npages = 0;
	root_encode(&r, &b);
	put_buf("root", 5, &b);
}

static void seed_history(void)
{
	struct hist_seg s = {.index = 6, .n = HIST_ENTRIES, .np = hist_pointers(6)};
	for (unsigned k = 0; k < HIST_ENTRIES; k++) {
		s.e[k].gen = 100 + 2 * k;
		memset(s.e[k].hash, (int)k, sizeof(s.e[k].hash));
	}
	for (unsigned j = 0; j < s.np; j++)
		s.ptr[j].gen = 90 - 16 * j;
	struct buf b = {0};
	hist_encode(&s, &b);
	put_buf("history", 1, &b);
	s.index = 0;
	s.np = 0;
	hist_encode(&s, &b);
	put_buf("history", 2, &b);
}

static void seed_page(void)
{
	static struct page_plain p;
	struct page_dent dents[2] = {{.ino = 2, .name = "file", .len = 4, .type = DT_REG},
				     {.ino = 3, .name = "link", .len = 4, .type = DT_LNK}};
	/* chunks 0 and 2 hold data, chunk 1 is a hole (two runs) */
	struct page_chunk ch[2] = {{.index = 0, .name = {.b = {9}}, .nblocks = 256},
				   {.index = 2, .name = {.b = {8}}, .nblocks = 1}};
	struct page_xattr xa = {.name = "user.k",
				.name_len = 6,
				.val = (const unsigned char *)"v",
				.len = 1};
	struct timespec t = {.tv_sec = 1700000000, .tv_nsec = 5};
	p.index = 0;
	p.count = 3;
	p.rec[0] = (struct page_record){.ino = 1,
					.mode = S_IFDIR | 0755,
					.nlink = 2,
					.atime = t,
					.mtime = t,
					.ctime = t,
					.dent = dents,
					.ndent = 2};
	p.rec[1] = (struct page_record){.ino = 2,
					.mode = S_IFREG | 0644,
					.nlink = 1,
					.size = 2 * CHUNK_SIZE + 100,
					.xa = &xa,
					.nxa = 1,
					.ch = ch,
					.nch = 2};
	p.rec[2] = (struct page_record){.ino = 3,
					.mode = S_IFLNK | 0777,
					.nlink = 1,
					.target = "file",
					.target_len = 4,
					.size = 4};
	struct buf b = {0};
	page_encode(&p, &b);
	put_buf("page", 1, &b);
	p.count = 0;
	page_encode(&p, &b);
	put_buf("page", 2, &b);
	struct oname tables[2] = {{.b = {5}},
				  {{0}}}; /* a split directory, its second table empty */
	p.count = 1;
	p.rec[0].ndent = 0;
	p.rec[0].split = 1;
	p.rec[0].nbuckets = NAMETAB_MAX + 3;
	p.rec[0].nentries = 9000;
	p.rec[0].ntables = 2;
	p.rec[0].tables = tables;
	page_encode(&p, &b);
	put_buf("page", 3, &b);
	/* version 3: a small file's chunk in a pack (its blocks 1000..1002), a chunk of its own */
	struct page_chunk packed[2] =
		{{.index = 0, .name = {.b = {7}}, .nblocks = 3, .pack = {.b = {6}}, .first = 1000},
		 {.index = 2, .name = {.b = {8}}, .nblocks = 1}};
	p.count = 2;
	p.rec[1].ch = packed;
	page_encode(&p, &b);
	put_buf("page", 4, &b);
}

static void seed_dirbucket(void)
{
	struct page_dent dents[3] = {{.ino = 70, .name = "a.txt", .len = 5, .type = DT_REG},
				     {.ino = 71, .name = "sub", .len = 3, .type = DT_DIR},
				     {.ino = 72, .name = "l", .len = 1, .type = DT_LNK}};
	struct dirbucket_plain d = {.dir = 9, .index = 4, .nbuckets = 7, .count = 3, .dent = dents};
	struct buf b = {0};
	dirbucket_encode(&d, &b);
	put_buf("dirbucket", 1, &b);
	d.count = 1;
	d.index = 0;
	d.nbuckets = 1;
	dirbucket_encode(&d, &b);
	put_buf("dirbucket", 2, &b);
}

static void seed_nametab(void)
{
	static struct nametab_plain t = {.kind = NAMETAB_PAGES, .count = 3};
	t.names[0].b[0] = 1;
	t.names[2].b[0] = 3; /* names[1] zero: a page with no live inode */
	struct buf b = {0};
	nametab_encode(&t, &b);
	put_buf("nametab", 1, &b);
	t.kind = NAMETAB_BUCKETS;
	t.owner = 42;
	t.first = NAMETAB_MAX;
	t.count = NAMETAB_MAX;
	for (unsigned k = 0; k < NAMETAB_MAX; k++)
		t.names[k].b[1] = (uint8_t)k;
	nametab_encode(&t, &b);
	put_buf("nametab", 2, &b);
}

static void seed_small(void)
{
	struct lease l = {.expiry = 1700000000, .host = "laptop"};
	memset(l.device, 0x44, sizeof(l.device));
	struct buf b = {0};
	lease_encode(&l, &b);
	put_buf("lease", 1, &b);

	struct sync_state s = {.seen = 12, .synced = 11};
	memset(s.device, 0x55, sizeof(s.device));
	state_encode(&s, &b);
	put_buf("state", 1, &b);
	put_str("state", 2, "seen 12\nsynced 11\ndevice 55555555555555555555555555555555\n");

	struct oname names[2] = {{.b = {1, 2, 3}}, {.b = {4, 5, 6}}};
	freed_record_encode(&b, 3, names, 2);
	freed_record_encode(&b, 4, names, 1);
	put_buf("freed", 1, &b);

	struct status st = {.state = "uploading",
			    .remote = "s3://bucket/vault\t\"x\"",
			    .local_generation = 9,
			    .remote_generation = 8,
			    .remote_committed = 1700000000,
			    .objects_waiting = 3,
			    .bytes_waiting = 12288,
			    .upload_rate = 1234.5,
			    .last_error = "timeout",
			    .last_error_time = 1700000001,
			    .pid = 4242};
	char text[STATUS_TEXT_MAX];
	int n = status_encode(&st, text, sizeof(text));
	if (n < 0)
		exit(1);
	put("status", 1, text, (size_t)n);

	unsigned char block[5000];
	for (size_t k = 0; k < sizeof(block); k++)
		block[k] = (unsigned char)(k * 7);
	put("block", 1, block, sizeof(block));
	put("block", 2, block, 100);
}

static void seed_remote(void)
{
	put_str("s3_list", 1,
		"\x06<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListBucketResult "
		"xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>b</Name><Prefix>v/obj/"
		"</Prefix><KeyCount>2</KeyCount><IsTruncated>true</IsTruncated><Contents><Key>v/obj/"
		"0123456789abcdef0123456789abcdef</Key><Size>4136</Size></Contents><Contents><Key>"
		"v/obj/x/y</Key></Contents><NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/"
		"wm36Hy4vbOwM=</NextContinuationToken></ListBucketResult>");
	put_str("s3_list", 2,
		"\x10<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>root</Key>"
		"</Contents></ListBucketResult>");
	put_str("dav_list", 1,
		"<?xml version=\"1.0\" encoding=\"utf-8\"?><D:multistatus xmlns:D=\"DAV:\">"
		"<D:response><D:href>/dav/v/objects/</D:href><D:propstat><D:prop><D:resourcetype>"
		"<D:collection/></D:resourcetype></D:prop></D:propstat></D:response><D:response>"
		"<D:href>/dav/v/objects/0123456789abcdef0123456789abcdef</D:href><D:propstat>"
		"<D:prop><D:resourcetype/></D:prop></D:propstat></D:response><D:response><D:href>"
		"/dav/v/objects/.tmp%20x</D:href></D:response><D:response><D:href>a%C3%A9%2Fb"
		"</D:href></D:response></D:multistatus>");
	const char *urls[] = {"s3://bucket/prefix/vault",
			      "s3+http://127.0.0.1:7480/b/v",
			      "webdavs://alice@dav.example.org/remote.php/dav/files/alice/v",
			      "sftp://bob@[::1]:2222/home/bob/vault",
			      "file:///srv/vault",
			      "webdav://host:80/a%20b/c"};
	for (size_t k = 0; k < sizeof(urls) / sizeof(urls[0]); k++)
		put_str("url", (int)k + 1, urls[k]);
	struct {
		uint32_t rc;
		int64_t status;
		uint8_t flags;
	} __attribute__((packed)) codes[] = {{0, 200, 0}, {0, 404, 0}, {0, 409, 1}, {0, 412, 0},
					     {0, 503, 2}, {7, 0, 0},   {28, 0, 2},  {60, 0, 0}};
	for (size_t k = 0; k < sizeof(codes) / sizeof(codes[0]); k++)
		put("http_errno", (int)k + 1, &codes[k], sizeof(codes[k]));
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: fuzz_seeds CORPUS_DIR\n");
		return 2;
	}
	top = argv[1];
	mkdir(top, 0755);
	seed_config();
	seed_root();
	seed_history();
	seed_page();
	seed_nametab();
	seed_dirbucket();
	seed_small();
	seed_remote();
	return 0;
}

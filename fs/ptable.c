/* ptable: the root's page list as name tables (coffer-format(5), "Name tables"): which tables a
 * commit rewrites (those of the pages it rewrites), their bytes, and the root's header fields
 * to and from a version 3 root. Fetching and opening tables at load is load.c's, sealing and
 * writing them commit.c's.
 * Must never let a commit rewrite a table that could not be read (its pages are unknown), nor
 * give fs a page list that a table did not vouch for. */
#include "fs/fs.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "format/nametab.h"
#include "format/root.h"
#include "lib/buf.h"

/* One table for every NAMETAB_MAX pages; new ones are dirty and have no object yet. */
static int ptables_fit(struct fs *fs)
{
	size_t n = root_tables_for(fs->npages);
	if (n <= fs->ntables)
		return 0;
	struct ptable *v = realloc(fs->tables, n * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t t = fs->ntables; t < n; t++)
		v[t] = (struct ptable){.dirty = true};
	fs->tables = v;
	fs->ntables = n;
	return 0;
}

int ptables_capture(struct fs *fs)
{
	int err = ptables_fit(fs);
	for (size_t p = 0; !err && p < fs->npages; p++) {
		struct ptable *t = &fs->tables[p / NAMETAB_MAX];
		if (fs->pages[p].dirty && t->bad)
			err = -EIO;
		t->dirty |= fs->pages[p].dirty;
	}
	return err;
}

size_t ptable_encode(struct fs *fs, size_t t, const struct oname *names, struct buf *out)
{
	struct nametab_plain *tab = calloc(1, sizeof(*tab)); /* 4 KiB: off the stack */
	size_t first = t * NAMETAB_MAX, live = 0;
	if (!tab) {
		out->err = -ENOMEM;
		return 0;
	}
	tab->kind = NAMETAB_PAGES;
	tab->first = first;
	tab->count =
		(uint32_t)(fs->npages - first < NAMETAB_MAX ? fs->npages - first : NAMETAB_MAX);
	for (uint32_t k = 0; k < tab->count; k++) {
		tab->names[k] = names[first + k];
		live += !oname_is_zero(&names[first + k]);
	}
	nametab_encode(tab, out);
	free(tab);
	return live;
}

void ptables_root_encode(struct fs *fs, const struct oname *tables, struct buf *out)
{
	struct root_plain r = {.gen = fs->gen,
			       .time_ns = fs->root_time,
			       .next_ino = fs->next_ino,
			       .live_inodes = fs->live_inodes,
			       .live_bytes = fs->live_bytes,
			       .npages = (uint32_t)fs->npages,
			       .ntables = (uint32_t)fs->ntables,
			       .tables = (struct oname *)tables};
	root_encode(&r, out);
}

int ptables_root_decode(struct fs *fs, const unsigned char *p, size_t len, struct root_plain *r)
{
	int err = root_decode(p, len, r);
	if (err)
		return err;
	size_t n = root_tables_for(r->npages);
	struct ptable *v = calloc(n ? n : 1, sizeof(*v));
	if (!v) {
		root_plain_free(r);
		return -ENOMEM;
	}
	for (size_t t = 0; t < n; t++)
		v[t] = r->version == ROOT_VERSION ? (struct ptable){.name = r->tables[t]}
						  : (struct ptable){.dirty = true};
	free(fs->tables);
	fs->tables = v;
	fs->ntables = n;
	fs->gen = r->gen;
	fs->root_time = r->time_ns;
	fs->next_ino = r->next_ino;
	fs->live_inodes = r->live_inodes;
	fs->live_bytes = r->live_bytes;
	return 0;
}

/* The pages fs must have: r's, and every page of a table that could not be read (bad), so that
 * no new inode lands in a page whose table cannot be rewritten. */
static size_t pages_needed(const struct fs *fs, const struct root_plain *r)
{
	size_t n = r->npages;
	for (size_t t = 0; t < fs->ntables; t++)
		if (fs->tables[t].bad && n < (t + 1) * NAMETAB_MAX)
			n = (t + 1) * NAMETAB_MAX;
	return n;
}

int ptables_set_pages(struct fs *fs, const struct root_plain *r)
{
	size_t n = pages_needed(fs, r);
	struct page *pages = calloc(n ? n : 1, sizeof(*pages));
	if (!pages)
		return -ENOMEM;
	for (size_t k = 0; k < n; k++)
		pages[k] = (struct page){.name = k < r->npages ? r->pages[k] : (struct oname){{0}},
					 .bad = fs->tables[k / NAMETAB_MAX].bad};
	free(fs->pages);
	fs->pages = pages;
	fs->npages = n;
	return 0;
}

/* fsck: the consistency check of a loaded tree (coffer fsck): every inode page, directory
 * entry, link count and chunk block, with a line per problem. Chunks missing from the cache are
 * fetched while mu is held: it runs on a tree no one else uses (an unmounted vault).
 * Must never modify the tree. */
#include "fs/core.h"
#include "fs/fs.h"
#include <dirent.h>
#include <errno.h>
#include <stdio.h>

struct check {
	struct fs *fs;
	FILE *out;
	long problems;
	uint64_t files, objects;
	struct htab *links; /* ino -> count of entries naming it, as (void *)count */
};

static void problem(struct check *c, const char *fmt, unsigned long long a, unsigned long long b)
{
	fprintf(c->out, "coffer fsck: ");
	fprintf(c->out, fmt, a, b);
	fputc('\n', c->out);
	c->problems++;
}

static void count_links(void *val, void *arg)
{
	struct inode *d = val;
	struct check *c = arg;
	size_t pos = 0;
	struct dent *e;
	while (d->dir && (e = dir_next(d->dir, &pos))) {
		struct inode *i = inode_get(c->fs, e->ino);
		if (!i) {
			problem(c, "directory %llu names missing inode %llu",
				(unsigned long long)d->ino, (unsigned long long)e->ino);
			continue;
		}
		if (e->type != IFTODT(i->mode))
			problem(c, "directory %llu: entry type differs from inode %llu",
				(unsigned long long)d->ino, (unsigned long long)e->ino);
		uintptr_t n = (uintptr_t)htab_get(c->links, &i->ino, sizeof(i->ino));
		htab_put(c->links, &i->ino, sizeof(i->ino), (void *)(n + 1));
		if (i->dir)
			htab_put(c->links, &d->ino, sizeof(d->ino),
				 (void *)((uintptr_t)htab_get(c->links, &d->ino, sizeof(d->ino)) +
					  1));
	}
}

static void check_inode(void *val, void *arg)
{
	struct inode *i = val;
	struct check *c = arg;
	if (i->dir && dir_bad(i->dir))
		problem(c, "directory %llu: its buckets cannot be read (%llu entries unknown)",
			(unsigned long long)i->ino, (unsigned long long)i->dir->split->nentries);
	uintptr_t n = (uintptr_t)htab_get(c->links, &i->ino, sizeof(i->ino));
	uint32_t want = (uint32_t)n + (i->dir ? 1 : 0) + (i->ino == ROOT_INO ? 1 : 0);
	c->files++;
	if (i->nlink != want)
		problem(c, "inode %llu: link count %llu is wrong", (unsigned long long)i->ino,
			(unsigned long long)i->nlink);
	if (i->ino >= c->fs->next_ino)
		problem(c, "inode %llu is past the allocation counter %llu",
			(unsigned long long)i->ino, (unsigned long long)c->fs->next_ino);
	for (size_t k = 0; k < i->nch; k++) {
		if (i->ch[k].state == CH_HOLE)
			continue;
		c->objects++;
		int err = chunk_verify(c->fs, &i->ch[k]);
		if (err)
			problem(c, "inode %llu: chunk %llu is missing or damaged",
				(unsigned long long)i->ino, (unsigned long long)i->ch[k].index);
	}
	if (S_ISREG(i->mode) && i->nch &&
	    i->ch[i->nch - 1].index >= (i->size + CHUNK_SIZE - 1) / CHUNK_SIZE)
		problem(c, "inode %llu: chunk list runs past its size %llu",
			(unsigned long long)i->ino, (unsigned long long)i->size);
}

long fs_check(struct fs *fs, FILE *out, uint64_t *files, uint64_t *objects)
{
	struct check c = {.fs = fs, .out = out, .links = htab_new()};
	if (!c.links)
		return -ENOMEM;
	pthread_mutex_lock(&fs->mu);
	for (size_t p = 0; p < fs->npages; p++)
		if (fs->pages[p].bad)
			problem(&c, "inode page %llu (from inode %llu) cannot be read",
				(unsigned long long)p, (unsigned long long)(p * PAGE_INODES));
	inode_each(fs->inodes, count_links, &c);
	inode_each(fs->inodes, check_inode, &c);
	pthread_mutex_unlock(&fs->mu);
	htab_free(c.links);
	*files = c.files;
	*objects = c.objects + fs->npages;
	return c.problems;
}

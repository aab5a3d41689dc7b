/* merge: the three-way (or two-way) merge of a diverged local tree into the vault's tree, walking
 * both by path and using inode numbers below the common ancestor's next_ino to follow renames.
 * Works on in-memory inodes of trees nobody else uses; file data is never copied: the result
 * names the local tree's (immutable) chunk objects.
 * Must never drop a change of either side, nor free an object (the result only adds names). */
#include "fs/merge.h"
#include "fs/fs.h"
#include "fs/pack.h"
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include "lib/log.h"

struct mctx {
	struct fs *out, *loc, *base;
	uint64_t shared;  /* inode numbers below it name the same file in all three trees */
	struct htab *map; /* local ino -> struct mapped, for hard links */
	char tag[128];	  /* " (conflict HOST YYYY-MM-DD HHMMSS)" */
	struct merge_report *rep;
	bool quiet; /* placing a conflict copy: reported once, as that */
};

void merge_report_free(struct merge_report *r)
{
	for (size_t k = 0; k < r->n; k++)
		free(r->lines[k]);
	free(r->lines);
	*r = (struct merge_report){0};
}

static int report(struct mctx *m, const char *what, const char *path)
{
	struct merge_report *r = m->rep;
	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 16;
		char **v = realloc(r->lines, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		r->lines = v;
		r->cap = cap;
	}
	size_t len = strlen(what) + strlen(path) + 2;
	if (!(r->lines[r->n] = malloc(len)))
		return -ENOMEM;
	snprintf(r->lines[r->n++], len, "%s %s", what, path);
	r->conflicts += strcmp(what, "conflict copy") == 0;
	log_msg(LOG_NOTICE, "merge: %s %s", what, path);
	return 0;
}

static struct inode *live(struct fs *fs, uint64_t ino)
{
	struct inode *i = fs ? inode_get(fs, ino) : NULL;
	return i && i->nlink ? i : NULL;
}

static struct inode *child(struct fs *fs, struct inode *d, const char *name)
{
	struct dent *e = d && d->dir ? dir_find(d->dir, name, strlen(name)) : NULL;
	return e ? inode_get(fs, e->ino) : NULL;
}

static bool same_xattrs(const struct inode *a, const struct inode *b)
{
	if (a->nxa != b->nxa)
		return false;
	for (size_t k = 0; k < a->nxa; k++) {
		struct xattr *y = inode_xattr_find((struct inode *)b, a->xa[k].name);
		if (!y || y->len != a->xa[k].len || memcmp(y->val, a->xa[k].val, y->len))
			return false;
	}
	return true;
}

static bool same_meta(const struct inode *a, const struct inode *b)
{
	return a->mode == b->mode && a->uid == b->uid && a->gid == b->gid && same_xattrs(a, b);
}

/* Whether two inodes hold the same thing (for directories: their own attributes only). */
static bool same(const struct inode *a, const struct inode *b)
{
	if (!a || !b || !same_meta(a, b))
		return a == b;
	if (S_ISDIR(a->mode))
		return true;
	if (a->size != b->size || a->rdev != b->rdev || a->nch != b->nch ||
	    a->mtime.tv_sec != b->mtime.tv_sec || a->mtime.tv_nsec != b->mtime.tv_nsec)
		return false;
	if ((a->target || b->target) && (!a->target || !b->target || strcmp(a->target, b->target)))
		return false;
	for (size_t k = 0; k < a->nch; k++)
		if (a->ch[k].index != b->ch[k].index || a->ch[k].nblocks != b->ch[k].nblocks ||
		    memcmp(&a->ch[k].name, &b->ch[k].name, sizeof(a->ch[k].name)))
			return false;
	return true;
}

/* Gives dst src's attributes and (for files) its content; dst keeps its number and links. */
static int take(struct fs *out, struct inode *dst, const struct inode *src)
{
	while (dst->nxa)
		inode_xattr_remove(dst, dst->xa[0].name);
	for (size_t k = 0; k < src->nxa; k++)
		if (inode_xattr_set(dst, src->xa[k].name, src->xa[k].val, src->xa[k].len))
			return -ENOMEM;
	dst->mode = src->mode;
	dst->uid = src->uid;
	dst->gid = src->gid;
	dst->atime = src->atime;
	dst->mtime = src->mtime;
	dst->ctime = src->ctime;
	inode_touch_page(out, dst->ino);
	out->dirty = true;
	if (S_ISDIR(src->mode))
		return 0;
	dst->size = src->size;
	dst->rdev = src->rdev;
	free(dst->target);
	dst->target = src->target ? strdup(src->target) : NULL;
	struct chunk *ch = src->nch ? malloc(src->nch * sizeof(*ch)) : NULL;
	if ((src->target && !dst->target) || (src->nch && !ch))
		return -ENOMEM;
	if (src->nch)
		memcpy(ch, src->ch, src->nch * sizeof(*ch));
	free(dst->ch); /* the vault's objects stay: a retained root may name them */
	dst->ch = ch;
	dst->nch = dst->chcap = src->nch;
	return 0;
}

/* Entries of m->map own their key. */
struct mapped {
	uint64_t lino, oino;
};

static int map_put(struct mctx *m, uint64_t lino, uint64_t oino)
{
	struct mapped *e = htab_get(m->map, &lino, sizeof(lino));
	if (e) {
		e->oino = oino;
		return 0;
	}
	if (!(e = malloc(sizeof(*e))))
		return -ENOMEM;
	*e = (struct mapped){.lino = lino, .oino = oino};
	int err = htab_put(m->map, &e->lino, sizeof(e->lino), e);
	if (err)
		free(e);
	return err;
}

/* The out inode that local inode lino became, or 0. */
static uint64_t map_get(struct mctx *m, uint64_t lino)
{
	struct mapped *e = htab_get(m->map, &lino, sizeof(lino));
	return e ? e->oino : 0;
}

static void map_free_one(void *val, void *arg)
{
	(void)arg;
	free(val);
}

static uint8_t dtype(uint32_t mode)
{
	return (uint8_t)((mode & S_IFMT) >> 12);
}

/* Links out inode c into directory d as name. */
static int link_in(struct fs *out, struct inode *d, const char *name, struct inode *c)
{
	int err = dir_add(d->dir, name, strlen(name), c->ino, dtype(c->mode));
	if (err)
		return err;
	if (S_ISDIR(c->mode)) {
		c->nlink = c->nlink ? c->nlink : 2; /* linked already: moved (unlinked there) */
		d->nlink++;
	} else {
		c->nlink++;
	}
	c->parent = d->ino;
	inode_touch_page(out, d->ino);
	inode_touch_page(out, c->ino);
	out->dirty = true;
	return 0;
}

/* Removes d/name; a directory that moved (linked at its new path) keeps its links. */
static void unlink_out(struct fs *out, struct inode *d, const char *name, bool moved)
{
	struct inode *c = child(out, d, name);
	dir_remove(d->dir, name, strlen(name));
	inode_touch_page(out, d->ino);
	out->dirty = true;
	if (!c)
		return;
	if (S_ISDIR(c->mode)) {
		c->nlink = moved ? c->nlink : 0;
		d->nlink--;
	} else if (c->nlink) {
		c->nlink--;
	}
	inode_touch_page(out, c->ino);
}

/* A new out inode with l's attributes and content. */
static struct inode *fresh(struct mctx *m, const struct inode *l)
{
	struct inode *i = inode_new(m->out->next_ino, l->mode);
	if (!i)
		return NULL;
	if (take(m->out, i, l) || inode_insert(m->out, i)) {
		inode_free(i);
		return NULL;
	}
	m->out->next_ino++;
	i->nlink = 0;
	return i;
}

static int path_join(char *out, size_t cap, const char *dir, const char *name)
{
	int n = snprintf(out, cap, "%s/%s", strcmp(dir, "/") ? dir : "", name);
	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

static int copy_tree(struct mctx *m, struct inode *d, const char *name, struct inode *l,
		     const char *path);

static int copy_entries(struct mctx *m, struct inode *nd, struct inode *l, const char *path)
{
	size_t pos = 0;
	struct dent *e;
	int err = 0;
	while (!err && (e = dir_next(l->dir, &pos))) {
		struct inode *lc = inode_get(m->loc, e->ino);
		char p[PATH_MAX];
		err = lc ? path_join(p, sizeof(p), path, e->name) : -EIO;
		if (!err)
			err = copy_tree(m, nd, e->name, lc, p);
	}
	return err;
}

/* Places the local inode l (a whole subtree for a directory) at d/name of out. */
static int copy_tree(struct mctx *m, struct inode *d, const char *name, struct inode *l,
		     const char *path)
{
	uint64_t mapped = map_get(m, l->ino);
	struct inode *c = mapped && !S_ISDIR(l->mode) ? inode_get(m->out, mapped) : fresh(m, l);
	if (!c)
		return -ENOMEM;
	int err = mapped ? 0 : map_put(m, l->ino, c->ino);
	if (!err)
		err = link_in(m->out, d, name, c);
	if (!err && S_ISDIR(l->mode))
		return copy_entries(m, c, l, path);
	return err || m->quiet ? err : report(m, "merged", path);
}

/* d/NAME (conflict HOST DATE), or with " 2", " 3"... when that is taken. */
static int conflict_name(struct mctx *m, struct inode *d, const char *name, char *out, size_t cap)
{
	size_t room = NAME_MAX - strlen(m->tag) - 4;
	for (int k = 1; k < 100; k++) {
		char num[8] = "";
		if (k > 1)
			snprintf(num, sizeof(num), " %d", k);
		snprintf(out, cap, "%.*s%s%s", (int)room, name, m->tag, num);
		if (!child(m->out, d, out))
			return 0;
	}
	return -EEXIST;
}

static int conflict_copy(struct mctx *m, struct inode *d, const char *name, struct inode *l,
			 const char *dirpath)
{
	char cname[NAME_MAX + 1], p[PATH_MAX];
	int err = conflict_name(m, d, name, cname, sizeof(cname));
	if (!err)
		err = path_join(p, sizeof(p), dirpath, cname);
	m->quiet = true;
	if (!err)
		err = copy_tree(m, d, cname, l, p);
	m->quiet = false;
	return err ? err : report(m, "conflict copy", p);
}

static int merge_dir(struct mctx *m, struct inode *v, struct inode *l, struct inode *b,
		     const char *path);

/* The base's version of local inode l: by path (bp), else by number when l is older than the
 * base (a rename on this side); *moved tells which. */
static struct inode *base_of(struct mctx *m, struct inode *l, struct inode *bp, bool *moved)
{
	*moved = false;
	if (bp && bp->ino == l->ino)
		return bp;
	struct inode *bi = l->ino < m->shared ? live(m->base, l->ino) : NULL;
	if (bi && (!bp || S_ISDIR(bp->mode) != S_ISDIR(l->mode))) {
		*moved = true;
		return bi;
	}
	return bp;
}

/* Gives the out inode c the local content of l, links it at d/name when the move is this side's,
 * and reports it. */
static int take_here(struct mctx *m, struct inode *d, const char *name, struct inode *c,
		     struct inode *l, bool link, const char *path)
{
	int err = take(m->out, c, l);
	if (!err && link)
		err = link_in(m->out, d, name, c);
	if (!err)
		err = map_put(m, l->ino, c->ino);
	return err ? err : report(m, "merged", path);
}

/* A file (not a directory) l at d/name of the local tree, b its base (moved: found by number,
 * at another path), v what out holds there. */
static int merge_file(struct mctx *m, struct inode *d, const char *name, struct inode *l,
		      struct inode *b, struct inode *v, bool moved, const char *dirpath,
		      const char *path)
{
	uint64_t mapped = map_get(m, l->ino);
	if (mapped && (!v || v->ino != mapped)) /* another link of a file placed already */
		return v ? conflict_copy(m, d, name, l, dirpath)
			 : link_in(m->out, d, name, inode_get(m->out, mapped));
	if (v && same(v, l))
		return map_put(m, l->ino, v->ino);
	/* the file in out that descends from b, wherever the vault has it now */
	struct inode *vb = b ? live(m->out, b->ino) : NULL;
	vb = vb && !S_ISDIR(vb->mode) ? vb : NULL;
	if (b && same(l, b)) { /* content unchanged here */
		if (!moved)
			return v ? map_put(m, l->ino, v->ino) : 0;
		if (v)
			return conflict_copy(m, d, name, l, dirpath);
		return vb ? link_in(m->out, d, name, vb) ?: map_put(m, l->ino, vb->ino)
			  : copy_tree(m, d, name, l, path);
	}
	if (!v && vb && same(vb, b))
		return take_here(m, d, name, vb, l, moved, path);
	if (!v && vb && !moved) /* moved and changed there, changed here */
		return conflict_copy(m, d, name, l, dirpath);
	if (!v)
		return copy_tree(m, d, name, l, path);
	if (b && !S_ISDIR(v->mode) && same(v, b) && (!vb || vb == v))
		return take_here(m, d, name, v, l, false, path);
	return conflict_copy(m, d, name, l, dirpath);
}

/* A directory l at d/name of the local tree. */
static int merge_subdir(struct mctx *m, struct inode *d, const char *name, struct inode *l,
			struct inode *b, struct inode *v, bool moved, const char *dirpath,
			const char *path)
{
	b = b && S_ISDIR(b->mode) ? b : NULL;
	if (!v && b && moved) { /* renamed here: the vault's directory moves along */
		struct inode *vb = live(m->out, b->ino);
		if (vb && S_ISDIR(vb->mode)) {
			int err = link_in(m->out, d, name, vb);
			return err ? err : merge_dir(m, vb, l, b, path);
		}
	}
	if (!v && !b)
		return copy_tree(m, d, name, l, path);
	if (v && !S_ISDIR(v->mode))
		return conflict_copy(m, d, name, l, dirpath);
	if (!v) { /* deleted there: keep only what changed here */
		struct inode *nd = fresh(m, l);
		int err = nd ? link_in(m->out, d, name, nd) : -ENOMEM;
		if (!err)
			err = merge_dir(m, nd, l, b, path);
		if (!err && nd->dir->live == 0 && same(l, b))
			unlink_out(m->out, d, name, false);
		return err;
	}
	if (b && !same(l, b) && same(v, b)) {
		int err = take(m->out, v, l);
		if (err)
			return err;
	}
	return merge_dir(m, v, l, b, path);
}

/* Removes from out's directory v what the base's b held unchanged (a delete here). */
static void delete_tree(struct mctx *m, struct inode *v, struct inode *b)
{
	size_t pos = 0;
	struct dent *e;
	while ((e = dir_next(v->dir, &pos))) {
		struct inode *vc = inode_get(m->out, e->ino), *bc = child(m->base, b, e->name);
		if (!vc || !bc)
			continue;
		if (S_ISDIR(vc->mode) && S_ISDIR(bc->mode))
			delete_tree(m, vc, bc);
		if (S_ISDIR(vc->mode) ? vc->dir->live == 0 && same(vc, bc) : same(vc, bc))
			unlink_out(m->out, v, e->name, false);
	}
}

/* The base's b at v/name is gone from the local directory: deleted or moved here. */
static void local_delete(struct mctx *m, struct inode *v, const char *name, struct inode *b)
{
	struct inode *vc = child(m->out, v, name);
	if (!vc)
		return;
	if (live(m->loc, b->ino) && vc->ino == b->ino) { /* moved here: placed at its new path */
		unlink_out(m->out, v, name, true);
		return;
	}
	if (S_ISDIR(b->mode) && S_ISDIR(vc->mode)) {
		delete_tree(m, vc, b);
		if (vc->dir->live == 0 && same(vc, b))
			unlink_out(m->out, v, name, false);
	} else if (!S_ISDIR(vc->mode) && same(vc, b)) {
		unlink_out(m->out, v, name, false);
	}
}

static int merge_entry(struct mctx *m, struct inode *v, struct inode *b, struct dent *e,
		       const char *path)
{
	struct inode *l = inode_get(m->loc, e->ino);
	char p[PATH_MAX];
	int err = l ? path_join(p, sizeof(p), path, e->name) : -EIO;
	if (err)
		return err;
	bool moved;
	struct inode *bb = base_of(m, l, child(m->base, b, e->name), &moved);
	struct inode *vc = child(m->out, v, e->name);
	if (S_ISDIR(l->mode))
		return merge_subdir(m, v, e->name, l, bb, vc, moved, path, p);
	if (vc && S_ISDIR(vc->mode))
		return bb && same(l, bb) ? 0 : conflict_copy(m, v, e->name, l, path);
	return merge_file(m, v, e->name, l, bb && !S_ISDIR(bb->mode) ? bb : NULL, vc, moved, path,
			  p);
}

static int merge_dir(struct mctx *m, struct inode *v, struct inode *l, struct inode *b,
		     const char *path)
{
	size_t pos = 0;
	struct dent *e;
	int err = 0;
	while (!err && (e = dir_next(l->dir, &pos)))
		err = merge_entry(m, v, b, e, path);
	for (pos = 0; !err && b && (e = dir_next(b->dir, &pos));) {
		struct inode *bc = inode_get(m->base, e->ino);
		if (bc && !dir_find(l->dir, e->name, e->len))
			local_delete(m, v, e->name, bc);
	}
	return err;
}

int fs_merge(struct fs *out, struct fs *local, struct fs *base, const char *host, time_t when,
	     struct merge_report *rep)
{
	struct mctx m = {.out = out, .loc = local, .base = base, .rep = rep};
	m.shared = base ? base->next_ino : 0;
	struct tm tm;
	gmtime_r(&when, &tm);
	char date[32];
	strftime(date, sizeof(date), "%Y-%m-%d %H%M%S", &tm);
	snprintf(m.tag, sizeof(m.tag), " (conflict %.64s %s)", host, date);
	struct inode *v = inode_get(out, ROOT_INO), *l = inode_get(local, ROOT_INO);
	struct inode *b = base ? inode_get(base, ROOT_INO) : NULL;
	if (!v || !l || (base && !b))
		return -EIO;
	if (!(m.map = htab_new()))
		return -ENOMEM;
	if (out->next_ino < local->next_ino)
		out->next_ino = local->next_ino; /* never reuse a number the local tree used */
	if (out->gen < local->gen)
		out->gen = local->gen;	 /* the result's commit is newer than both */
	inode_touch_page(out, ROOT_INO); /* always committed, even when nothing changed */
	out->dirty = true;
	int err = merge_dir(&m, v, l, b, "/");
	if (!err) /* the result names packs of both trees: count them anew */
		err = pack_load(out);
	htab_each(m.map, map_free_one, NULL);
	htab_free(m.map);
	return err;
}

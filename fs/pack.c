/* pack: small files' chunks in shared pack objects (see pack.h). A pack is the sealed blocks of
 * its chunks back to back, copied byte for byte from where they were (a staging object, or an
 * older pack being repacked); each block stays sealed under its chunk's name and index, so a
 * pack has no header and a moved or swapped block still fails to open.
 * Must never free a pack while any chunk of the loaded tree may name it (counts unsure: never),
 * and never copy a repacked block that does not open (its vault copy may be the good one). */
#include "fs/pack.h"
#include "fs/fdcache.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>
#include "format/block.h"
#include "lib/array.h"
#include "lib/log.h"

struct pack_info {
	struct oname name;
	uint32_t live, total; /* live blocks; the pack's size in blocks (0: not known yet) */
	bool repacking;	      /* a commit is moving its live chunks to a new pack */
	bool stuck;	      /* a repack of it failed: not tried again by this mount */
};

static struct pack_info *info_get(const struct packs *p, const struct oname *n)
{
	return p ? htab_get(p->t, n->b, NAME_BYTES) : NULL;
}

static int table_need(struct fs *fs)
{
	if (fs->packs)
		return 0;
	struct packs *p = calloc(1, sizeof(*p));
	if (!p || !(p->t = htab_new())) {
		free(p);
		return -ENOMEM;
	}
	fs->packs = p;
	return 0;
}

static struct pack_info *info_add(struct packs *p, const struct oname *n)
{
	struct pack_info *i = info_get(p, n);
	if (i)
		return i;
	if (!(i = calloc(1, sizeof(*i))))
		return NULL;
	i->name = *n;
	if (htab_put(p->t, i->name.b, NAME_BYTES, i)) {
		free(i);
		return NULL;
	}
	return i;
}

static void free_one(void *val, void *arg)
{
	(void)arg;
	free(val);
}

void pack_table_free(struct packs *p)
{
	if (!p)
		return;
	htab_each(p->t, free_one, NULL);
	htab_free(p->t);
	free(p);
}

struct count {
	struct packs *p;
	int err;
};

/* Every inode counts, linked or not: an unlinked file still open releases its chunks later. */
static void count_chunks(void *val, void *arg)
{
	struct inode *i = val;
	struct count *c = arg;
	for (size_t k = 0; !c->err && k < i->nch; k++) {
		if (oname_is_zero(&i->ch[k].pack))
			continue;
		struct pack_info *pi = info_add(c->p, &i->ch[k].pack);
		if (pi)
			pi->live += i->ch[k].nblocks;
		else
			c->err = -ENOMEM;
	}
}

int pack_load_begin(struct fs *fs)
{
	pack_table_free(fs->packs);
	fs->packs = NULL;
	return table_need(fs);
}

void pack_count_page(struct fs *fs, size_t p)
{
	struct count c = {.p = fs->packs};
	for (uint64_t ino = (uint64_t)p * PAGE_INODES; ino < (uint64_t)(p + 1) * PAGE_INODES;
	     ino++) {
		struct inode *i = inode_peek(fs, ino);
		if (i)
			count_chunks(i, &c);
	}
	if (c.err) /* never free by a count that is too low */
		fs->packs->unsure = true;
}

void pack_load_end(struct fs *fs)
{
	for (size_t p = 0; p < fs->npages; p++)
		fs->packs->unsure |= fs->pages[p].bad; /* its chunks are not counted */
}

int pack_load(struct fs *fs)
{
	int err = pack_load_begin(fs);
	for (size_t p = 0; !err && p < fs->npages; p++)
		pack_count_page(fs, p);
	if (!err)
		pack_load_end(fs);
	return err;
}

/* A pack no chunk names any more: deleted once a root that does not name it is durable. */
static void pack_drop(struct fs *fs, struct pack_info *pi)
{
	if (namelist_add(&fs->pending_free, &pi->name))
		log_msg(LOG_WARNING, "out of memory: an unused pack stays in the cache");
	htab_del(fs->packs->t, pi->name.b, NAME_BYTES);
	free(pi);
}

void pack_release(struct fs *fs, const struct chunk *c)
{
	struct pack_info *pi = info_get(fs->packs, &c->pack);
	if (!pi)
		return;
	pi->live -= pi->live < c->nblocks ? pi->live : c->nblocks;
	if (!pi->live && !pi->repacking && !fs->packs->unsure)
		pack_drop(fs, pi);
}

struct each {
	int (*fn)(const struct oname *n, void *arg);
	void *arg;
	int err;
};

static void each_one(void *val, void *arg)
{
	struct pack_info *pi = val;
	struct each *e = arg;
	if (!e->err)
		e->err = e->fn(&pi->name, e->arg);
}

int pack_each(struct fs *fs, int (*fn)(const struct oname *n, void *arg), void *arg)
{
	struct each e = {.fn = fn, .arg = arg};
	if (fs->packs)
		htab_each(fs->packs->t, each_one, &e);
	return e.err;
}

/* Gives m its place: the end of the last new pack while it has room, else a new pack. */
static int place(struct pack_commit *pc, struct pack_move *m)
{
	size_t last = pc->npacks - 1;
	if (!pc->npacks || pc->blocks[last] + m->nblocks > PACK_MAX_BLOCKS) {
		struct oname *v = realloc(pc->packs, (pc->npacks + 1) * sizeof(*v));
		if (v)
			pc->packs = v;
		uint32_t *b = v ? realloc(pc->blocks, (pc->npacks + 1) * sizeof(*b)) : NULL;
		if (!b)
			return -ENOMEM;
		pc->blocks = b;
		oname_new(&pc->packs[pc->npacks]);
		pc->blocks[pc->npacks] = 0;
		last = pc->npacks++;
	}
	m->pack = (uint32_t)last;
	m->first = pc->blocks[last];
	pc->blocks[last] += m->nblocks;
	return 0;
}

static int move_add(struct pack_commit *pc, uint64_t ino, struct chunk *c)
{
	void *grown = array_reserve(pc->v, pc->n, &pc->cap, sizeof(*pc->v), 64);
	if (!grown)
		return -ENOMEM;
	pc->v = grown;
	struct pack_move *m = &pc->v[pc->n];
	*m = (struct pack_move){.ino = ino,
				.chunk = c->name,
				.nblocks = c->nblocks,
				.src_pack = c->pack,
				.src_first = c->first,
				.at = c};
	int err = place(pc, m);
	if (!err)
		pc->n++;
	return err;
}

/* A regular file whose whole data is one staging chunk (index 0) of 1..PACK_FILE_BLOCKS. */
static bool packable(const struct inode *i)
{
	const struct chunk *c = i->ch;
	return S_ISREG(i->mode) && i->nlink && i->nch == 1 && c->index == 0 &&
	       c->state == CH_STAGING && c->nblocks && c->nblocks <= PACK_FILE_BLOCKS &&
	       oname_is_zero(&c->pack);
}

/* The small files of the dirty pages (the pages this commit writes). */
static int plan_new(struct fs *fs, struct pack_commit *pc)
{
	int err = 0;
	for (size_t p = 0; !err && p < fs->npages; p++) {
		uint64_t ino = fs->pages[p].dirty ? p * PAGE_INODES : (p + 1) * PAGE_INODES;
		for (; !err && ino < (p + 1) * PAGE_INODES; ino++) {
			struct inode *i = inode_peek(fs, ino);
			if (i && packable(i))
				err = move_add(pc, ino, &i->ch[0]);
		}
	}
	return err;
}

/* The size in blocks of a cached pack (0: not cached, or not whole blocks). */
static uint32_t cached_blocks(struct fs *fs, const struct oname *n)
{
	int fd = store_obj_open(fs->st, n, O_RDONLY);
	struct stat st;
	bool ok = fd >= 0 && fstat(fd, &st) == 0 && st.st_size % SEALED_BLOCK == 0 &&
		  (size_t)st.st_size <= PACK_MAX_BYTES;
	if (fd >= 0)
		close(fd);
	return ok ? (uint32_t)(st.st_size / SEALED_BLOCK) : 0;
}

struct pick {
	struct fs *fs;
	struct pack_commit *pc;
	uint32_t budget; /* blocks one commit may still repack */
	int err;
};

/* A pack less than half live, in the cache (a commit never waits on the network), goes. */
static void pick_sparse(void *val, void *arg)
{
	struct pack_info *pi = val;
	struct pick *k = arg;
	if (k->err || pi->repacking || pi->stuck || !pi->live || pi->live > k->budget)
		return;
	if (!pi->total)
		pi->total = cached_blocks(k->fs, &pi->name);
	if (!pi->total || (uint64_t)pi->live * 2 >= pi->total ||
	    !store_obj_cached(k->fs->st, &pi->name))
		return;
	if ((k->err = namelist_add(&k->pc->olds, &pi->name)))
		return;
	pi->repacking = true;
	k->budget -= pi->live;
}

static void collect_repacked(void *val, void *arg)
{
	struct inode *i = val;
	struct pick *k = arg;
	for (size_t c = 0; !k->err && c < i->nch; c++) {
		struct pack_info *pi = info_get(k->fs->packs, &i->ch[c].pack);
		if (!pi || !pi->repacking)
			continue;
		k->err = move_add(k->pc, i->ino, &i->ch[c]);
		inode_touch_page(k->fs, i->ino);
	}
}

static int plan_repack(struct fs *fs, struct pack_commit *pc)
{
	struct pick k = {.fs = fs, .pc = pc, .budget = PACK_MAX_BLOCKS};
	if (!fs->packs || fs->packs->unsure)
		return 0;
	htab_each(fs->packs->t, pick_sparse, &k);
	if (!k.err && pc->olds.n)
		inode_scan(fs, collect_repacked, &k); /* the pages it touches stay in memory */
	return k.err;
}

int pack_capture(struct fs *fs, struct pack_commit *pc)
{
	int err = plan_repack(fs, pc);
	if (!err)
		err = plan_new(fs, pc);
	if (!err && pc->npacks) /* what pack_finish needs, so that it allocates nothing */
		err = table_need(fs)					   ? -ENOMEM
		      : (pc->live = calloc(pc->npacks, sizeof(*pc->live))) ? 0
									   : -ENOMEM;
	for (size_t k = 0; k < pc->n; k++) {
		pc->v[k].at->pack = pc->packs[pc->v[k].pack];
		pc->v[k].at->first = pc->v[k].first;
	}
	return err;
}

void pack_capture_done(struct pack_commit *pc)
{
	for (size_t k = 0; k < pc->n; k++) {
		struct pack_move *m = &pc->v[k];
		if (m->at) {
			m->at->pack = m->src_pack;
			m->at->first = m->src_first;
			m->at = NULL;
		}
	}
}

static int pread_all(int fd, void *p, size_t len, off_t off)
{
	for (size_t got = 0; got < len;) {
		ssize_t r = pread(fd, (char *)p + got, len - got, off + (off_t)got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -EBADMSG;
		got += (size_t)r;
	}
	return 0;
}

/* Whether every block of a repacked chunk opens (a damaged cached pack is not spread). */
static int check_blocks(struct fs *fs, const struct pack_move *m, const unsigned char *b)
{
	unsigned char plain[DATA_BLOCK];
	int err = 0;
	for (uint32_t k = 0; !err && k < m->nblocks; k++)
		err = block_open(fs->keys->data, &m->chunk, k, b + (size_t)k * SEALED_BLOCK, plain);
	wipe(plain, sizeof(plain));
	return err;
}

/* Copies m's sealed blocks from where they are into its pack's bytes. */
static int copy_in(struct fs *fs, struct pack_commit *pc, const struct pack_move *m,
		   unsigned char *pack)
{
	bool own = oname_is_zero(&m->src_pack);
	unsigned char *dst = pack + (size_t)m->first * SEALED_BLOCK;
	int fd = store_obj_open(fs->st, own ? &m->chunk : &m->src_pack, O_RDONLY);
	int err = fd < 0 ? fd
			 : pread_all(fd, dst, (size_t)m->nblocks * SEALED_BLOCK,
				     (off_t)m->src_first * SEALED_BLOCK);
	if (fd >= 0)
		close(fd);
	if (!err && !own)
		err = check_blocks(fs, m, dst);
	if (err && !own) {
		pc->bad_src = m->src_pack;
		char hex[2 * NAME_BYTES + 1];
		oname_hex(&m->src_pack, hex);
		log_msg(LOG_ERR, "pack %s cannot be repacked (%s): it is kept as it is", hex,
			strerror(-err));
	}
	return err;
}

int pack_write(struct fs *fs, struct pack_commit *pc)
{
	int err = 0;
	for (size_t k = 0, p = 0; !err && p < pc->npacks; p++) {
		size_t len = (size_t)pc->blocks[p] * SEALED_BLOCK;
		unsigned char *b = malloc(len);
		err = b ? 0 : -ENOMEM;
		for (; !err && k < pc->n && pc->v[k].pack == p; k++)
			err = copy_in(fs, pc, &pc->v[k], b);
		if (!err)
			err = store_obj_write(fs->st, &pc->packs[p], b, len);
		free(b);
	}
	return err;
}

int pack_lists(struct pack_commit *pc, struct namelist *added, struct namelist *free, size_t *nolds)
{
	int err = 0;
	for (size_t p = 0; !err && p < pc->npacks; p++)
		err = namelist_add(added, &pc->packs[p]);
	for (size_t k = 0; !err && k < pc->olds.n; k++)
		if (!(err = namelist_add(free, &pc->olds.v[k])))
			(*nolds)++;
	return err;
}

/* The chunk m moved, if its inode still holds it. */
static struct chunk *moved_chunk(struct fs *fs, const struct pack_move *m)
{
	struct inode *i = inode_peek(fs, m->ino);
	for (size_t k = 0; i && k < i->nch; k++)
		if (!memcmp(i->ch[k].name.b, m->chunk.b, NAME_BYTES))
			return &i->ch[k];
	return NULL;
}

/* A packed staging object released between the capture and now: pack_cleanup deletes it, and
 * since no root ever named it, it must not reach the freed journal (a remote delete). */
static void unpend(struct fs *fs, const struct oname *n)
{
	struct namelist *l = &fs->pending_free;
	for (size_t k = 0; k < l->n; k++)
		if (!memcmp(l->v[k].b, n->b, NAME_BYTES)) {
			l->v[k] = l->v[--l->n];
			return;
		}
}

/* A failed commit: a small file's chunk that no root names is a staging chunk again (the next
 * commit packs it); a repacked pack is kept, and counted as before. */
static void give_up(struct fs *fs, struct pack_commit *pc)
{
	for (size_t k = 0; k < pc->n; k++) {
		struct chunk *c = moved_chunk(fs, &pc->v[k]);
		bool own = oname_is_zero(&pc->v[k].src_pack);
		if (own && c && c->state == CH_SEALED && oname_is_zero(&c->pack))
			c->state = CH_STAGING;
	}
	for (size_t k = 0; k < pc->olds.n; k++) {
		struct pack_info *pi = info_get(fs->packs, &pc->olds.v[k]);
		if (!pi)
			continue;
		pi->repacking = false;
		pi->stuck |= !memcmp(pi->name.b, pc->bad_src.b, NAME_BYTES);
		if (!pi->live && !fs->packs->unsure)
			pack_drop(fs, pi);
	}
}

/* Points each moved chunk still there at its new pack; returns the live blocks per pack. */
static void adopt(struct fs *fs, struct pack_commit *pc, uint32_t *live)
{
	for (size_t k = 0; k < pc->n; k++) {
		struct pack_move *m = &pc->v[k];
		struct chunk *c = moved_chunk(fs, m);
		bool own = oname_is_zero(&m->src_pack);
		bool same = c && !memcmp(c->pack.b, m->src_pack.b, NAME_BYTES) &&
			    (own || c->first == m->src_first);
		if (same) {
			c->pack = pc->packs[m->pack];
			c->first = m->first;
			live[m->pack] += m->nblocks;
		} else if (!c && own) {
			unpend(fs, &m->chunk);
		}
	}
}

void pack_finish(struct fs *fs, struct pack_commit *pc, int err)
{
	if (err) {
		give_up(fs, pc);
		return;
	}
	adopt(fs, pc, pc->live); /* allocates nothing: the root naming the packs is durable */
	for (size_t p = 0; p < pc->npacks; p++) {
		struct pack_info *pi = info_add(fs->packs, &pc->packs[p]);
		if (!pi) { /* uncounted: from now on this mount frees no pack */
			fs->packs->unsure = true;
			continue;
		}
		pi->total = pc->blocks[p];
		pi->live = pc->live[p];
		if (!pi->live && !fs->packs->unsure)
			pack_drop(fs, pi);
	}
	for (size_t k = 0; k < pc->olds.n; k++) {
		struct pack_info *pi = info_get(fs->packs, &pc->olds.v[k]);
		if (pi) { /* in this commit's free list: no longer counted */
			htab_del(fs->packs->t, pi->name.b, NAME_BYTES);
			free(pi);
		}
	}
}

void pack_cleanup(struct fs *fs, struct pack_commit *pc, int err)
{
	for (size_t k = 0; !err && k < pc->n; k++)
		if (oname_is_zero(&pc->v[k].src_pack)) {
			fdcache_forget(fs->fdc, &pc->v[k].chunk);
			store_obj_unlink(fs->st, &pc->v[k].chunk);
		}
	for (size_t p = 0; err && p < pc->npacks; p++)
		store_obj_unlink(fs->st, &pc->packs[p]);
	free(pc->v);
	free(pc->packs);
	free(pc->blocks);
	free(pc->live);
	namelist_free(&pc->olds);
	*pc = (struct pack_commit){0};
}

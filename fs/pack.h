/* pack: small files' chunks packed into shared pack objects (coffer-format(5), "Packs"): which
 * chunks a commit packs or repacks, the copying of their sealed bytes into new packs, and the
 * live block count of every pack, which frees a pack with its last live block.
 * Must never re-seal or open a block (packing moves sealed bytes), never free a pack that a
 * loaded record may still name, and never point a chunk at a pack before the root naming it is
 * durable. */
#ifndef COFFER_FS_PACK_H
#define COFFER_FS_PACK_H
#include "fs/fs.h"

/* One chunk a commit places into a new pack. */
struct pack_move {
	uint64_t ino;
	struct oname chunk; /* the chunk's name (its blocks' AAD) */
	uint32_t nblocks;
	struct oname src_pack; /* where its bytes are: zero: its own (staging) object */
	uint32_t src_first;
	uint32_t pack, first; /* the new pack (index into pack_commit.packs) and its place there */
	struct chunk *at;     /* during the capture only */
};

/* What one commit packs: moves into npacks new packs, and the sparse packs it repacks. */
struct pack_commit {
	struct pack_move *v;
	size_t n, cap;
	struct oname *packs; /* the new packs */
	uint32_t *blocks;    /* their sizes in sealed blocks */
	uint32_t *live;	     /* their live blocks, counted by pack_finish */
	size_t npacks;
	struct namelist olds; /* repacked packs: freed once the new root is durable */
	struct oname bad_src; /* a repacked pack that could not be read: not tried again */
};

/* The live pack table of a tree (fs->packs). */
struct packs {
	struct htab *t; /* pack name -> struct pack_info */
	bool unsure;	/* a page failed to load: its chunks are not counted, so no pack is freed */
};

/* Counts the live blocks of every pack the loaded tree names, all of it in memory (merge). */
int pack_load(struct fs *fs);
/* The same while a mount reads its pages one by one: begin (-ENOMEM), then page p's inodes
 * right after it is read, then end once every page was (a bad page makes the counts unsure). */
int pack_load_begin(struct fs *fs);
void pack_count_page(struct fs *fs, size_t p);
void pack_load_end(struct fs *fs);
void pack_table_free(struct packs *p);
/* A packed chunk is released (mu held): its pack loses its blocks; a pack with none left goes
 * to pending_free. */
void pack_release(struct fs *fs, const struct chunk *c);
/* Calls fn for every pack the tree names (mu held by the caller, or a tree nobody else uses). */
int pack_each(struct fs *fs, int (*fn)(const struct oname *n, void *arg), void *arg);

/* Commit, under freeze (exclusive) and mu, before any page is serialized: plans the packing of
 * the dirty pages' small staging files and the repacking of sparse packs (whose inodes' pages
 * it marks dirty), and puts the planned locations in place for the pages to record. */
int pack_capture(struct fs *fs, struct pack_commit *pc);
/* After the pages are serialized: puts the chunks' current locations back (the packs do not
 * exist yet); their bytes stay where they are until the commit is durable. */
void pack_capture_done(struct pack_commit *pc);
/* With no lock held: writes the new packs (fsynced). */
int pack_write(struct fs *fs, struct pack_commit *pc);
/* Appends the new packs to added and the repacked ones to free (counted in *nolds). */
int pack_lists(struct pack_commit *pc, struct namelist *added, struct namelist *free,
	       size_t *nolds);
/* Under freeze (exclusive) and mu, once the commit is durable (err 0) or failed: points the
 * moved chunks at their packs and counts them, or gives the packing up (the small files'
 * chunks are staging chunks again, for the next commit to pack). */
void pack_finish(struct fs *fs, struct pack_commit *pc, int err);
/* With no lock held, after pack_finish: deletes the packed staging objects (err 0) or the new
 * packs (err), and frees pc. */
void pack_cleanup(struct fs *fs, struct pack_commit *pc, int err);

#endif

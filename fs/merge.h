/* merge: folding a tree that diverged (this cache's commits never uploaded) into the vault's
 * tree, three ways against their common ancestor when it is readable, two ways when it is not.
 * The rules, case by case, are in docs/design.md ("Merging a divergence").
 * Must never drop a change of either side: where both changed a file, the vault's stays under its
 * name and the local one is kept beside it as a conflict copy. */
#ifndef COFFER_FS_MERGE_H
#define COFFER_FS_MERGE_H
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct fs;

/* What a merge did: one line per path it took from the local tree ("merged PATH") and per
 * conflict copy ("conflict copy PATH"). */
struct merge_report {
	char **lines;
	size_t n, cap, conflicts;
};
void merge_report_free(struct merge_report *r);

/* Loads a sealed root (already authenticated or not: it is opened here) into fs, a fresh tree
 * from fs_open that nobody uses yet; the pages it names are fetched as needed. */
int fs_load_root(struct fs *fs, const void *sealed, size_t len);

/* Applies to out (loaded with the vault's tree) the changes local made relative to base (NULL:
 * the common ancestor is unreadable, merge two ways). host and when name the conflict copies.
 * The three trees must not be in use by anyone else; local and base are only read. out is left
 * dirty, for the caller's fs_commit. */
int fs_merge(struct fs *out, struct fs *local, struct fs *base, const char *host, time_t when,
	     struct merge_report *rep);

#endif

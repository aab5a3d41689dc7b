/* merge (sync side): when attach finds that this cache holds commits never uploaded while the
 * vault moved on, builds the three trees (the vault's root, the cache's, and their common
 * ancestor: the last root this cache uploaded or adopted, `roots/GEN` on the vault), fetching
 * the page tables and inode pages the cache lacks (authenticated as fetch.c does), merges them
 * (fs/merge.c) and commits the result as the cache's root, on top of the vault's: the sync then
 * uploads and publishes it. Without a readable ancestor the merge is two-way. Must never change the
 * cache's root unless the merge committed, nor install an object that does not open as what the
 * root says it is. */
#include "sync/engine.h"
#include "sync/remote/keys.h"
#include "cache/files.h"
#include "cache/freed.h"
#include "format/nametab.h"
#include "format/root.h"
#include "fs/core.h"
#include "fs/merge.h"
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include "lib/log.h"

/* The object n of kind w in the cache, fetched (verified) when missing; plain (when not NULL)
 * gets its opened payload, from the cache's copy too. */
static int fetch_into_cache(struct sync *s, const struct oname *n, const struct obj_want *w,
			    struct buf *plain)
{
	struct buf b = {0};
	int err;
	if (store_obj_cached(s->st, n)) {
		err = plain ? store_obj_read(s->st, n, &b) : 0;
		if (!err && plain)
			err = fetch_check(s->keys, n, w, &b, plain);
	} else {
		err = fetch_get_checked(s->r, s->keys, n, w, &b, plain);
		if (!err)
			err = store_obj_install(s->st, n, b.data, b.len);
	}
	buf_free(&b);
	return err;
}

/* The fetch hook while the merge loads its trees (the sync's own is set only once attach is
 * done): an object the cache lacks is fetched and authenticated as fetch.c does; a cached copy
 * is never replaced here. */
static int merge_fetch(void *arg, const struct oname *n, const struct obj_want *w, bool replace)
{
	return replace ? -EBADMSG : fetch_into_cache(arg, n, w, NULL);
}

/* The page names of version 3 root rp from its page tables (brought into the cache). */
static int fetch_tables(struct sync *s, struct root_plain *rp)
{
	const struct obj_want w = {.kind = OBJ_TABLE};
	struct nametab_plain *tab = calloc(1, sizeof(*tab));
	int err = tab ? 0 : -ENOMEM;
	for (uint32_t t = 0; !err && t < rp->ntables; t++) {
		struct buf plain = {0};
		if (oname_is_zero(&rp->tables[t]))
			continue;
		err = fetch_into_cache(s, &rp->tables[t], &w, &plain);
		if (!err &&
		    (nametab_decode(plain.data, plain.len, tab) || root_fill_table(rp, t, tab)))
			err = -EBADMSG;
		buf_free(&plain);
	}
	free(tab);
	return err;
}

/* Brings every page table and inode page the sealed root names into the cache, verified. */
static int fetch_pages(struct sync *s, const struct buf *sealed)
{
	struct root_plain rp = {0};
	int err = root_unseal(s->keys->root, s->vid, sealed->data, sealed->len, &rp);
	const struct obj_want w = {.kind = OBJ_PAGE};
	if (!err)
		err = fetch_tables(s, &rp);
	for (uint32_t p = 0; !err && p < rp.npages; p++)
		if (!oname_is_zero(&rp.pages[p]))
			err = fetch_into_cache(s, &rp.pages[p], &w, NULL);
	root_plain_free(&rp);
	return err;
}

/* A tree of its own loaded from sealed root bytes (pages fetched first; what the pages name,
 * split directories' buckets and tables, through merge_fetch as the load asks for it). */
static int load_tree(struct sync *s, const struct buf *sealed, struct fs **out)
{
	*out = NULL;
	int err = fetch_pages(s, sealed);
	if (!err)
		err = fs_open(out, s->st, (struct keyring *)s->keys, s->vid, false);
	store_set_fetch(s->st, merge_fetch, s);
	if (!err)
		err = fs_load_root(*out, sealed->data, sealed->len);
	store_set_fetch(s->st, NULL, NULL);
	return err;
}

/* The common ancestor: the vault's retained copy of the last root this cache uploaded or
 * adopted; NULL (and a log line) when it is gone or unreadable. */
static struct fs *load_base(struct sync *s)
{
	char key[REMOTE_KEY_MAX];
	struct buf B = {0};
	struct root_info bi;
	struct fs *fs = NULL;
	remote_key_retained_root(key, s->state.synced);
	int err = s->state.synced ? s->r->ops->get(s->r, key, REMOTE_ROOT_MAX, &B, NULL) : -ENOENT;
	if (!err && (root_peek(s->keys, s->vid, B.data, B.len, &bi) || bi.gen != s->state.synced))
		err = -EBADMSG;
	if (!err)
		err = load_tree(s, &B, &fs);
	buf_free(&B);
	if (err) {
		fs_close(fs);
		fprintf(stderr,
			"coffer: the common ancestor (generation %" PRIu64
			") is not readable (%s): merging two ways\n",
			s->state.synced, strerror(-err));
		return NULL;
	}
	return fs;
}

/* "generation G: N conflict copies: PATH, PATH...; M paths merged", cut to fit (with "...") */
static void summary(struct sync *s, const struct merge_report *rep, uint64_t gen)
{
	char *o = s->stats.last_merge;
	size_t cap = sizeof(s->stats.last_merge), n = 0;
	n += (size_t)snprintf(o, cap, "generation %" PRIu64 ": %zu conflict cop%s", gen,
			      rep->conflicts, rep->conflicts == 1 ? "y" : "ies");
	const char *sep = ": ";
	for (size_t k = 0; k < rep->n && n < cap; k++) {
		const char *p = rep->lines[k] + strlen("conflict copy ");
		if (strncmp(rep->lines[k], "conflict copy ", 14))
			continue;
		if (n + strlen(sep) + strlen(p) + 40 >= cap) {
			n += (size_t)snprintf(o + n, cap - n, "%s...", sep);
			break;
		}
		n += (size_t)snprintf(o + n, cap - n, "%s%s", sep, p);
		sep = ", ";
	}
	if (n < cap)
		snprintf(o + n, cap - n, "; %zu paths merged", rep->n - rep->conflicts);
}

/* Keeps the report's lines and the summary for sync_merge_log. */
static void keep_log(struct sync *s, const struct merge_report *rep)
{
	struct buf b = {0};
	for (size_t k = 0; k < rep->n; k++) {
		buf_put(&b, "merge: ", 7);
		buf_put(&b, rep->lines[k], strlen(rep->lines[k]));
		buf_u8(&b, '\n');
	}
	buf_put(&b, "merge: ", 7);
	buf_put(&b, s->stats.last_merge, strlen(s->stats.last_merge));
	buf_u8(&b, 0);
	free(s->stats.merge_log);
	s->stats.merge_log = b.err ? NULL : (char *)b.data;
	if (b.err)
		buf_free(&b);
}

void sync_merge_log(struct sync *s)
{
	char *save = NULL;
	for (char *l = s->stats.merge_log ? strtok_r(s->stats.merge_log, "\n", &save) : NULL; l;
	     l = strtok_r(NULL, "\n", &save))
		log_msg(LOG_NOTICE, "%s", l);
	free(s->stats.merge_log);
	s->stats.merge_log = NULL;
}

/* fs_merge logged each path; this sums up. */
static void tell(const struct merge_report *rep, uint64_t gen)
{
	fprintf(stderr,
		"coffer: merged this cache's changes into the vault's; %zu conflict cop%s; the "
		"result is generation %" PRIu64 "\n",
		rep->conflicts, rep->conflicts == 1 ? "y" : "ies", gen);
}

int sync_merge(struct sync *s, const struct buf *L, const struct buf *R)
{
	struct fs *v = NULL, *l = NULL, *b = NULL;
	struct merge_report rep = {0};
	char host[256] = "";
	gethostname(host, sizeof(host) - 1);
	int err = load_tree(s, R, &v);
	if (!err)
		err = load_tree(s, L, &l);
	if (!err)
		b = load_base(s);
	if (!err)
		err = fs_merge(v, l, b, host[0] ? host : "unknown", time(NULL), &rep);
	/* records of this cache's own commits: what they freed, the vault's tree may still name */
	if (!err)
		err = cache_freed_trim(s->st, s->state.synced);
	if (!err)
		err = fs_commit(v);
	if (!err) {
		tell(&rep, fs_generation(v));
		summary(s, &rep, fs_generation(v));
		keep_log(s, &rep);
		s->state.synced = s->v.gen; /* the merge's parent: the vault's root */
		memcpy(s->state.synced_hash, s->v.hash, sizeof(s->state.synced_hash));
	} else {
		fprintf(stderr, "coffer: merging with the vault failed: %s\n", strerror(-err));
	}
	merge_report_free(&rep);
	fs_close(b);
	fs_close(l);
	fs_close(v);
	return err;
}

/* verify: the deep check of a vault, root by root (the current one, then with snapshots every
 * retained one, newest first): fetch and open its page tables (version 3 roots) for the names
 * of its inode pages, fetch and open those pages and the bucket tables and buckets of split
 * directories, learn from their directory entries the path of each inode, then fetch and open every
 * chunk they name that no root checked before; several objects at once. Fetched bytes are checked
 * by sync/fetch.c's fetch_check, held in memory only, and discarded (a page's payload wiped). Must
 * never write to a cache, and never upload anything but a cached copy that opens as the object it
 * replaces. */
#include "sync/verify.h"
#include "lib/array.h"
#include "sync/engine.h"
#include "format/nametab.h"
#include "format/dirbucket.h"
#include "format/page.h"
#include "format/root.h"
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/htab.h"

#define PARALLEL_DEFAULT 8
#define PARALLEL_MAX	 64
#define DEPTH_MAX	 2048 /* path components: PATH_MAX allows no more */
#define PATH_CAP	 4096

/* An object checked, by name; problem: its index in the report plus one, or 0. */
struct seen {
	struct oname name;
	size_t problem;
};

/* The directory entry that names an inode, in the root being walked (the first one seen). */
struct link {
	uint64_t ino, parent;
	const char *name; /* points into a page's payload */
	uint16_t len;
};

/* A further packed chunk that a pack job checks in the same fetch. */
struct pack_ref {
	struct obj_want want;
	uint64_t ino;
	bool failed;
};

/* One object to fetch and open. */
struct job {
	struct oname name;
	struct obj_want want;
	uint64_t ino; /* chunks: the file that holds it; pages, tables: the page or table index */
	bool fresh;   /* no root checked it before: counted */
	int err;
	enum verify_repair repair;
	int repair_err;
	struct buf plain;		/* pages, tables: the payload */
	struct page_plain *page;	/* pages: decoded, pointing into plain */
	struct nametab_plain *table;	/* tables: decoded */
	struct dirbucket_plain *bucket; /* buckets: decoded, pointing into plain */
	uint64_t dir;			/* a split directory's table or bucket: its inode */
	uint32_t pos, nbuckets;		/* its position, and the directory's bucket count */
	struct pack_ref *refs;		/* packs: the other chunks in it this root names */
	size_t nrefs, cap;
};

/* File data (a chunk object, or a pack of small files' chunks), not metadata. */
static bool data_job(const struct job *j)
{
	return j->want.kind == OBJ_CHUNK || j->want.kind == OBJ_PACK;
}

struct walk {
	struct remote *r;
	const struct keyring *k;
	const uint8_t *vid;
	const struct verify_opts *o;
	struct verify_report *rep;
	struct htab *seen;  /* name -> struct seen */
	struct htab *links; /* ino -> struct link, of the root being walked */
	uint64_t gen;	    /* the root being walked */
	pthread_mutex_t mu; /* guards next and rep's counters while jobs run */
	struct job *jobs;
	size_t njobs, next;
};

/* Whether bytes b open as j's object: for a pack, as every packed chunk of j. */
static int check_bytes(struct walk *w, const struct job *j, const struct buf *b)
{
	int err = fetch_check(w->k, &j->name, &j->want, b, NULL);
	for (size_t k = 0; !err && k < j->nrefs; k++)
		err = fetch_check(w->k, &j->name, &j->refs[k].want, b, NULL);
	return err;
}

/* The cached copy of j's object, if it opens, replaces the vault's; then the vault's is checked
 * again (a page's payload then comes from that check). */
static enum verify_repair repair(struct walk *w, struct job *j)
{
	struct buf c = {0}, b = {0};
	char key[REMOTE_KEY_MAX];
	remote_key_object(key, &j->name);
	int err = store_obj_read(w->o->repair_from, &j->name, &c);
	enum verify_repair res = err == -ENOENT ? REPAIR_NOT_CACHED : REPAIR_CACHE_DAMAGED;
	if (!err && (err = check_bytes(w, j, &c)) == 0) {
		res = REPAIR_UPLOAD_FAILED;
		err = w->r->ops->put(w->r, key, c.data, c.len);
	}
	if (!err) {
		res = REPAIR_RECHECK_FAILED;
		err = fetch_get_checked(w->r, w->k, &j->name, &j->want, &b,
					!data_job(j) ? &j->plain : NULL);
		if (!err && j->nrefs)
			err = check_bytes(w, j, &b);
	}
	buf_free(&c);
	buf_free(&b);
	j->repair_err = err;
	return err ? res : REPAIR_DONE;
}

/* A page's payload must decode, be the page at its position and hold only its own inodes. */
static int decode_page(struct job *j)
{
	if (!(j->page = calloc(1, sizeof(*j->page))))
		return -ENOMEM;
	int err = page_decode(j->plain.data, j->plain.len, j->page);
	if (err == -EINVAL || (!err && j->page->index != j->ino))
		err = -EBADMSG;
	for (uint32_t k = 0; !err && k < j->page->count; k++)
		if (j->page->rec[k].ino / PAGE_INODES != j->ino)
			err = -EBADMSG;
	return err;
}

/* A table's payload must decode (whether it is the table at its position, walk_root checks). */
static int decode_table(struct job *j)
{
	if (!(j->table = calloc(1, sizeof(*j->table))))
		return -ENOMEM;
	int err = nametab_decode(j->plain.data, j->plain.len, j->table);
	return err == -EINVAL ? -EBADMSG : err;
}

/* A bucket's payload must decode, and be bucket pos of its directory holding only the names
 * that hash to it. */
static int decode_bucket(struct job *j)
{
	if (!(j->bucket = calloc(1, sizeof(*j->bucket))))
		return -ENOMEM;
	int err = dirbucket_decode(j->plain.data, j->plain.len, j->bucket);
	const struct dirbucket_plain *b = j->bucket;
	if (err == -EINVAL ||
	    (!err && (b->dir != j->dir || b->index != j->pos || b->nbuckets > j->nbuckets)))
		err = -EBADMSG;
	for (uint32_t k = 0; !err && k < b->count; k++)
		if (dirbucket_of(dirbucket_hash(b->dent[k].name, b->dent[k].len), j->nbuckets) !=
		    j->pos)
			err = -EBADMSG;
	return err;
}

static int decode_meta(struct job *j)
{
	return j->want.kind == OBJ_PAGE	    ? decode_page(j)
	       : j->want.kind == OBJ_BUCKET ? decode_bucket(j)
					    : decode_table(j);
}

/* A pack's chunks (the first one's fetch brought its bytes), each checked in those bytes; a
 * pack that did not come fails for all of them. The job fails with the first failure. */
static void check_refs(struct walk *w, struct job *j, const struct buf *b)
{
	int fetch_err = j->err;
	j->err = 0;
	for (size_t k = 0; k < j->nrefs; k++) {
		struct pack_ref *r = &j->refs[k];
		int err = b->len ? fetch_check(w->k, &j->name, &r->want, b, NULL) : fetch_err;
		r->failed = err != 0;
		if (err && !j->err)
			j->err = err;
	}
}

static void check_job(struct walk *w, struct job *j, size_t *len)
{
	struct buf b = {0};
	bool meta = !data_job(j);
	j->err = fetch_get_checked(w->r, w->k, &j->name, &j->want, &b, meta ? &j->plain : NULL);
	if (j->want.kind == OBJ_PACK)
		check_refs(w, j, &b);
	*len = b.len;
	buf_free(&b);
	if ((j->err == -ENOENT || j->err == -EBADMSG) && w->o->repair_from)
		j->repair = repair(w, j);
	if (meta && (!j->err || j->repair == REPAIR_DONE)) {
		int err = decode_meta(j);
		if (err) {
			j->err = err;
			j->repair = REPAIR_NONE; /* it opens: the cache's copy would be the same */
		}
	}
}

static void *runner(void *arg)
{
	struct walk *w = arg;
	for (;;) {
		pthread_mutex_lock(&w->mu);
		size_t k = w->next++;
		pthread_mutex_unlock(&w->mu);
		if (k >= w->njobs)
			return NULL;
		size_t len = 0;
		check_job(w, &w->jobs[k], &len);
		pthread_mutex_lock(&w->mu);
		if (w->jobs[k].fresh) {
			w->rep->objects++;
			w->rep->bytes += len;
		}
		if (w->o->progress)
			w->o->progress(w->o->arg, w->rep->objects, w->rep->bytes);
		pthread_mutex_unlock(&w->mu);
	}
}

static void run_jobs(struct walk *w, struct job *jobs, size_t n)
{
	w->jobs = jobs;
	w->njobs = n;
	w->next = 0;
	pthread_t th[PARALLEL_MAX];
	unsigned want = w->o->parallel ? w->o->parallel : PARALLEL_DEFAULT, started = 0;
	want = want > PARALLEL_MAX ? PARALLEL_MAX : want;
	for (; started + 1 < want && started + 1 < n; started++)
		if (pthread_create(&th[started], NULL, runner, w))
			break;
	runner(w);
	while (started)
		pthread_join(th[--started], NULL);
}

static void job_free(struct job *j)
{
	if (j->page)
		page_plain_free(j->page);
	free(j->page);
	free(j->table);
	if (j->bucket)
		dirbucket_plain_free(j->bucket);
	free(j->bucket);
	if (j->plain.data)
		wipe(j->plain.data, j->plain.len);
	buf_free(&j->plain);
}

/* The seen entry of n, made when missing (*fresh then true); NULL when out of memory. */
static struct seen *seen_get(struct walk *w, const struct oname *n, bool *fresh)
{
	struct seen *s = htab_get(w->seen, n->b, NAME_BYTES);
	*fresh = !s;
	if (s || !(s = calloc(1, sizeof(*s))))
		return s;
	s->name = *n;
	if (htab_put(w->seen, s->name.b, NAME_BYTES, s)) {
		free(s);
		return NULL;
	}
	return s;
}

static struct verify_problem *add_problem(struct verify_report *rep, const char *key,
					  enum verify_kind kind, int err, uint64_t gen)
{
	void *grown = array_reserve(rep->v, rep->n, &rep->cap, sizeof(*rep->v), 16);
	if (!grown)
		return NULL;
	rep->v = grown;
	struct verify_problem *p = &rep->v[rep->n++];
	memset(p, 0, sizeof(*p));
	snprintf(p->key, sizeof(p->key), "%s", key);
	p->kind = kind;
	p->err = err;
	p->gen = gen;
	if (err == -ENOENT)
		rep->missing++;
	else if (err == -EBADMSG)
		rep->damaged++;
	else
		rep->unreadable++;
	return p;
}

/* Appends name to out (at *pos, below cap), control characters and backslashes escaped. */
static void put_name(char *out, size_t cap, size_t *pos, const char *name, size_t len)
{
	for (size_t k = 0; k < len && *pos + 5 < cap; k++) {
		unsigned char c = (unsigned char)name[k];
		if (c < 0x20 || c == 0x7f || c == '\\')
			*pos += (size_t)snprintf(out + *pos, cap - *pos, "\\x%02x", c);
		else
			out[(*pos)++] = (char)c;
	}
	out[*pos] = 0;
}

/* The path of ino in the root being walked; a part no readable page names shows as
 * "(inode N)". */
static void path_of(struct walk *w, uint64_t ino, char *out, size_t cap)
{
	static const size_t depth = DEPTH_MAX;
	const struct link **chain = calloc(depth, sizeof(*chain));
	size_t n = 0, pos = 0;
	uint64_t at = ino;
	while (chain && at != ROOT_INO && n < depth) {
		const struct link *l = htab_get(w->links, &at, sizeof(at));
		if (!l)
			break;
		chain[n++] = l;
		at = l->parent;
	}
	if (at != ROOT_INO)
		pos = (size_t)snprintf(out, cap, "(inode %llu)", (unsigned long long)at);
	else if (!n)
		pos = (size_t)snprintf(out, cap, "/");
	else
		out[0] = 0;
	while (n-- > 0 && pos + 2 < cap) {
		out[pos++] = '/';
		put_name(out, cap, &pos, chain[n]->name, chain[n]->len);
	}
	free(chain);
}

static void add_path(struct verify_problem *p, const char *path)
{
	for (size_t k = 0; k < p->npaths; k++)
		if (strcmp(p->paths[k], path) == 0)
			return;
	if (p->npaths < VERIFY_PATHS_MAX && (p->paths[p->npaths] = strdup(path)))
		p->npaths++;
	else
		p->more++;
}

static void add_path_of(struct walk *w, struct verify_problem *p, uint64_t ino)
{
	char path[PATH_CAP];
	path_of(w, ino, path, sizeof(path));
	add_path(p, path);
}

static enum verify_kind kind_of(const struct job *j)
{
	if (j->dir)
		return j->want.kind == OBJ_BUCKET ? VERIFY_BUCKET : VERIFY_BUCKET_TABLE;
	return j->want.kind == OBJ_PAGE	   ? VERIFY_PAGE
	       : j->want.kind == OBJ_TABLE ? VERIFY_TABLE
					   : VERIFY_CHUNK;
}

/* Records a failed job (a problem the first time its object fails) with the paths it belongs
 * to in this root; -ENOMEM when out of memory. */
static int note_failure(struct walk *w, struct job *j, struct seen *s)
{
	char key[REMOTE_KEY_MAX];
	remote_key_object(key, &j->name);
	if (!s->problem) {
		struct verify_problem *p = add_problem(w->rep, key, kind_of(j), j->err, w->gen);
		if (!p)
			return -ENOMEM;
		p->repair = j->repair;
		p->repair_err = j->repair_err;
		w->rep->repaired += j->repair == REPAIR_DONE;
		s->problem = w->rep->n;
	}
	struct verify_problem *p = &w->rep->v[s->problem - 1];
	for (size_t k = 0; k < j->nrefs; k++) /* a pack: the files whose chunks fail */
		if (j->refs[k].failed)
			add_path_of(w, p, j->refs[k].ino);
	if (j->want.kind == OBJ_PACK)
		return 0;
	if (data_job(j) || j->dir) {
		add_path_of(w, p, j->dir ? j->dir : j->ino);
		return 0;
	}
	/* the page's (or table's pages') inodes, as far as other pages name them */
	uint64_t span =
		j->want.kind == OBJ_TABLE ? (uint64_t)NAMETAB_MAX * PAGE_INODES : PAGE_INODES;
	uint64_t first = j->ino * span;
	for (uint64_t ino = first; ino < first + span; ino++)
		if (ino == ROOT_INO || htab_get(w->links, &ino, sizeof(ino)))
			add_path_of(w, p, ino);
	return 0;
}

/* Learns the entries dent[0..n) of directory parent; -ENOMEM when out of memory. */
static int learn_dents(struct walk *w, uint64_t parent, const struct page_dent *dent, uint32_t n)
{
	for (uint32_t d = 0; d < n; d++) {
		const struct page_dent *e = &dent[d];
		if (htab_get(w->links, &e->ino, sizeof(e->ino)))
			continue;
		struct link *l = malloc(sizeof(*l));
		if (!l)
			return -ENOMEM;
		*l = (struct link){e->ino, parent, e->name, e->len};
		if (htab_put(w->links, &l->ino, sizeof(l->ino), l)) {
			free(l);
			return -ENOMEM;
		}
	}
	return 0;
}

/* Learns the entries of the decoded pages and buckets; -ENOMEM when out of memory. */
static int learn_links(struct walk *w, struct job *jobs, size_t n)
{
	int err = 0;
	for (size_t k = 0; !err && k < n; k++) {
		for (uint32_t r = 0; !err && jobs[k].page && r < jobs[k].page->count; r++) {
			const struct page_record *rec = &jobs[k].page->rec[r];
			err = learn_dents(w, rec->ino, rec->dent, rec->ndent);
		}
		if (!err && jobs[k].bucket)
			err = learn_dents(w, jobs[k].dir, jobs[k].bucket->dent,
					  jobs[k].bucket->count);
	}
	return err;
}

/* What fetching chunk c's object must bring, and its name (a pack, when packed). */
static const struct oname *chunk_want(const struct page_chunk *c, struct obj_want *w)
{
	bool packed = !oname_is_zero(&c->pack);
	*w = (struct obj_want){.kind = packed ? OBJ_PACK : OBJ_CHUNK,
			       .nblocks = c->nblocks,
			       .first = c->first,
			       .chunk = c->name};
	return packed ? &c->pack : &c->name;
}

/* A packed chunk of a pack this run fetches: checked by its job (the first one too). */
static int add_ref(struct job *j, const struct obj_want *want, uint64_t ino)
{
	void *grown = array_reserve(j->refs, j->nrefs, &j->cap, sizeof(*j->refs), 16);
	if (!grown)
		return -ENOMEM;
	j->refs = grown;
	j->refs[j->nrefs++] = (struct pack_ref){.want = *want, .ino = ino};
	return 0;
}

/* One chunk reference of a record: a job when no root checked its object yet (a pack's other
 * chunks join its job, found through packs); a path for an object already known bad. */
static int chunk_job(struct walk *w, const struct page_chunk *c, uint64_t ino, struct job *v,
		     size_t *cap, struct htab *packs)
{
	struct obj_want want;
	const struct oname *n = chunk_want(c, &want);
	bool fresh;
	struct seen *s = seen_get(w, n, &fresh);
	if (!s)
		return -ENOMEM;
	if (!fresh && s->problem)
		add_path_of(w, &w->rep->v[s->problem - 1], ino);
	struct job *pj = want.kind == OBJ_PACK ? htab_get(packs, n->b, NAME_BYTES) : NULL;
	if (pj)
		return add_ref(pj, &want, ino);
	if (!fresh)
		return 0;
	struct job *j = &v[(*cap)++];
	*j = (struct job){.name = *n, .want = want, .ino = ino, .fresh = true};
	if (want.kind != OBJ_PACK)
		return 0;
	return htab_put(packs, j->name.b, NAME_BYTES, j) ? -ENOMEM : add_ref(j, &want, ino);
}

static void chunk_jobs_free(struct job *v, size_t n)
{
	for (size_t k = 0; v && k < n; k++)
		free(v[k].refs);
	free(v);
}

/* The chunks of the decoded pages that no root checked yet, as jobs in *out; a chunk already
 * known to be bad gets this root's path. */
static int chunk_jobs(struct walk *w, struct job *pages, size_t np, struct job **out, size_t *n)
{
	size_t total = 0, cap = 0;
	for (size_t k = 0; k < np; k++)
		for (uint32_t r = 0; pages[k].page && r < pages[k].page->count; r++)
			total += pages[k].page->rec[r].nch;
	struct job *v = calloc(total ? total : 1, sizeof(*v));
	struct htab *packs = htab_new();
	int err = v && packs ? 0 : -ENOMEM;
	for (size_t k = 0; !err && k < np; k++)
		for (uint32_t r = 0; !err && pages[k].page && r < pages[k].page->count; r++) {
			const struct page_record *rec = &pages[k].page->rec[r];
			for (uint32_t c = 0; !err && c < rec->nch; c++)
				err = chunk_job(w, &rec->ch[c], rec->ino, v, &cap, packs);
		}
	htab_free(packs);
	if (err) {
		chunk_jobs_free(v, cap);
		return err;
	}
	*out = v;
	*n = cap;
	return 0;
}

static void link_free(void *val, void *arg)
{
	(void)arg;
	free(val);
}

/* Notes the failed jobs of a run. */
static int note_failures(struct walk *w, struct job *jobs, size_t n)
{
	int err = 0;
	for (size_t k = 0; !err && k < n; k++) {
		bool fresh;
		struct seen *s = jobs[k].err ? seen_get(w, &jobs[k].name, &fresh) : NULL;
		if (jobs[k].err == -ENOMEM)
			err = -ENOMEM;
		else if (jobs[k].err)
			err = s ? note_failure(w, &jobs[k], s) : -ENOMEM;
	}
	return err;
}

/* Jobs in *out for the objects of names[0..n) that are not zero, of kind kind; -ENOMEM. */
static int name_jobs(struct walk *w, const struct oname *names, uint32_t n, enum obj_kind kind,
		     struct job **out, size_t *nj)
{
	struct job *v = calloc(n ? n : 1, sizeof(*v));
	*out = v;
	*nj = 0;
	for (uint32_t k = 0; v && k < n; k++) {
		if (oname_is_zero(&names[k]))
			continue;
		bool fresh;
		if (!seen_get(w, &names[k], &fresh))
			return -ENOMEM;
		v[(*nj)++] = (struct job){.name = names[k],
					  .want = {.kind = kind},
					  .ino = k,
					  .fresh = fresh};
	}
	return v ? 0 : -ENOMEM;
}

/* The page names of version 3 root rp from its tables' jobs; a table that opens but is not the
 * one at its position is damaged. */
static void fill_pages(struct root_plain *rp, struct job *tables, size_t nt)
{
	for (size_t k = 0; k < nt; k++)
		if (tables[k].table &&
		    root_fill_table(rp, (uint32_t)tables[k].ino, tables[k].table)) {
			tables[k].err = -EBADMSG;
			tables[k].repair =
				REPAIR_NONE; /* it opens: the cache's copy would be the same */
		}
}

static void jobs_free(struct job *jobs, size_t n)
{
	for (size_t k = 0; jobs && k < n; k++)
		job_free(&jobs[k]);
	free(jobs);
}

/* Jobs for the bucket tables of every split directory the decoded pages hold. */
static int dirtable_jobs(struct walk *w, const struct job *pages, size_t np, struct job **out,
			 size_t *n)
{
	size_t total = 0;
	for (size_t k = 0; k < np; k++)
		for (uint32_t r = 0; pages[k].page && r < pages[k].page->count; r++)
			total += pages[k].page->rec[r].ntables;
	struct job *v = *out = calloc(total ? total : 1, sizeof(*v));
	*n = 0;
	for (size_t k = 0; v && k < np; k++)
		for (uint32_t r = 0; pages[k].page && r < pages[k].page->count; r++) {
			const struct page_record *rec = &pages[k].page->rec[r];
			for (uint32_t t = 0; t < rec->ntables; t++) {
				bool fresh;
				if (oname_is_zero(&rec->tables[t]))
					continue;
				if (!seen_get(w, &rec->tables[t], &fresh))
					return -ENOMEM;
				v[(*n)++] = (struct job){.name = rec->tables[t],
							 .want = {.kind = OBJ_TABLE},
							 .ino = t,
							 .fresh = fresh,
							 .dir = rec->ino,
							 .pos = t,
							 .nbuckets = rec->nbuckets};
			}
		}
	return v ? 0 : -ENOMEM;
}

/* The number of buckets a directory's table j lists, once it is the table at its position. */
static uint32_t dirtable_count(struct job *j)
{
	if (!j->table)
		return 0;
	if (nametab_bind(j->table, NAMETAB_BUCKETS, j->dir, j->pos, j->nbuckets)) {
		j->err = -EBADMSG;
		j->repair = REPAIR_NONE; /* it opens: the cache's copy would be the same */
		return 0;
	}
	return j->table->count;
}

/* Jobs for the buckets the good tables list. */
static int bucket_jobs(struct walk *w, struct job *tabs, size_t nt, struct job **out, size_t *n)
{
	size_t total = 0;
	for (size_t k = 0; k < nt; k++)
		total += dirtable_count(&tabs[k]);
	struct job *v = *out = calloc(total ? total : 1, sizeof(*v));
	*n = 0;
	for (size_t k = 0; v && k < nt; k++)
		for (uint32_t j = 0; !tabs[k].err && tabs[k].table && j < tabs[k].table->count;
		     j++) {
			const struct oname *b = &tabs[k].table->names[j];
			bool fresh;
			if (oname_is_zero(b))
				continue;
			if (!seen_get(w, b, &fresh))
				return -ENOMEM;
			v[(*n)++] = (struct job){.name = *b,
						 .want = {.kind = OBJ_BUCKET},
						 .ino = tabs[k].dir,
						 .fresh = fresh,
						 .dir = tabs[k].dir,
						 .pos = (uint32_t)tabs[k].table->first + j,
						 .nbuckets = tabs[k].nbuckets};
		}
	return v ? 0 : -ENOMEM;
}

/* Split directories: their tables, then their buckets, whose entries are learned as links. */
static int walk_split(struct walk *w, const struct job *pages, size_t np, struct job **tabs,
		      size_t *nt, struct job **buckets, size_t *nb)
{
	int err = dirtable_jobs(w, pages, np, tabs, nt);
	if (!err) {
		run_jobs(w, *tabs, *nt);
		err = bucket_jobs(w, *tabs, *nt, buckets, nb);
	}
	if (!err) {
		run_jobs(w, *buckets, *nb);
		err = learn_links(w, *buckets, *nb);
	}
	return err;
}

static int walk_root(struct walk *w, struct root_plain *rp)
{
	w->gen = rp->gen;
	struct job *tables = NULL, *pages = NULL, *chunks = NULL, *dtabs = NULL, *buckets = NULL;
	size_t nt = 0, np = 0, nc = 0, ndt = 0, nb = 0;
	int err = (w->links = htab_new()) ? 0 : -ENOMEM;
	if (!err)
		err = name_jobs(w, rp->tables, rp->ntables, OBJ_TABLE, &tables, &nt);
	if (!err) {
		run_jobs(w, tables, nt);
		fill_pages(rp, tables, nt);
		err = name_jobs(w, rp->pages, rp->npages, OBJ_PAGE, &pages, &np);
	}
	if (!err)
		run_jobs(w, pages, np);
	if (!err)
		err = learn_links(w, pages, np);
	if (!err)
		err = walk_split(w, pages, np, &dtabs, &ndt, &buckets, &nb);
	if (!err)
		err = note_failures(w, tables, nt);
	if (!err)
		err = note_failures(w, pages, np);
	if (!err)
		err = note_failures(w, dtabs, ndt);
	if (!err)
		err = note_failures(w, buckets, nb);
	if (!err)
		err = chunk_jobs(w, pages, np, &chunks, &nc);
	if (!err)
		run_jobs(w, chunks, nc);
	if (!err)
		err = note_failures(w, chunks, nc);
	jobs_free(tables, nt);
	jobs_free(pages, np);
	jobs_free(dtabs, ndt);
	jobs_free(buckets, nb);
	chunk_jobs_free(chunks, nc);
	if (w->links)
		htab_each(w->links, link_free, NULL);
	htab_free(w->links);
	w->links = NULL;
	return err;
}

/* Fetches and opens the root at key (of generation gen, unless 0) into rp. */
static int read_root(struct walk *w, const char *key, uint64_t gen, struct root_plain *rp)
{
	struct buf b = {0};
	int err = w->r->ops->get(w->r, key, REMOTE_ROOT_MAX, &b, NULL);
	if (err == -EFBIG)
		err = -EBADMSG;
	if (!err)
		err = root_unseal(w->k->root, w->vid, b.data, b.len, rp);
	if (!err && gen && rp->gen != gen) {
		root_plain_free(rp);
		err = -EBADMSG; /* a root filed under another generation */
	}
	if (!err) {
		w->rep->roots++;
		w->rep->bytes += b.len;
	}
	buf_free(&b);
	return err;
}

/* Checks the root at key and walks it unless its generation was walked (skip). A root that is
 * missing or does not open is a problem; -ENOMEM or a remote error end the walk. */
static int check_root(struct walk *w, const char *key, uint64_t gen, uint64_t skip,
		      uint64_t *walked)
{
	struct root_plain rp = {0};
	int err = read_root(w, key, gen, &rp);
	if (err == -ENOENT || err == -EBADMSG)
		return add_problem(w->rep, key, VERIFY_ROOT, err, gen) ? 0 : -ENOMEM;
	if (!err && (!skip || rp.gen != skip))
		err = walk_root(w, &rp);
	if (walked && !err)
		*walked = rp.gen;
	root_plain_free(&rp);
	return err;
}

static void seen_free(void *val, void *arg)
{
	(void)arg;
	free(val);
}

static int walk_vault(struct walk *w)
{
	uint64_t *gens = NULL, current = 0;
	size_t ng = 0;
	int err = remote_list_gens(w->r, &gens, &ng);
	struct buf probe = {0};
	if (!err && ng == 0) { /* a vault that never published a root has nothing to check */
		err = w->r->ops->get(w->r, remote_key_root(), REMOTE_ROOT_MAX, &probe, NULL);
		buf_free(&probe);
		if (err == -ENOENT) {
			free(gens);
			return 0;
		}
		err = 0;
	}
	if (!err)
		err = check_root(w, remote_key_root(), 0, 0, &current);
	for (size_t k = ng; !err && w->o->snapshots && k-- > 0;) {
		char key[REMOTE_KEY_MAX];
		remote_key_retained_root(key, gens[k]);
		err = check_root(w, key, gens[k], current, NULL);
	}
	free(gens);
	return err;
}

int vault_verify(struct remote *r, const struct keyring *keys, const uint8_t vault_id[16],
		 const struct verify_opts *o, struct verify_report *out)
{
	memset(out, 0, sizeof(*out));
	struct walk w = {.r = r, .k = keys, .vid = vault_id, .o = o, .rep = out};
	if (!(w.seen = htab_new()))
		return -ENOMEM;
	pthread_mutex_init(&w.mu, NULL);
	int err = walk_vault(&w);
	pthread_mutex_destroy(&w.mu);
	htab_each(w.seen, seen_free, NULL);
	htab_free(w.seen);
	return err;
}

int verify_status(const struct verify_report *rep)
{
	return rep->missing + rep->damaged + rep->unreadable > rep->repaired ? 1 : 0;
}

void verify_report_free(struct verify_report *rep)
{
	for (size_t k = 0; k < rep->n; k++)
		for (size_t i = 0; i < rep->v[k].npaths; i++)
			free(rep->v[k].paths[i]);
	free(rep->v);
	memset(rep, 0, sizeof(*rep));
}

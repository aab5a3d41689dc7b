/* listing: the bounds every backend's list keeps to against a hostile or broken server: at most
 * LIST_KEYS_MAX keys and LIST_PAGES_MAX pages per listing, at most LIST_EMPTY_RUN_MAX truncated
 * pages in a row without a key, a continuation token never the same twice in a row, keys that
 * keep ascending from page to page (S3 lists in key order), and answers of at most
 * LIST_PAGE_BYTES (one S3 page) or LIST_ANSWER_BYTES (a whole WebDAV PROPFIND or SFTP folder).
 * Pure bookkeeping: no I/O, one copy of the last token and key, never a copy per key.
 * Must never let a listing run, or grow memory, without bound. */
#ifndef COFFER_REMOTE_LISTING_H
#define COFFER_REMOTE_LISTING_H
#include <stdbool.h>
#include <stddef.h>

#define LIST_KEYS_MAX	   ((size_t)1 << 24) /* 16,777,216 keys: a 16 TiB vault of 1 MiB chunks */
#define LIST_PAGES_MAX	   ((size_t)1 << 15) /* 32,768 pages: twice what 1,000-key pages need */
#define LIST_EMPTY_RUN_MAX 64
#define LIST_PAGE_BYTES	   ((size_t)16 << 20)  /* one S3 page of 1,000 keys is ~0.3 MB */
#define LIST_ANSWER_BYTES  ((size_t)256 << 20) /* ~1 million WebDAV entries of ~250 bytes */

struct list_guard {
	size_t keys_max, pages_max; /* LIST_KEYS_MAX, LIST_PAGES_MAX (smaller in tests) */
	size_t keys, pages, empty_run, page_keys;
	char *token;	/* the last continuation token, or NULL */
	char *last_key; /* the greatest key of the pages so far, or NULL */
	bool ordered;	/* keys must ascend (S3) */
	char why[160];	/* after an error: what the server did */
};

/* Starts a listing with these caps; ordered: keys must ascend across the listing. */
void list_guard_init(struct list_guard *g, size_t keys_max, size_t pages_max, bool ordered);
/* Counts one key the server listed (also one the caller then skips): -EPROTO past the key cap
 * or, when ordered, for a key not above the previous one; -ENOMEM. */
int list_guard_key(struct list_guard *g, const char *key);
/* Ends a page; next is its continuation token (NULL: the listing is complete). -EPROTO past the
 * page cap, for a token equal to the previous one, or after too many empty pages in a row. */
int list_guard_page(struct list_guard *g, const char *next);
void list_guard_free(struct list_guard *g);

#endif

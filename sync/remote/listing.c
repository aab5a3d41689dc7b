/* listing: the bounds of one listing (see listing.h): counts keys and pages, remembers the last
 * continuation token and the greatest key, says in g->why what a refused server did.
 * Must never allocate per key, print, or do I/O. */
#include "sync/remote/listing.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void list_guard_init(struct list_guard *g, size_t keys_max, size_t pages_max, bool ordered)
{
	*g = (struct list_guard){.keys_max = keys_max, .pages_max = pages_max, .ordered = ordered};
}

static int refuse(struct list_guard *g, const char *what, size_t n)
{
	snprintf(g->why, sizeof(g->why), what, n);
	return -EPROTO;
}

static int set_str(char **dst, const char *s)
{
	char *d = strdup(s);
	if (!d)
		return -ENOMEM;
	free(*dst);
	*dst = d;
	return 0;
}

int list_guard_key(struct list_guard *g, const char *key)
{
	if (g->keys >= g->keys_max)
		return refuse(g, "more than %zu keys in one listing", g->keys_max);
	g->keys++;
	g->page_keys++;
	if (!g->ordered)
		return 0;
	if (g->last_key && strcmp(key, g->last_key) <= 0)
		return refuse(g, "keys out of order (or listed again) on page %zu", g->pages + 1);
	return set_str(&g->last_key, key);
}

int list_guard_page(struct list_guard *g, const char *next)
{
	g->pages++;
	g->empty_run = g->page_keys ? 0 : g->empty_run + 1;
	g->page_keys = 0;
	if (!next)
		return 0;
	if (g->token && strcmp(next, g->token) == 0)
		return refuse(g, "the same continuation token again after page %zu", g->pages);
	if (g->pages >= g->pages_max)
		return refuse(g, "more than %zu pages in one listing", g->pages_max);
	if (g->empty_run >= LIST_EMPTY_RUN_MAX)
		return refuse(g, "%zu truncated pages in a row without a key", g->empty_run);
	return set_str(&g->token, next);
}

void list_guard_free(struct list_guard *g)
{
	free(g->token);
	free(g->last_key);
	g->token = g->last_key = NULL;
}

/* root: the codec of roots (coffer-format(5), "Roots"): generation, commit time, inode and byte
 * counts, format parameters, the inode pages (version 3: their count and the names of the name
 * tables that list them, format/nametab.h; versions 1 and 2: their names inline) and (versions
 * 2, 3) the chain section: the parent root and the published history (format/history.h), sealed
 * under the root key; and the pure check that binds a decoded page table to its root.
 * Pure: no I/O and no in-memory filesystem (fs/ converts). */
#ifndef COFFER_FORMAT_ROOT_H
#define COFFER_FORMAT_ROOT_H
#include <stddef.h>
#include <stdint.h>
#include "format/format.h"
#include "format/history.h"
#include "format/nametab.h"
#include "lib/buf.h"

struct root_plain {
	uint64_t gen;
	int64_t time_ns; /* commit time, ns since the epoch */
	uint64_t next_ino;
	uint64_t live_inodes, live_bytes; /* inodes with nlink > 0, sum of regular file sizes */
	uint32_t npages;
	/* zero: a page with no live inode; owned when decoded. A decoded version 3 root has them
	 * all zero until root_fill_table has filled them from each table; root_encode ignores
	 * them. */
	struct oname *pages;
	/* Version 3: the ntables = root_tables_for(npages) NAMETAB_PAGES tables, table t naming
	 * pages t * NAMETAB_MAX on (zero: all of its pages are zero); owned when decoded. Versions
	 * 1 and 2 decode with none. */
	uint32_t ntables;
	struct oname *tables;
	uint32_t version; /* decoded: ROOT_VERSION, _2 or _1 (no chain: all zero) */
	struct root_chain chain;
};

/* The number of page tables that list npages pages. */
uint32_t root_tables_for(uint64_t npages);

void root_aad(const uint8_t vault_id[VAULT_ID_BYTES], uint8_t aad[ROOT_AAD_BYTES]);
/* Writes ROOT_VERSION (npages and root_tables_for(npages) table names: tables[t] for
 * t < ntables, zero past it), or ROOT_VERSION_2 (the page names inline) when r->version says r
 * was decoded from version 1 or 2: a root re-sealed with another chain section (the sync's)
 * keeps its pages as they were. */
void root_encode(const struct root_plain *r, struct buf *out);
/* Decodes a root payload: 0, -EINVAL (damaged or other parameters) or -ENOMEM. */
int root_decode(const unsigned char *b, size_t len, struct root_plain *r);
/* Opens a sealed root of vault_id and decodes it: 0, -EBADMSG (damaged or foreign), -ENOMEM. */
int root_unseal(const struct aead_key *key, const uint8_t vault_id[VAULT_ID_BYTES],
		const void *sealed, size_t len, struct root_plain *r);
void root_plain_free(struct root_plain *r);
/* Fills the names of the pages that the decoded table t of version 3 root r lists: 0, or
 * -EINVAL when t is no table of r or the table is not the one at that position (another kind,
 * an owner, another first index, more names than the root has pages there), which leaves r
 * unchanged. A table may list fewer (the rest stay zero): the root's page count grew past a
 * table that could not be read when the commit was made, which therefore kept it as it was. */
int root_fill_table(struct root_plain *r, uint32_t t, const struct nametab_plain *tab);

#endif

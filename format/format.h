/* format: every magic string, version number and size of coffer-format(5) in one place, and the
 * object name (16 bytes, all zero meaning "no object") with its pure helpers.
 * Must never hold anything but constants and pure functions: no I/O, no state, no fs/ types. */
#ifndef COFFER_FORMAT_H
#define COFFER_FORMAT_H
#include <stddef.h>
#include <stdint.h>
#include "crypto/crypto.h"

#define PAGE_VERSION   3u /* inode pages: a directory's entries inline or split into buckets */
#define PAGE_VERSION_2 2u /* inode pages: a file's chunks as runs of stored chunks (still read) */
#define PAGE_VERSION_1 1u /* inode pages: one reference per chunk, holes included (still read) */

/* Object names and ids */
#define NAME_BYTES	16
#define VAULT_ID_BYTES	16
#define DEVICE_ID_BYTES 16

/* Vault config (text) */
#define CONFIG_MAGIC	     "coffer-vault "
#define CONFIG_KDF	     "argon2id13"
#define CONFIG_WRAPPED_BYTES (KEY_BYTES + SEAL_OVERHEAD) /* the sealed master key */
#define CONFIG_MAX_BYTES     4096			 /* far more than a config can hold */

/* Chunk objects: sealed 4 KiB blocks */
#define BLOCK_MAGIC	"CFBK"
#define BLOCK_AAD_BYTES (4 + NAME_BYTES + 4)
#define DATA_BLOCK	4096u
#define SEALED_BLOCK	(DATA_BLOCK + SEAL_OVERHEAD)
#define CHUNK_BLOCKS	256u
#define CHUNK_SIZE	(DATA_BLOCK * CHUNK_BLOCKS)

/* Metadata sealing: L (u32) || payload || zeros, padded to a bucket */
#define META_LEN_BYTES	 4u
#define META_BUCKET_MIN	 512u
#define META_BUCKET_STEP 65536u

/* Inode pages */
#define PAGE_MAGIC	     "CFPG"
#define PAGE_AAD_BYTES	     (4 + NAME_BYTES)
#define PAGE_HEADER_BYTES    20u /* magic, u32 version, u64 index, u32 count */
#define PAGE_COUNT_AT	     16u /* offset of the record count */
#define PAGE_INODES	     64u
#define ROOT_INO	     1u
#define NAME_MAX_BYTES	     255u /* a directory entry's name */
#define XATTR_NAME_MAX_BYTES 255u
#define XATTR_MAX_COUNT	     65536u /* per inode */
#define TARGET_MAX_BYTES     4095u  /* a symlink's target */

/* Split directories: entries in bucket objects by linear hashing (coffer-format(5)) */
#define DIRBUCKET_MAGIC	    "CFDB"
#define DIRBUCKET_VERSION   1u
#define DIRBUCKET_AAD_BYTES (4 + NAME_BYTES)
#define DIRBUCKET_HEADER    28u	       /* magic, u32 version, u64 dir, u32 index, nbuckets, count */
#define DIR_BUCKETS_MAX	    (1u << 24) /* buckets of one directory */
#define DIR_DENT_BYTES(len) (11u + (len)) /* one entry: u64 ino, u8 type, u16 len, name */
#define DIR_INLINE_MAX	    4096u	  /* entry bytes beyond which a directory splits */
#define DIR_BUCKET_TARGET   4096u	  /* entry bytes per bucket on average: past it, one more */
#define PAGE_DIR_INLINE	    0u		  /* a version 3 directory record: entries follow */
#define PAGE_DIR_SPLIT	    1u		  /* a version 3 directory record: bucket tables follow */

/* What a decoder's -EPROTONOSUPPORT means: an authenticated root or page of a later version */
#define FORMAT_NEWER_MSG                                                                           \
	"it was written by a newer version of coffer than this one; upgrade coffer on this "       \
	"device to use it"

/* Roots */
#define ROOT_MAGIC	     "CFRT"
#define ROOT_AAD_BYTES	     (4 + VAULT_ID_BYTES)
#define ROOT_HEADER_BYTES    64u /* versions 1 and 2: everything before the page names */
#define ROOT_HEADER_V3_BYTES 68u /* version 3: everything before the table names (u64 pages) */
#define ROOT_VERSION	     3u	 /* roots naming page tables (versions 2 and 1 still read) */
#define ROOT_VERSION_2	     2u	 /* roots naming their pages inline, parent and history */
#define ROOT_VERSION_1	     1u	 /* roots without parent: "parent unknown" */
#define ROOT_PAGES_MAX	     (1u << 26) /* inode pages a root may name: 2^32 inodes */
#define ROOT_HASH_BYTES	     32u /* BLAKE2b-256 of a root's (or history segment's) sealed bytes */
#define ROOT_LINK_BYTES	     (8u + ROOT_HASH_BYTES) /* u64 generation, hash */
#define ROOT_CHAIN_FIXED                                                                           \
	16u /* after the parent link: u64 segments, u8 tail, u8 levels, 6 zeros                    \
	     */

/* History segments: the published chain, 16 (generation, root hash) pairs per sealed object */
#define HIST_MAGIC	  "CFHS"
#define HIST_VERSION	  1u
#define HIST_AAD_BYTES	  (4 + VAULT_ID_BYTES)
#define HIST_ENTRIES	  16u /* pairs per segment; a root holds up to 15 more */
#define HIST_LEVELS	  64u /* skip pointers per segment, levels in a root */
#define HIST_HEADER_BYTES 24u /* magic, version, u64 index, u32 entries, u32 pointers */
#define HIST_PLAIN_MAX	  (HIST_HEADER_BYTES + (HIST_ENTRIES + HIST_LEVELS) * ROOT_LINK_BYTES)
#define HIST_MAX_HOPS	  256u /* segments one proof of descent may read */

/* Name tables: the names of up to NAMETAB_MAX objects of one list (the root's inode pages, a
 * split directory's buckets), sealed like pages */
#define NAMETAB_MAGIC	  "CFNT"
#define NAMETAB_AAD_BYTES (4 + NAME_BYTES) /* magic || the table's object name */
#define NAMETAB_VERSION	  1u
#define NAMETAB_MAX	  252u /* names per table: a full table seals into one 4 KiB bucket */
#define NAMETAB_HEADER_BYTES                                                                       \
	32u /* magic, u32 version, u32 kind, u64 owner, u64 first, u32 count                       \
	     */
#define NAMETAB_PLAIN_MAX  (NAMETAB_HEADER_BYTES + NAMETAB_MAX * NAME_BYTES)
#define NAMETAB_SEALED_MAX (4096u + SEAL_OVERHEAD) /* the one bucket a table ever takes */

/* Packs: the sealed blocks of many small files' chunks back to back, each block sealed as in its
 * chunk's own object (AAD "CFBK" || chunk name || block index); no header of their own */
#define PACK_MAX_BLOCKS	  1024u /* sealed blocks per pack (4,235,264 bytes) */
#define PACK_MAX_BYTES	  ((size_t)PACK_MAX_BLOCKS * SEALED_BLOCK)
#define PACK_FILE_BLOCKS  16u	      /* a file of one chunk of at most 16 blocks is packed */
#define PAGE_CHUNK_PACKED 0x80000000u /* version 3 chunk reference: nblocks flag, pack follows */

/* Leases */
#define LEASE_MAGIC	"CFLS"
#define LEASE_AAD_BYTES (4 + VAULT_ID_BYTES)
#define LEASE_PLAIN	128u /* padded, so that the host name's length does not show */
#define LEASE_SEALED	(LEASE_PLAIN + SEAL_OVERHEAD)
#define LEASE_HOST_MAX	64u

/* sync.state (text) */
#define STATE_MAX_BYTES 512u

struct oname {
	uint8_t b[NAME_BYTES];
};

int oname_is_zero(const struct oname *n);
void oname_hex(const struct oname *n, char out[2 * NAME_BYTES + 1]);
/* Parses exactly 32 lowercase hex digits (a NUL-terminated string); -EINVAL otherwise. */
int oname_parse(struct oname *n, const char *hex);

#endif

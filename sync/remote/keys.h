/* keys: the names a vault's objects have on a remote, built and parsed in this one place:
 * "objects/<32 hex>" (sealed objects), "root" (the current root), "roots/<20 digits>" (retained
 * roots by generation), "history/<32 hex>" (history segments), "lease", "config", and the
 * generations listed under roots/.
 * Must never accept a listed name that is not exactly what remote_key_retained_root builds. */
#ifndef COFFER_REMOTE_KEYS_H
#define COFFER_REMOTE_KEYS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "format/format.h"
#include "sync/remote/remote.h"

#define REMOTE_KEY_MAX 64

/* The most bytes a get of each key may return (documented in coffer(1)); an object
 * of file data is asked for with its exact size, which its inode page gives. */
#define REMOTE_CONFIG_MAX ((size_t)CONFIG_MAX_BYTES)
#define REMOTE_LEASE_MAX  ((size_t)4096)
#define REMOTE_ROOT_MAX	  ((size_t)64 << 20)
#define REMOTE_PAGE_MAX	  ((size_t)256 << 20)

struct oname;

/* The key of the object named n. */
void remote_key_object(char key[REMOTE_KEY_MAX], const struct oname *n);
/* The key of the retained root of generation gen. */
void remote_key_retained_root(char key[REMOTE_KEY_MAX], uint64_t gen);
/* The key of the history segment whose BLAKE2b-256 is hash: its first 16 bytes in hex. */
void remote_key_history(char key[REMOTE_KEY_MAX], const uint8_t hash[32]);
/* The most bytes a get of a history segment may return. */
#define REMOTE_HISTORY_MAX ((size_t)8192)
/* The current root, replaced with put_if at each publish. */
const char *remote_key_root(void);
/* The writer lease. */
const char *remote_key_lease(void);
/* The vault config (public: format, vault id, KDF parameters, wrapped master key). */
const char *remote_key_config(void);
/* The prefixes to list objects and retained roots under. */
const char *remote_prefix_objects(void);
const char *remote_prefix_roots(void);
/* Whether key names an object (immutable once written). */
bool remote_key_is_object(const char *key);

/* The generation of a name listed under roots/: exactly 20 decimal digits. -EINVAL for any
 * other name, -ERANGE for a value beyond UINT64_MAX. */
int remote_parse_root_gen(const char *name, uint64_t *gen);
/* The generations under roots/, sorted ascending, other names skipped; free *out. */
int remote_list_gens(struct remote *r, uint64_t **out, size_t *n);

#endif

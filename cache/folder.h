/* folder: the definition of the opaque struct store: the descriptors of the cache folder, for
 * the files of cache/ only. Also the helpers they share to open the folder's files.
 * Must never be included outside cache/: nobody else gets a descriptor of the folder. */
#ifndef COFFER_CACHE_FOLDER_H
#define COFFER_CACHE_FOLDER_H
#include <pthread.h>
#include "cache/store.h"

struct store {
	int dirfd; /* the cache folder */
	int objfd; /* its objects/ folder; -1 for store_open_existing without one */
	int lockfd;
	/* Brings a missing object into objects/ from the remote (set by the sync); NULL: none. */
	store_fetch_fn fetch;
	void *fetch_arg;
	pthread_mutex_t freed_mu; /* guards freed.log between commits and the sync */
	/* Told of every object this process removes or replaces (store_watch_gone); gone_mu is
	 * held across each call, so that unwatching waits for the calls in flight. */
	pthread_mutex_t gone_mu;
	struct {
		store_gone_fn fn; /* NULL: a free slot */
		void *arg;
	} gone[STORE_WATCHERS];
};

/* The largest small file of the folder read whole (root, config, sync.state, freed.log...). */
#define CACHE_FILE_MAX ((size_t)64 << 20)

#endif

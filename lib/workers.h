/* workers: a pool of helper threads that run a function on part of a large job while the
 * caller runs the rest (block sealing and opening on big reads and writes). A pool is an object
 * its creator owns and lends to whoever submits jobs; there is no process-wide pool.
 * Never owns the data it is handed; a job must not block on locks the submitter holds. */
#ifndef COFFER_WORKERS_H
#define COFFER_WORKERS_H
#include <stdbool.h>

struct job {
	void (*fn)(void *arg);
	void *arg;
	bool done, taken;
	struct job *next;
};

struct workers;

/* Starts one helper per CPU beyond the first (none on one CPU: jobs then run inline); NULL when
 * out of memory. Threads do not survive fork(): create the pool in the process that uses it. */
struct workers *workers_new(void);
/* Stops and joins the helpers (after the jobs queued so far) and frees the pool; NULL is fine. */
void workers_free(struct workers *w);
/* Queues job (caller-owned until workers_wait returns); runs it inline when w is NULL or has no
 * helper. workers_wait runs the job itself when no helper has taken it yet. */
void workers_submit(struct workers *w, struct job *j);
void workers_wait(struct workers *w, struct job *j);

#endif

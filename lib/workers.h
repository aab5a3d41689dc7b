/* workers: a fixed pool of helper threads that run a function on part of a large job while the
 * caller runs the rest (block sealing and opening on big reads and writes).
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

/* Starts one helper per CPU beyond the first; returns how many run. */
int workers_start(void);
void workers_stop(void);
/* Queues job (caller-owned until workers_wait returns); runs it inline if there is no pool.
 * workers_wait runs the job itself when no helper has taken it yet. */
void workers_submit(struct job *j);
void workers_wait(struct job *j);

#endif

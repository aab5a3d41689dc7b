/* workers: helper thread pool (see workers.h). One queue, one lock, one condition variable for
 * new jobs and one for finished ones; jobs are short (one MiB of crypto at most).
 * Must never return from workers_wait before the job's function has returned. */
#include "lib/workers.h"
#include <pthread.h>
#include <unistd.h>

#define MAX_WORKERS 8

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work_cv = PTHREAD_COND_INITIALIZER, done_cv = PTHREAD_COND_INITIALIZER;
static struct job *head, *tail;
static pthread_t threads[MAX_WORKERS];
static int nthreads;
static bool stopping;

static void *worker_main(void *unused)
{
	(void)unused;
	pthread_mutex_lock(&mu);
	for (;;) {
		while (!head && !stopping)
			pthread_cond_wait(&work_cv, &mu);
		if (!head)
			break;
		struct job *j = head;
		head = j->next;
		if (!head)
			tail = NULL;
		j->taken = true;
		pthread_mutex_unlock(&mu);
		j->fn(j->arg);
		pthread_mutex_lock(&mu);
		j->done = true;
		pthread_cond_broadcast(&done_cv);
	}
	pthread_mutex_unlock(&mu);
	return NULL;
}

int workers_start(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int want = cpus > 1 ? (int)(cpus - 1 < MAX_WORKERS ? cpus - 1 : MAX_WORKERS) : 0;
	stopping = false;
	while (nthreads < want && pthread_create(&threads[nthreads], NULL, worker_main, NULL) == 0)
		nthreads++;
	return nthreads;
}

void workers_stop(void)
{
	pthread_mutex_lock(&mu);
	stopping = true;
	pthread_cond_broadcast(&work_cv);
	pthread_mutex_unlock(&mu);
	while (nthreads > 0)
		pthread_join(threads[--nthreads], NULL);
}

void workers_submit(struct job *j)
{
	j->done = j->taken = false;
	j->next = NULL;
	pthread_mutex_lock(&mu);
	if (nthreads == 0) {
		pthread_mutex_unlock(&mu);
		j->fn(j->arg);
		j->done = true;
		return;
	}
	if (tail)
		tail->next = j;
	else
		head = j;
	tail = j;
	pthread_cond_signal(&work_cv);
	pthread_mutex_unlock(&mu);
}

static void unqueue(struct job *j)
{
	struct job **p = &head, *prev = NULL;
	while (*p != j) {
		prev = *p;
		p = &(*p)->next;
	}
	*p = j->next;
	if (tail == j)
		tail = prev;
}

void workers_wait(struct job *j)
{
	pthread_mutex_lock(&mu);
	if (!j->taken && !j->done) {
		unqueue(j);
		j->taken = true;
		pthread_mutex_unlock(&mu);
		j->fn(j->arg);
		j->done = true;
		return;
	}
	while (!j->done)
		pthread_cond_wait(&done_cv, &mu);
	pthread_mutex_unlock(&mu);
}

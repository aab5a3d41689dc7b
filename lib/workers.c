/* workers: helper thread pool (see workers.h). One queue, one lock, one condition variable for
 * new jobs and one for finished ones, all in the pool object; jobs are short (one MiB of crypto
 * at most). Must never return from workers_wait before the job's function has returned. */
#include "lib/workers.h"
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#define MAX_WORKERS 8

struct workers {
	pthread_mutex_t mu;
	pthread_cond_t work_cv, done_cv;
	struct job *head, *tail;
	pthread_t threads[MAX_WORKERS];
	int nthreads;
	bool stopping;
};

static void *worker_main(void *arg)
{
	struct workers *w = arg;
	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->head && !w->stopping)
			pthread_cond_wait(&w->work_cv, &w->mu);
		if (!w->head)
			break;
		struct job *j = w->head;
		w->head = j->next;
		if (!w->head)
			w->tail = NULL;
		j->taken = true;
		pthread_mutex_unlock(&w->mu);
		j->fn(j->arg);
		pthread_mutex_lock(&w->mu);
		j->done = true;
		pthread_cond_broadcast(&w->done_cv);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

struct workers *workers_new(void)
{
	struct workers *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->work_cv, NULL);
	pthread_cond_init(&w->done_cv, NULL);
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int want = cpus > 1 ? (int)(cpus - 1 < MAX_WORKERS ? cpus - 1 : MAX_WORKERS) : 0;
	while (w->nthreads < want &&
	       pthread_create(&w->threads[w->nthreads], NULL, worker_main, w) == 0)
		w->nthreads++;
	return w;
}

void workers_free(struct workers *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->stopping = true;
	pthread_cond_broadcast(&w->work_cv);
	pthread_mutex_unlock(&w->mu);
	while (w->nthreads > 0)
		pthread_join(w->threads[--w->nthreads], NULL);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->work_cv);
	pthread_cond_destroy(&w->done_cv);
	free(w);
}

void workers_submit(struct workers *w, struct job *j)
{
	j->done = j->taken = false;
	j->next = NULL;
	if (!w || w->nthreads == 0) {
		j->fn(j->arg);
		j->done = true;
		return;
	}
	pthread_mutex_lock(&w->mu);
	if (w->tail)
		w->tail->next = j;
	else
		w->head = j;
	w->tail = j;
	pthread_cond_signal(&w->work_cv);
	pthread_mutex_unlock(&w->mu);
}

static void unqueue(struct workers *w, struct job *j)
{
	struct job **p = &w->head, *prev = NULL;
	while (*p != j) {
		prev = *p;
		p = &(*p)->next;
	}
	*p = j->next;
	if (w->tail == j)
		w->tail = prev;
}

void workers_wait(struct workers *w, struct job *j)
{
	if (!w || w->nthreads == 0)
		return; /* workers_submit ran it */
	pthread_mutex_lock(&w->mu);
	if (!j->taken && !j->done) {
		unqueue(w, j);
		j->taken = true;
		pthread_mutex_unlock(&w->mu);
		j->fn(j->arg);
		j->done = true;
		return;
	}
	while (!j->done)
		pthread_cond_wait(&w->done_cv, &w->mu);
	pthread_mutex_unlock(&w->mu);
}

// SPDX-License-Identifier: Apache-2.0
/* ring.c - the bounded chunk queue between the relay and the recorder's writer thread. */
#include "injector/record/ring.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"

int rec_ring_init(struct rec_ring *q, unsigned nslots)
{
	memset(q, 0, sizeof(*q));
	if (nslots == 0) {
		errno = EINVAL;
		return -1;
	}
	if ((errno = pthread_mutex_init(&q->mu, NULL)) != 0)
		return -1;
	if ((errno = pthread_cond_init(&q->more, NULL)) != 0 ||
	    (errno = pthread_cond_init(&q->room, NULL)) != 0 ||
	    (errno = pthread_cond_init(&q->idle, NULL)) != 0)
		abort();	/* only for want of memory, as Linux's never fails */
	q->slot = xzalloc(nslots * sizeof(*q->slot));
	q->nslots = nslots;
	return 0;
}

void rec_ring_free(struct rec_ring *q)
{
	if (!q->slot)
		return;
	for (unsigned i = 0; i < q->nslots; i++)
		free(q->slot[i].data);
	free(q->slot);
	q->slot = NULL;
	pthread_cond_destroy(&q->more);
	pthread_cond_destroy(&q->room);
	pthread_cond_destroy(&q->idle);
	pthread_mutex_destroy(&q->mu);
}

void rec_ring_push(struct rec_ring *q, char code, double t, const void *data, size_t len)
{
	struct rec_chunk *c;

	pthread_mutex_lock(&q->mu);
	if (q->count == q->nslots) {
		q->waits++;
		q->waiting++;
		while (q->count == q->nslots)
			pthread_cond_wait(&q->room, &q->mu);
		q->waiting--;
	}
	c = &q->slot[(q->head + q->count) % q->nslots];
	/* the consumer never looks at a slot past `count`: this one is ours until counted */
	pthread_mutex_unlock(&q->mu);
	if (len > c->cap) {
		free(c->data);
		c->cap = len;
		c->data = xmalloc(len);
	}
	if (len)
		memcpy(c->data, data, len);
	c->len = len;
	c->code = code;
	c->t = t;
	pthread_mutex_lock(&q->mu);
	q->count++;
	pthread_cond_signal(&q->more);
	pthread_mutex_unlock(&q->mu);
}

const struct rec_chunk *rec_ring_peek(struct rec_ring *q)
{
	const struct rec_chunk *c = NULL;

	pthread_mutex_lock(&q->mu);
	while (q->count == 0 && !q->closed)
		pthread_cond_wait(&q->more, &q->mu);
	if (q->count)
		c = &q->slot[q->head];
	pthread_mutex_unlock(&q->mu);
	return c;
}

void rec_ring_pop(struct rec_ring *q)
{
	pthread_mutex_lock(&q->mu);
	if (q->count) {
		q->head = (q->head + 1) % q->nslots;
		q->count--;
		pthread_cond_signal(&q->room);
		if (q->count == 0)
			pthread_cond_broadcast(&q->idle);
	}
	pthread_mutex_unlock(&q->mu);
}

void rec_ring_drain(struct rec_ring *q)
{
	pthread_mutex_lock(&q->mu);
	while (q->count)
		pthread_cond_wait(&q->idle, &q->mu);
	pthread_mutex_unlock(&q->mu);
}

void rec_ring_close(struct rec_ring *q)
{
	pthread_mutex_lock(&q->mu);
	q->closed = true;
	pthread_cond_broadcast(&q->more);
	pthread_mutex_unlock(&q->mu);
}

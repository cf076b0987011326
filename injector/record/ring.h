/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ring.h - a bounded queue of recorded chunks (code, time, bytes) from the
 * relay to the recorder's writer thread: one producer, one consumer, in order,
 * never dropped; a push waits while the queue is full.
 */
#ifndef REC_RING_H
#define REC_RING_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

struct rec_chunk {
	char code;		/* 'o', 'i', 'r' or 'm' */
	double t;		/* seconds since the recording started, when it came */
	size_t len, cap;
	unsigned char *data;	/* the queue's, kept for the slot's next use */
};

struct rec_ring {
	pthread_mutex_t mu;
	pthread_cond_t more, room, idle;
	struct rec_chunk *slot;
	unsigned nslots;
	unsigned head;		/* the oldest chunk */
	unsigned count;		/* queued, the one the consumer holds included */
	unsigned waiting;	/* producers waiting for room now */
	unsigned long waits;	/* pushes that had to wait for room, ever */
	bool closed;
};

/* An empty queue of `nslots` (>= 1) chunks; 0, or -1 with errno. */
int rec_ring_init(struct rec_ring *q, unsigned nslots);

/* Frees the queue (no thread may use it any more). */
void rec_ring_free(struct rec_ring *q);

/* Queues a copy of <data, len> as the newest chunk; waits while all slots are taken. */
void rec_ring_push(struct rec_ring *q, char code, double t, const void *data, size_t len);

/*
 * The oldest chunk, waiting for one while the queue is empty and open; NULL
 * once it is closed and empty. The chunk keeps its slot until rec_ring_pop().
 */
const struct rec_chunk *rec_ring_peek(struct rec_ring *q);

/* Done with the chunk rec_ring_peek() gave: its slot is free again. */
void rec_ring_pop(struct rec_ring *q);

/* Waits until every chunk queued so far has been popped. */
void rec_ring_drain(struct rec_ring *q);

/* No more pushes: rec_ring_peek() gives what is left, then NULL. */
void rec_ring_close(struct rec_ring *q);

#endif

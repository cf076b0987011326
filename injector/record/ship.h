/* SPDX-License-Identifier: Apache-2.0 */
/* ship.h - send audit records and recordings to a collector; the session folder is the spool. */
#ifndef REC_SHIP_H
#define REC_SHIP_H

#include <stdbool.h>

#include "common/err.h"

#define SHIP_MAX_HEADERS 16

/* The policy's `collector`: where records go (HTTP(S) POST, libcurl). */
struct collector {
	char *url;				/* NULL: no collector */
	char *headers[SHIP_MAX_HEADERS + 1];	/* "Name: value", NULL-terminated */
	char *ca;				/* CA bundle for https, the only one trusted; NULL for the system's */
};

/*
 * Sends, in order, the records of the session in folder `dirfd` that the
 * collector has not acknowledged yet (a `shipped` file in the folder counts
 * them), each as one POST with `Idempotency-Key: <id>:<seq>`; when `final`,
 * the session has ended (session.end, or session.lost written by another) and
 * every record is acknowledged, the recording too (`<id>:cast`). Stops at
 * the first failure: what is left waits in the folder, in order, for the next
 * try. Nothing acknowledged is ever sent again. Returns how many were sent,
 * or -1 with `err` when the collector could not take one.
 */
int ship_pending(int dirfd, const char *id, const struct collector *c, bool final,
		 struct dhi_err **err);

/* Parses the policy's `collector` object (`url`, `headers`, `ca`); unknown keys are errors. */
struct json_t;
int ship_parse_collector(struct json_t *o, struct collector *out, struct dhi_err **err);

#endif

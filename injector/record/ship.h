/* SPDX-License-Identifier: Apache-2.0 */
/* ship.h - send audit records and recordings to a collector; the session folder is the spool. */
#ifndef REC_SHIP_H
#define REC_SHIP_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"

#define SHIP_MAX_HEADERS 16

enum collector_kind {
	COLLECTOR_HTTP,		/* HTTP(S) POST, libcurl */
	COLLECTOR_SYSLOG,	/* RFC 5424 over TLS (RFC 5425), octet-counted (RFC 6587), libssl */
};

/* The policy's `collector`: where records go. */
struct collector {
	enum collector_kind kind;
	char *url;				/* NULL: no collector; syslog: "syslog://HOST:PORT" */
	char *headers[SHIP_MAX_HEADERS + 1];	/* http: "Name: value", NULL-terminated */
	char *ca;				/* CA bundle, the only one trusted; http: NULL for the system's */
	char *host;				/* syslog: the receiver's name or address */
	int port;				/* syslog: its port (6514) */
	char *cert, *key;			/* syslog: the client certificate and key, or NULL */
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
 *
 * A syslog collector gets the same records, in the same order, with the same
 * cursor: a batch of them over one TLS connection, acknowledged when the
 * receiver, after our close_notify and FIN, closes its side cleanly (it read
 * everything); the recording is not sent (its digests are in the records).
 */
int ship_pending(int dirfd, const char *id, const struct collector *c, bool final,
		 struct dhi_err **err);

/* Parses the policy's `collector` object; unknown keys are errors. */
struct json_t;
int ship_parse_collector(struct json_t *o, struct collector *out, struct dhi_err **err);

/* Frees what ship_parse_collector() allocated, also after it failed. */
void ship_collector_free(struct collector *c);

/* syslog.c: one RFC 5424 message of record `rec` (one JSON line) of session
 * `id`, framed by its octet count (RFC 6587); `host` is the HOSTNAME field. */
char *syslog_frame(const char *id, long seq, const char *rec, const char *host, size_t *len);

/* syslog.c: records recs[0..n) (seq first, first+1, …) to the syslog collector
 * over one connection; 0 once the receiver has read them all. */
int syslog_send(const struct collector *c, const char *id, long first, char *const *recs,
		size_t n, struct dhi_err **err);

#endif

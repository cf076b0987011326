/* SPDX-License-Identifier: Apache-2.0 */
/* record.h - the session's recording (asciicast v2) and hash-chained audit log, on the host. */
#ifndef REC_RECORD_H
#define REC_RECORD_H

#include <jansson.h>
#include "common/sha256.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define RECORD_DIR "/var/lib/dhidebug/sessions"

struct recorder;

/*
 * Creates the session folder `<dir>/<id>/` (0700; `dir` itself must be root's
 * and private) with session.cast (header written) and audit.jsonl. `id` gets
 * the session id (YYYYmmddTHHMMSSZ-xxxxxxxx). Files are 0600, O_CLOEXEC, and
 * never reachable from the session.
 */
struct recorder *record_open(const char *dir, int width, int height, const char *term,
			     const char *title, char id[40], struct dhi_err **err);

/*
 * asciicast events; `code` is 'o', 'i', 'r' or 'm'. The event is timed now
 * and queued (a copy) for the recorder's writer thread, which escapes, redacts,
 * digests and writes it; a full queue (WRITER_SLOTS events) makes this wait.
 * 0, or -1 (errno set) when a write of the recording failed, this event's or
 * an earlier one's. One thread calls the record_* functions of a recorder.
 */
int record_event(struct recorder *r, char code, const char *data, size_t len);

/*
 * Output ("o") is replaced by the patterns of `s` before it is written: it
 * waits until its line ends (or another event or record comes), and each
 * pattern that replaced something gets a `redact` record. `s` must outlive
 * the recorder; NULL or empty: none.
 */
struct redact_set;
void record_set_redact(struct recorder *r, const struct redact_set *s);

/*
 * Appends an audit record of `type` with `fields` (consumed), once every event
 * queued before it is written (the record's cast_bytes and cast_sha256 cover
 * them); `sync` fsyncs audit.jsonl and session.cast.
 */
int record_audit(struct recorder *r, const char *type, json_t *fields, bool sync);

/* fsync(2)s audit.jsonl (0, or -1 with errno); NULL: nothing to do. */
int record_sync_audit(struct recorder *r);

/* Seconds since the recording started. */
double record_elapsed(const struct recorder *r);

/* The session folder (an fd the recorder owns) and the session id. */
int record_dirfd(const struct recorder *r);
const char *record_id(const struct recorder *r);

/* Writes what is still queued, ends the writer thread, closes the files (the caller writes session.end first). */
void record_close(struct recorder *r);

/*
 * <d, len> as the inside of a JSON string, as session.cast has it, into `out`,
 * which has room for 6 * len bytes; returns the length written. Invalid UTF-8
 * becomes U+FFFD (a sequence cut short at the end too).
 */
size_t record_json_escape(const unsigned char *d, size_t len, char *out);

/* The SHA-256 of <buf, len> as 64 hex characters (for filter digests and the like). */
void record_sha256_hex(const void *buf, size_t len, char out[65]);

/*
 * The SHA-256 of what went into the running digest `h` so far, as hex,
 * without ending it (the writer's cast_sha256 and the verifier's both).
 */
void record_sha256_so_far(const struct dhi_sha256 *h, char out[65]);

#endif

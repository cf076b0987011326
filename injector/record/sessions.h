/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sessions.h - reviewing recorded sessions: list, show, verify, replay, export
 * (the reader side of docs/recording.md; the supervisor's writer is record.h).
 */
#ifndef INJ_SESSIONS_H
#define INJ_SESSIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <regex.h>
#include <stdint.h>
#include <stdio.h>

#include "common/err.h"

struct json_t;

#define SESSIONS_DEFAULT_DIR "/var/lib/dhidebug/sessions"

enum sessions_verb {
	SESSIONS_LS,		/* dhidebug sessions ls [--json] [FILTERS] */
	SESSIONS_SHOW,		/* dhidebug sessions show ID */
	SESSIONS_VERIFY,	/* dhidebug sessions verify ID|--all, or ID --against FILE */
	SESSIONS_EXPORT,	/* dhidebug sessions export ID --html FILE */
	SESSIONS_REPLAY,	/* dhidebug replay ID [--speed N] [--idle-limit S] */
	SESSIONS_SHIP,		/* dhidebug sessions ship ID|--all [--policy FILE] */
	SESSIONS_GREP,		/* dhidebug sessions grep PATTERN [--json] [FILTERS] */
	SESSIONS_FOLLOW,	/* dhidebug sessions follow ID (and replay --follow ID) */
};

/* What the command line asked for (filled by injector/cmd/sessions.c). */
struct sessions_opts {
	enum sessions_verb verb;
	const char *dir;	/* --dir, NULL for SESSIONS_DEFAULT_DIR */
	const char *id;		/* ID: a session id, a unique prefix of one, or a folder path */
	bool all;		/* verify --all */
	bool json;		/* ls --json, grep --json */
	/* the filters of ls and grep; NULL for none */
	const char *target;	/* --target */
	const char *since;	/* --since */
	const char *operator;	/* --operator */
	const char *exec;	/* --exec */
	const char *image;	/* --image */
	const char *state;	/* --state: complete, incomplete or invalid */
	const char *pattern;	/* grep PATTERN (POSIX extended regular expression) */
	const char *against;	/* verify --against FILE */
	const char *html;	/* export --html FILE */
	const char *policy;	/* ship --policy FILE (its `collector`) */
	double speed;		/* replay --speed, > 0 */
	double idle_limit;	/* replay --idle-limit, 0 for the recording's own (or none) */
	bool follow;		/* replay --follow: then the live session, as sessions follow */
};

enum session_state {
	SESSION_COMPLETE,	/* the chain verifies and ends with session.end */
	SESSION_INCOMPLETE,	/* the chain verifies but has no session.end (supervisor died) */
	SESSION_INVALID,	/* a check of docs/recording.md failed */
};

/* The outcome of verifying one session folder. */
struct session_check {
	enum session_state state;
	size_t records;		/* records that verified */
	uint64_t cast_covered;	/* bytes of session.cast covered by the chain */
	uint64_t cast_size;	/* size of session.cast */
	char *problem;		/* the first bad place, NULL unless SESSION_INVALID */
};

/*
 * Runs docs/recording.md's checks on the session in folder `dirfd`
 * (audit.jsonl and session.cast): each record valid JSON with its fields,
 * `seq` consecutive, `prev` the SHA-256 of the line before, `cast_bytes` not
 * decreasing and not beyond the file, `cast_sha256` the digest of that prefix,
 * nothing after session.end. A failed check is not an error: it is reported
 * in `out` (state SESSION_INVALID, `problem` naming the first bad place, e.g.
 * "audit.jsonl:7: prev does not match record 6"). Returns -1 only when a file
 * cannot be read. The caller frees `out` with session_check_free().
 */
int session_verify_at(int dirfd, struct session_check *out, struct dhi_err **err);

void session_check_free(struct session_check *c);

/* "complete", "incomplete" or "invalid". */
const char *session_state_name(enum session_state s);

/*
 * Parses an RFC 3339 time ("2026-05-28T10:11:12.5Z", "+02:00" offsets), a
 * date ("2026-05-28", midnight UTC) or, for --since, an age before `now`
 * ("90s", "30m", "12h", "7d"). Returns 0 and seconds since the epoch, or -1.
 */
int sessions_parse_time(const char *s, double now, double *out);

/*
 * The reviewing commands of this file (`dhidebug sessions VERB`, composed
 * with the others below by injector/cmd/sessions.c); output goes to `out`.
 * Each returns the exit status (verify: 0 good or incomplete, 1 when a
 * session is invalid; grep: 1 when nothing matched) or -1 with err set.
 */
int sessions_ls(const struct sessions_opts *o, FILE *out, struct dhi_err **err);
int sessions_show(const struct sessions_opts *o, FILE *out, struct dhi_err **err);
int sessions_verify(const struct sessions_opts *o, FILE *out, struct dhi_err **err);
int sessions_ship(const struct sessions_opts *o, FILE *out, struct dhi_err **err);
int sessions_grep(const struct sessions_opts *o, FILE *out, struct dhi_err **err);

/*
 * Opens session `id` of o->dir: a folder path when it has a slash, else a
 * session id in the sessions folder or a prefix of exactly one. Returns its
 * folder's fd (the caller closes it) and *name its id, or -1 with *err.
 */
int sessions_open(const struct sessions_opts *o, const char *id, char **name,
		  struct dhi_err **err);

/* --- the reviewing commands of their own files, one each --- */

/* replay.c: adds `s` seconds to an absolute CLOCK_MONOTONIC time (replay's and follow's pacing). */
struct timespec;
void sessions_ts_add(struct timespec *t, double s);

/* replay.c: plays session.cast of folder `dirfd` on stdout; 130 after Ctrl-C. */
int sessions_replay_at(int dirfd, const struct sessions_opts *o, struct dhi_err **err);

/*
 * export.c: writes one self-contained HTML page to `path`: the recording in
 * asciinema-player (embedded in dhidebug) beside the audit's timeline.
 */
int sessions_export_html_at(int dirfd, const char *id, const char *path, struct dhi_err **err);

/*
 * against.c: compares the records of session `id` (folder `dirfd`) with the
 * collected copy `path`: the HTTP collector's JSON lines log (entries with
 * `key` "<id>:<seq>" and the stored `record`), a syslog receiver's file of
 * the syslog collector's messages, or a copy of audit.jsonl.
 * Prints one line to `out`; returns 0 when they match, 1 when a record is
 * missing, added or changed on one side, -1 with err set when a file cannot
 * be read.
 */
int sessions_against_at(int dirfd, const char *id, const char *path, FILE *out,
			struct dhi_err **err);

/*
 * grep.c: the lines of session.cast's "o" events in folder `dirfd` (escape
 * sequences and control characters removed) that match `re`; each as
 * "<id>  <offset>  <line>" on `out`, or, when `json` is not NULL, appended to
 * it as {"session", "offset", "line"}. Returns the number of matches or -1.
 */
int sessions_grep_cast_at(int dirfd, const char *id, const regex_t *re,
			  FILE *out, struct json_t *json, struct dhi_err **err);

/*
 * follow.c: shows session `id` (folder `dirfd`) as it is recorded, reading and never writing:
 * what is there at once (replay --follow, `o->verb` SESSIONS_REPLAY: with the recorded
 * pauses), then what is appended, the "o" events on stdout and each audit record (as
 * `sessions show` prints it) on stderr after the output it covers; until session.end or
 * session.lost is read, or the supervisor's lock on audit.jsonl is free. Ends with the
 * verification's one line; returns 0, 1 when the session does not verify, 130 after Ctrl-C,
 * -1 with err set.
 */
int sessions_follow_at(int dirfd, const char *id, const struct sessions_opts *o, struct dhi_err **err);

/* One audit record as a line of the `sessions show` timeline, its time offset from `t0`. */
void sessions_show_record(struct json_t *r, double t0, FILE *out);

/* The one line `sessions verify` prints for `c`. */
void sessions_print_check(const char *id, const struct session_check *c, FILE *out);

/*
 * index.c: the summary cache `.index` of a sessions folder, for `sessions ls` and `grep`: one
 * line per session that verified (complete or incomplete), keyed by the device, inode, size,
 * mtime and ctime of its audit.jsonl and session.cast, holding its `ls` row and its summary
 * (JSON). Read only when it is a regular file of our euid with no group or other bits;
 * written (a temporary file renamed over it) only into a folder of our euid that nobody else
 * can write. Never an error: an index that cannot be read or written is as none.
 */
struct sessions_index;
struct stat;

/* What the cache holds for a session: pointers into the index, valid until it is freed. */
struct sessions_index_hit {
	const char *row, *json;
	size_t row_len, json_len;
};

/* The index of the sessions folder `dirfd` (-1: an empty one). Never NULL. */
struct sessions_index *sessions_index_load(int dirfd);

/* Session `id`'s entry when its files are as they were when it was put. */
bool sessions_index_get(struct sessions_index *ix, const char *id, const struct stat *audit,
			const struct stat *cast, struct sessions_index_hit *hit);

/*
 * Puts session `id`'s `ls` row and summary (not consumed); not kept (and any older entry
 * dropped) when a file changed in the last 2 s or `id` or `row` has a control character.
 */
void sessions_index_put(struct sessions_index *ix, const char *id, const struct stat *audit,
			const struct stat *cast, const char *row, struct json_t *summary);

/* Writes the index when it changed; `prune`: keep only the sessions got or put by this run. */
void sessions_index_save(struct sessions_index *ix, int dirfd, bool prune);

void sessions_index_free(struct sessions_index *ix);

/* The asciinema-player assets embedded at build time (player.c). */
extern const char sessions_player_js[], sessions_player_css[];
extern const size_t sessions_player_js_len, sessions_player_css_len;

/*
 * The records of audit.jsonl of folder `dirfd`, parsed, in file order; lines
 * that do not parse are skipped. Returns a JSON array (the caller decrefs it)
 * or NULL with err set.
 */
struct json_t *sessions_load_records_at(int dirfd, struct dhi_err **err);

/* An argv array as one line a POSIX shell reads back (words quoted where needed); freed by the caller. */
char *sessions_argv_string(struct json_t *argv);

/* Seconds since the epoch of a record's `time`, or -1 when it has none. */
double sessions_record_time(struct json_t *rec);

#endif

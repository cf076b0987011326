/* SPDX-License-Identifier: Apache-2.0 */
/* err.h - the error object every fallible function fills (see docs/design/errors.md). */
#ifndef DHI_ERR_H
#define DHI_ERR_H

#include <stdarg.h>
#include <stdbool.h>

/*
 * A function that can fail returns a negative int (or NULL) and takes
 * `struct dhi_err **err` as its last parameter. On failure it sets *err with
 * dhi_err_set(); on success it leaves *err alone. Only main() (or a forked child
 * just before _exit) prints the error, once.
 */
struct dhi_err {
	int errnum;	/* errno of the cause, 0 when there is none */
	int status;	/* exit status to use; 0 means the default, 125 */
	bool quiet_errnum;	/* errnum classifies (dhi_err_set_kind()): it is not printed */
	char *msg;
};

/* Records `fmt` and `errnum` in *err (replacing any earlier error); returns -1. */
int dhi_err_set(struct dhi_err **err, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Like dhi_err_set() for a failure no system call reported (a registry's 404,
 * a reference not in the cache): `errnum` tells callers what kind it is
 * (ENOENT: not there, EACCES: refused) and is not printed, since its text
 * ("No such file or directory") would not be the cause; the message says it.
 */
int dhi_err_set_kind(struct dhi_err **err, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Like dhi_err_set() and also fixes the exit status (e.g. 127 for "not found"). */
int dhi_err_set_status(struct dhi_err **err, int status, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Prepends "<fmt>: " to the message of *err, which must be set; returns -1. */
int dhi_err_prefix(struct dhi_err **err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Frees *err and sets it to NULL (for deliberate fallbacks). */
void dhi_err_clear(struct dhi_err **err);

/*
 * Formats "<msg>: <strerror(errnum)>" (the message alone when errnum is 0 or
 * set by dhi_err_set_kind()) into a new string (the caller frees it),
 * the message made printable by dhi_printable(): the one way an error becomes text.
 */
char *dhi_err_string(const struct dhi_err *err);

/* Prints "<prog>: <msg>[: <strerror>]" on stderr and returns the exit status (125 default). */
int dhi_err_print(const struct dhi_err *err, const char *prog);

/*
 * `s` as text that is safe on a terminal and in a log line (a new string): every
 * control character (C0, DEL, C1: ESC, CR, LF, TAB, CSI...), Unicode line
 * separator and bidirectional override, and every byte that is not valid UTF-8
 * becomes `?`. For whatever a peer wrote (registry, runtime, image, container,
 * API server) before it is printed.
 */
char *dhi_printable(const char *s);

/* True when `s` is valid UTF-8 (no overlong forms, surrogates or code points past U+10FFFF). */
bool dhi_is_utf8(const char *s);

/*
 * NULL when `s` is valid UTF-8; else a new string that is, and that keeps every
 * byte: each byte that is not UTF-8 as `\xNN`, each backslash doubled (a
 * record's field that needed it says so, and reads back exactly).
 */
char *dhi_utf8_escaped(const char *s);

#endif

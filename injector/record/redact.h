/* SPDX-License-Identifier: Apache-2.0 */
/*
 * redact.h - the policy's `redact` patterns, replaced in the session's output
 * before it is recorded (docs/recording.md, "Redaction").
 */
#ifndef REC_REDACT_H
#define REC_REDACT_H

#include <jansson.h>
#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"

#define REDACT_MAX 16

struct redact_pattern {
	char name[32];
	bool pem;   /* a PEM private key block: from its BEGIN line to its END line */
	regex_t re; /* otherwise: a POSIX extended regular expression, within a line */
};

struct redact_set {
	int n;
	struct redact_pattern p[REDACT_MAX];
};

/*
 * Parses the policy's `redact`: a list of the built-in names ("bearer",
 * "aws", "pem") and objects {"name": N, "regex": R} (R an extended regular
 * expression, matched within a line). Replaces what `out` held.
 */
int redact_parse(json_t *v, struct redact_set *out, struct dhi_err **err);

/* Frees what redact_parse() compiled; the set is empty after. */
void redact_free(struct redact_set *s);

/* What a chunk of output carries over to the next: inside a PEM block. */
struct redact_state {
	bool in_pem;
	/* the end of a line the last chunk did not finish: a marker may be cut in two
   */
	char tail[64];
	size_t tail_len;
};

/*
 * Replaces every match in <in, len> (whole lines, but for the last piece of
 * output) with "[REDACTED:<name>]"; a PEM block's lines become one such
 * marker. counts[i] is increased by the replacements of pattern i. Returns
 * the new text (the caller's), its length in *out_len.
 */
char *redact_apply(const struct redact_set *s, struct redact_state *st, const char *in, size_t len,
		   size_t *out_len, unsigned counts[REDACT_MAX]);

#endif

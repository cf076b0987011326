/* SPDX-License-Identifier: Apache-2.0 */
/* rfc3339.h - parse RFC 3339 times (runtimes' StartedAt, audit records, --since). */
#ifndef DHI_RFC3339_H
#define DHI_RFC3339_H

#include <stdbool.h>

/*
 * Parses "2026-05-28T10:11:12[.frac](Z|±hh:mm)" (T, t or a space between date
 * and time) into seconds since the epoch, fraction included. With `date_ok`, a
 * bare date ("2026-05-28") is midnight UTC. Anything else, trailing bytes
 * included, is -1. Input may be hostile: nothing is read past the NUL.
 */
int rfc3339_parse(const char *s, bool date_ok, double *out);

#endif

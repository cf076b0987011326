/* SPDX-License-Identifier: Apache-2.0 */
/* osrelease.h - parse os-release(5) text from a container or a toolbox (hostile input). */
#ifndef DHI_OSRELEASE_H
#define DHI_OSRELEASE_H

#include <stddef.h>

struct os_release {
	char id[64];		/* ID, e.g. "debian"; empty when absent */
	char version_id[64];	/* VERSION_ID, e.g. "12"; empty when absent */
};

/*
 * Fills `out` from the os-release text <buf, len>. Unknown keys, bad lines and
 * over-long values are ignored or truncated; nothing here can fail.
 */
void os_release_parse(const char *buf, size_t len, struct os_release *out);

/*
 * True when both have an ID, the IDs are equal and so are their VERSION_IDs'
 * major.minor: Alpine's 3.21.3 is the same release as a 3.21 toolbox's 3.21.0,
 * Debian's 12 is 12.
 */
int os_release_same(const struct os_release *a, const struct os_release *b);

/* "alpine 3.21.3", for a message saying which releases differ. */
void os_release_describe(const struct os_release *o, char *buf, size_t len);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* idmap.h - a container's user namespace id maps: whose a file copied in is, on the host. */
#ifndef CP_IDMAP_H
#define CP_IDMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/* One line of /proc/<pid>/uid_map or gid_map: ids [inside, inside+count) are [outside, …). */
struct copy_idmap_range {
	uint32_t inside, outside, count;
};

/* The uid and gid maps of a user namespace, as the host sees them. */
struct copy_idmap {
	bool mapped;		/* a namespace of its own: ids go through the maps */
	struct copy_idmap_range *uid, *gid;
	size_t nuid, ngid;
};

#define COPY_IDMAP_LINES 340	/* the kernel's limit on a map's lines (4.15 and later) */

/*
 * Parses a uid_map or gid_map (`text`, NUL-terminated: lines of three
 * decimal numbers) into a new array *out of *n ranges. Refused: anything
 * else, a count of 0, a range past 2^32, more than COPY_IDMAP_LINES lines.
 */
int copy_idmap_parse(const char *text, struct copy_idmap_range **out, size_t *n,
		     struct dhi_err **err);

/* True when `r` maps every id to itself (the initial user namespace's map). */
bool copy_idmap_is_identity(const struct copy_idmap_range *r, size_t n);

/* The host's id of `id` inside the namespace; false when it has no mapping. */
bool copy_idmap_to_host(const struct copy_idmap_range *r, size_t n, uint32_t id, uint32_t *host);

/*
 * The maps of the process whose /proc directory is `procfd` (uid_map and
 * gid_map there, read as the host reads them). m->mapped is false when both
 * maps are the identity: the process is in the host's user namespace, or in
 * one that maps every id to itself.
 */
int copy_idmap_read(int procfd, struct copy_idmap *m, struct dhi_err **err);

void copy_idmap_free(struct copy_idmap *m);

#endif

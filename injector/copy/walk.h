/* SPDX-License-Identifier: Apache-2.0 */
/* walk.h - walk a source tree fd-relative and stream it into a sink, hashing every file. */
#ifndef CP_WALK_H
#define CP_WALK_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "injector/copy/custody.h"
#include "injector/copy/sink.h"

#define COPY_MAX_DEPTH 128	/* directory levels (each holds two fds while its entries are copied) */
#define COPY_PROC_MAX (64u << 20)	/* a /proc file read whole, for a sink that needs sizes */
#define COPY_MAX_SIZE_DEFAULT (64ull << 30)	/* --max-size: a file's logical size (docs/cp.md) */

struct copy_walk {
	struct copy_sink *sink;
	struct custody *custody;
	const char *cside;	/* the container side's path of the top entry (for records) */
	const char *hside;	/* the host side's path of the top entry ("-": tar stream) */
	bool src_is_container;	/* the source is the container (copy out) */
	bool quiet;		/* no notice for skipped entries */
	uint64_t max_size;	/* a file of a larger (logical) size is skipped; 0: the default */
	struct copy_links *links; /* copy_walk_run's own: the files with more than one link */
};

/*
 * Copies the entry `srcfd` (an O_PATH | O_NOFOLLOW fd: a symlink is an entry
 * of its own) into `parent` of the sink as `name`, directories recursively.
 * Every entry below is opened from its directory's fd with openat2
 * (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS): a name swapped for a symlink is
 * copied as that symlink, never followed, so nothing outside the source's
 * tree is ever read. Regular files are reopened through the O_PATH fd (never
 * a FIFO or a device: those, and sockets, are skipped with a notice and a
 * copy.skip record), read to their end (a /proc file's size is 0), holes kept
 * (SEEK_DATA / SEEK_HOLE) and hashed with SHA-256 as they stream. A file with
 * more than one link that the walk has copied already under another name
 * becomes a hard link to that copy (a directory: linkat of what was placed; a
 * tar stream: a link member), or a copy of its own where the sink cannot link
 * it. Each entry gets a copy.file record (a link's names its first:
 * `hardlink`). Stops at the first error.
 */
int copy_walk_run(struct copy_walk *w, int srcfd, void *parent, const char *name,
		  struct dhi_err **err);

#endif

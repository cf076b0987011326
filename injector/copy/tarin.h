/* SPDX-License-Identifier: Apache-2.0 */
/* tarin.h - a tar stream (stdin) unpacked into a container's directory, each file hashed. */
#ifndef CP_TARIN_H
#define CP_TARIN_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "injector/copy/custody.h"

/* How a stream's members are placed and recorded. */
struct tarin_opts {
	const char *dest;	/* the destination directory's path (records, messages) */
	const char *src;	/* the source's directory the members are named from, for the
				 * records; NULL: the member names alone (a stream from stdin) */
	bool dest_is_container;	/* the records' `path` is the destination's side, `host_path`
				 * the source's (else the reverse) */
	const char *top_as;	/* NULL, or the name the stream's top entry takes in `dest`:
				 * every member must then be below the first one's top */
	const struct copy_idmap *idmap;	/* the container's id maps (sink_dir_set_idmap), or NULL */
	bool as_user;		/* the host's directory, written by a delegated operator's helper
				 * (sink.h: no owners, no set-id bits) */
	uint64_t max_size;	/* a member of a larger size refuses the stream; 0: the default
				 * (walk.h's COPY_MAX_SIZE_DEFAULT) */
	bool archive, force, quiet;
};

/*
 * Reads a tar stream (ustar, pax or GNU; gzip or zstd compressed or not) from
 * `fd` and creates its members below `dirfd` (the destination directory,
 * opened inside the container's root, or the host's). Member names are taken
 * relative to it: a leading `/` or `./` is dropped, a `..` component refuses
 * the whole stream, and every directory on the way is opened from its parent
 * with RESOLVE_NO_SYMLINKS (missing ones are created), so no member lands
 * outside `dirfd`. Files, directories and symlinks are created as the
 * directory sink does (sink.h: complete or not at all, existing ones replaced
 * only with `force`, directories merged); hard links, devices and FIFOs are
 * skipped with a notice unless `quiet`. Each entry gets a copy.file record
 * with the SHA-256 of what was written.
 */
int tarin_run(int fd, int dirfd, const struct tarin_opts *o, struct custody *c,
	      struct dhi_err **err);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* tarin.h - a tar stream (stdin) unpacked into a container's directory, each file hashed. */
#ifndef CP_TARIN_H
#define CP_TARIN_H

#include <stdbool.h>

#include "common/err.h"
#include "injector/copy/custody.h"

/*
 * Reads a tar stream (ustar, pax or GNU; gzip or zstd compressed or not) from
 * `fd` and creates its members below `dirfd` (the destination directory,
 * opened inside the container's root; `cdir` is its path there, for the
 * records). Member names are taken relative to it: a leading `/` or `./` is
 * dropped, a `..` component refuses the whole stream, and every directory on
 * the way is opened from its parent with RESOLVE_NO_SYMLINKS (missing ones are
 * created), so no member lands outside `dirfd`. Files, directories and
 * symlinks are created as the directory sink does (sink.h: complete or not at
 * all, existing ones replaced only with `force`, directories merged); hard
 * links, devices and FIFOs are skipped with a notice unless `quiet`. Each
 * entry gets a copy.file record with the SHA-256 of what was written.
 */
int tarin_run(int fd, int dirfd, const char *cdir, bool archive, bool force, bool quiet,
	      struct custody *c, struct dhi_err **err);

#endif

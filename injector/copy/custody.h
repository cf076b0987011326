/* SPDX-License-Identifier: Apache-2.0 */
/* custody.h - a copy's chain of custody: its audit records and its sha256sum manifest. */
#ifndef CP_CUSTODY_H
#define CP_CUSTODY_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>

#include "common/err.h"
#include "injector/record/record.h"

/*
 * One copy. `rec` (may be NULL: not recorded) is the copy's own session, opened
 * by the caller with its session.start written; `manifest` (may be NULL) gets
 * one `sha256sum -c` line per regular file. Neither is owned here.
 */
struct custody {
	struct recorder *rec;
	FILE *manifest;
	bool failed_write;	/* a record could not be written (the copy stops) */
	uint64_t files;		/* entries copied (files, directories, links) */
	uint64_t bytes;		/* bytes of file content copied */
	uint64_t skipped;	/* entries skipped (devices, FIFOs, sockets) */
};

/* One copied entry, as the walk saw it at the source. */
struct custody_entry {
	const char *path;	/* its path on the container's side (absolute) */
	const char *host_path;	/* its path on the host's side ("-": a tar stream member) */
	const struct stat *st;	/* the source's stat (type, mode, owner, mtime) */
	uint64_t size;		/* bytes copied (a /proc file's st_size is 0) */
	const char *sha256;	/* hex, of the content as streamed; NULL but for files */
	const char *link;	/* a symlink's target; NULL otherwise */
	const char *hardlink;	/* a hard link: the path (same side as `path`) of its first */
	json_t *xattrs;		/* -a: the names of the extended attributes kept (consumed); NULL */
	bool grew;		/* it grew while it was copied: `size` is what it was found with */
};

/* copy.start, fsync'ed: `fields` (consumed) are the direction, paths and operator. */
int custody_start(struct custody *c, json_t *fields, struct dhi_err **err);

/* copy.file for `e`, and its manifest line when it is a regular file. */
int custody_file(struct custody *c, const struct custody_entry *e, struct dhi_err **err);

/* copy.skip: `path` (container side) was not copied because it is `why`. */
int custody_skip(struct custody *c, const char *path, const struct stat *st, const char *why,
		 struct dhi_err **err);

/* copy.end (files, bytes, skipped, status "ok" or "failed" with `reason`), fsync'ed. */
int custody_end(struct custody *c, const char *reason, struct dhi_err **err);

/*
 * Writes `name` to `f` as `sha256sum` expects it after the digest: names with
 * a newline or backslash are escaped and *escaped is set (the line then
 * starts with a backslash).
 */
void custody_manifest_name(FILE *f, const char *name, bool *escaped);

/*
 * Sets `field` of `rec` to `s`, escaped when it is not UTF-8 (a byte that is
 * not as `\xNN`, backslashes doubled) and then listed in the record's
 * `escaped` array, as exec records do (docs/recording.md).
 */
void custody_set_text(json_t *rec, const char *field, const char *s);

/* "file", "directory", "symlink", "fifo", "socket", "char-device", "block-device". */
const char *custody_type_name(mode_t mode);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* sink.h - where a copy's entries go: a directory (host or container) or a tar stream. */
#ifndef CP_SINK_H
#define CP_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "common/err.h"

/*
 * A sink receives the entries of a walk in order: a directory, its entries,
 * then the directory's end (its mode and times are set last, so that writing
 * into it was possible). `parent` is the handle of the directory an entry goes
 * in (for the first entry: what the sink was made with); `name` is one path
 * component, `rel` the entry's path from the top entry (for messages and tar
 * members). Every call returns 0 or -1 with *err set.
 */
struct copy_sink {
	const struct copy_sink_ops *ops;
	bool dense;	/* holes must be given as zeros (a tar stream) */
	bool sized;	/* a file's size must be known when it begins (a tar stream) */
	bool archive;	/* -a: mode, owner and times kept */
	bool force;	/* --force: what exists is replaced, directories merged */
	bool xattrs_first; /* -a: an entry's xattrs come before it begins (xattr's NULL handle) */
	/*
	 * The directory is the host's, written by a delegated operator's helper
	 * (hostuser.h): no owner is ever set (what is created is the operator's)
	 * and -a keeps the mode without its set-id bits
	 */
	bool as_user;
	/*
	 * Set by the caller before file_begin: file_end of a file placed puts its
	 * inode in placed_dev and placed_ino (the directory sink), for a later
	 * hard link to it (struct copy_first).
	 */
	bool keep_placed;
	dev_t placed_dev;
	ino_t placed_ino;
	void *priv;
};

/* A file the sink placed earlier, for a hard link to it. */
struct copy_first {
	const char *rel;	/* its path from the sink's top directory (a tar stream: its member) */
	dev_t dev;		/* the directory sink: the inode placed (keep_placed) */
	ino_t ino;
};

struct copy_sink_ops {
	int (*dir_begin)(struct copy_sink *s, void *parent, const char *name, const char *rel,
			 const struct stat *st, void **dir, struct dhi_err **err);
	int (*dir_end)(struct copy_sink *s, void *dir, const struct stat *st,
		       struct dhi_err **err);
	int (*file_begin)(struct copy_sink *s, void *parent, const char *name, const char *rel,
			  const struct stat *st, uint64_t size, void **file, struct dhi_err **err);
	int (*file_data)(struct copy_sink *s, void *file, uint64_t off, const void *buf,
			 size_t len, struct dhi_err **err);
	/* `ok` false: the file is discarded (nothing of it stays); `size` its final length */
	int (*file_end)(struct copy_sink *s, void *file, bool ok, uint64_t size,
			const struct stat *st, struct dhi_err **err);
	int (*symlink)(struct copy_sink *s, void *parent, const char *name, const char *rel,
		       const char *target, const struct stat *st, struct dhi_err **err);
	/*
	 * -a: one extended attribute on `handle` (a file between file_begin and
	 * file_end, or a directory after dir_begin); NULL where the sink keeps none
	 */
	int (*xattr)(struct copy_sink *s, void *handle, bool is_dir, const char *name,
		     const void *value, size_t len, struct dhi_err **err);
	/*
	 * A hard link: `name` in `parent` another name of `first`, placed before;
	 * `st` the source's. 1 when it cannot be a link here (another filesystem,
	 * the first is gone or is no longer what was placed): the caller copies
	 * the file instead. NULL where the sink keeps none.
	 */
	int (*hardlink)(struct copy_sink *s, void *parent, const char *name, const char *rel,
			const struct copy_first *first, const struct stat *st,
			struct dhi_err **err);
	/*
	 * The fd a file between file_begin and file_end is written to, readable,
	 * for an in-kernel copy into it (its offset is the file's end so far); -1
	 * or a NULL op: only file_data
	 */
	int (*file_fd)(struct copy_sink *s, void *file);
	/* ends the sink (a tar stream's trailer); may be NULL */
	int (*close)(struct copy_sink *s, struct dhi_err **err);
};

/*
 * A directory sink. `parentfd` (borrowed; O_PATH is enough) is the directory
 * the top entry is created in, which is then the `parent` handle to pass for
 * it (sink_dir_handle()). Everything below it is created fd-relative, never
 * following a symlink (the directory may be a container's, whose processes can
 * swap names under us): files are written to an O_TMPFILE (or a dot-temp name)
 * and linked into place only when complete.
 */
void sink_dir_init(struct copy_sink *s, int parentfd, bool archive, bool force);
void *sink_dir_handle(struct copy_sink *s);
void sink_dir_free(struct copy_sink *s);

struct copy_idmap;

/*
 * The directory is a container's in a user namespace of its own (`map`,
 * borrowed; NULL or not mapped: none): what is created there is owned, on
 * the host, by the container's root without -a, or with -a by the source's
 * owner as the container names it, each through the namespace's maps (an
 * id without a mapping is an error), so that the container sees it as the
 * copy meant. Without it, the owner is the copier's (root) or, with -a, the
 * source's as it is.
 */
void sink_dir_set_idmap(struct copy_sink *s, const struct copy_idmap *map);

/*
 * The owner the directory sink gives an entry of stat `st` (as above): *set
 * false when it keeps the creator's. For what is created beside the sink
 * (tarin.c's directories).
 */
int sink_dir_owner(struct copy_sink *s, const struct stat *st, const char *rel, uid_t *uid,
		   gid_t *gid, bool *set, struct dhi_err **err);

/*
 * Links `name` in `parentfd` to the file `first` placed below `topfd`: opened
 * from there by its path without following a symlink (RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS), and only when it is still the inode placed, then
 * linked through its fd (linkat of /proc/self/fd/N). What exists at `name` is
 * replaced only with `force`. 1 when it cannot be linked (see hardlink).
 */
int sink_dir_link(int topfd, const struct copy_first *first, int parentfd, const char *name,
		  const char *rel, bool force, struct dhi_err **err);

/* A tar (pax) stream on `fd` (borrowed), members named by `rel`. */
int sink_tar_init(struct copy_sink *s, int fd, bool archive, struct dhi_err **err);
void sink_tar_free(struct copy_sink *s);

#endif

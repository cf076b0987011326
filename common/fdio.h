/* SPDX-License-Identifier: Apache-2.0 */
/* fdio.h - whole reads and writes on fds, retried on EINTR, bounded for hostile input. */
#ifndef DHI_FDIO_H
#define DHI_FDIO_H

#include <stddef.h>
#include <sys/types.h>

#include "common/err.h"

struct stat;

/* Writes all of <buf, len>; returns 0 or -1 with errno set. */
int fd_write_all(int fd, const void *buf, size_t len);

/* read(2) retried on EINTR. */
ssize_t fd_read(int fd, void *buf, size_t len);

/*
 * Reads `name` relative to `dirfd` (already opened safely by the caller, or a
 * trusted host path) into a NUL-terminated buffer of at most `max` bytes. A
 * longer file is an error: data from a container is hostile and must not make
 * the helper allocate without bound. `*out` is freed by the caller.
 */
int fd_read_file(int fd, size_t max, char **out, size_t *len, struct dhi_err **err);

/*
 * Hostile files: a container's, an image's, a layout's or a runtime's state.
 * Whatever sits under a name we read may be a FIFO (open and read block
 * forever), a device node (its driver runs on open: a terminal of the host, a
 * watchdog), or a sparse file of any size. These helpers never open anything
 * but a regular file, and never read more than asked.
 */

/*
 * A readable fd of the file `fd` refers to (usually an O_PATH fd, through
 * which no driver's open has run), when it is a regular file of at most `max`
 * bytes (`max` 0: any size). Anything else is refused with one line naming
 * `what` and what it is ("`/etc/os-release` is a FIFO, not a regular file").
 * The new fd is opened through /proc/self/fd with O_RDONLY | O_NONBLOCK |
 * O_NOCTTY | O_CLOEXEC and checked to be the same inode, so it cannot be
 * another file. Call it where /proc is the host's. `*st` (may be NULL) gets
 * the file's stat; *out is the caller's.
 */
int fd_reopen_regular(int fd, const char *what, size_t max, int *out, struct stat *st,
		      struct dhi_err **err);

/* fd_reopen_regular() and fd_read_file(): the whole file, NUL-terminated, `*out` the caller's. */
int fd_read_regular(int fd, const char *what, size_t max, char **out, size_t *len,
		    struct dhi_err **err);

/*
 * `name` below `dirfd` (opened safely by the caller; AT_FDCWD for a host
 * path), opened O_PATH | O_NOFOLLOW and read as fd_read_regular(). A missing
 * file is an error whose errnum is ENOENT.
 */
int fd_read_regular_at(int dirfd, const char *name, size_t max, char **out, size_t *len,
		       struct dhi_err **err);

/*
 * `name` below `procfd` (/proc/<pid>, or /proc), opened O_RDONLY | O_NONBLOCK |
 * O_NOFOLLOW, checked to be a regular file on procfs, and read to at most
 * `max` bytes (procfs files report size 0: the cap is the read's).
 */
int fd_read_proc_at(int procfd, const char *name, size_t max, char **out, size_t *len,
		    struct dhi_err **err);

/* "a FIFO", "a character device", ... for the file type bits of `mode`. */
const char *fd_mode_name(unsigned int mode);

/*
 * Opens `dir`, creating it (and its parent) with mode 0700 when missing, and
 * returns its fd only when it is a directory owned by the effective user (root,
 * for dhidebug; the operator, for kubectl-dhidebug's recordings) that nobody
 * else can read or write: our own state (cache, history) is trusted only
 * there. -1 otherwise, with errno the cause, or 0 when the directory is there
 * but someone else's or open to others.
 */
int fd_open_private_dir(const char *dir);

/*
 * Closes every fd from 3 up except the `n` in `keep` (any order; -1 entries
 * ignored): close_range(2) (5.9), else close(2) on each fd below the larger
 * of the RLIMIT_NOFILE limits (capped at 2^20), as an older kernel needs.
 * Host fds must not reach a container: nothing here may be skipped silently.
 */
void fd_close_all_but(const int *keep, size_t n);

/* Sets or clears O_NONBLOCK. */
int fd_set_nonblock(int fd, int on);

/*
 * pread() until `len` bytes are read or the file ends, EINTR retried: the number read (short
 * only at the end of the file), or -1 with errno.
 */
ssize_t fd_pread_full(int fd, void *buf, size_t len, off_t off);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* fdio.h - whole reads and writes on fds, retried on EINTR, bounded for hostile input. */
#ifndef DHI_FDIO_H
#define DHI_FDIO_H

#include <stddef.h>
#include <sys/types.h>

#include "common/err.h"

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
 * Opens `dir`, creating it (and its parent) with mode 0700 when missing, and
 * returns its fd only when it is a directory owned by the effective user (root,
 * for dhidebug; the operator, for kubectl-dhidebug's recordings) that nobody
 * else can read or write: our own state (cache, history) is trusted only
 * there. -1 otherwise.
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

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * trust.h - files that decide what dhidebug does (runtime state, engine sockets,
 * the policy file): believed only when nobody but root can have written them.
 */
#ifndef DHI_TRUST_H
#define DHI_TRUST_H

#include <sys/stat.h>

#include "common/err.h"

/*
 * The rule for one inode `st` (shown as `shown` in the message): owned by root
 * (or by the effective user, who needs nobody's trust but their own: the unit
 * tests, a non-root `dhidebug ls`), and writable by neither its group nor
 * others. Exceptions that do not let anyone replace what they hold: a
 * directory with the sticky bit (/tmp: another user cannot rename or remove
 * an entry that is not theirs), a symlink (its own mode means nothing), and a
 * socket (write permission there is permission to connect, not to serve; who
 * serves it is checked on the connection, see trust_check_peer()).
 */
int trust_check_stat(const struct stat *st, const char *shown, struct dhi_err **err);

/* trust_check_stat() on an open fd. */
int trust_check_fd(int fd, const char *shown, struct dhi_err **err);

/*
 * Opens `path` component by component from "/" (a relative path is taken from
 * the current directory, whose own chain is checked too), every directory on
 * the way and the file itself checked with trust_check_stat(): nobody else can
 * have placed, replaced or changed anything on that path. Symlinks are
 * followed (40 at most) only when they pass the same rule, and their targets
 * are checked the same way. `flags` are open(2) flags for the last component
 * (O_PATH for an fd to check and name only); O_CLOEXEC is always added, and
 * O_NONBLOCK so that a FIFO never blocks. 0: *out is the fd; 1: something on
 * the path does not exist (ENOENT, nothing set); -1: error, or not trusted
 * (the message names the component and why).
 */
int trust_open(const char *path, int flags, int *out, struct dhi_err **err);

/* The same, relative `path` taken from `dirfd`, a directory trust_open() opened. */
int trust_openat(int dirfd, const char *path, int flags, int *out, struct dhi_err **err);

/*
 * The process serving connected unix socket `fd` (SO_PEERCRED) is root's, or
 * the effective user's: an engine socket that someone else serves answers
 * with whatever they want dhidebug to enter.
 */
int trust_check_peer(int fd, const char *shown, struct dhi_err **err);

#endif

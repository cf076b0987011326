/* SPDX-License-Identifier: Apache-2.0 */
/* selfexe.h - run from a copy of our own binary that nothing can open for writing. */
#ifndef COMMON_SELFEXE_H
#define COMMON_SELFEXE_H

#include "common/err.h"

/*
 * An fd of our own binary (to execveat with AT_EMPTY_PATH) that cannot be
 * written through /proc/<pid>/exe of what runs it, nor read by it.
 *
 * Written: a process that can open that link (the container, for a process in
 * its pid namespace) would otherwise hold the host's binary and rewrite it
 * once it stops running (CVE-2019-5736). It is seen through a detached,
 * read-only overlayfs whose layers are its directory and an empty one.
 *
 * Read: the binary is a copy of ours of mode 0111, kept in SELFEXE_DIR (made
 * once per build of dhidebug). The kernel keeps a process non-dumpable across
 * the exec of a file it cannot read, so a process of the container with the
 * same uid and capabilities (a profile of none, say) finds nothing to trace or
 * to take fds from between the exec and the program's own PR_SET_DUMPABLE.
 *
 * Where the directory or overlayfs cannot be had: a memfd copy, mode 0111 too,
 * sealed against writes. Close-on-exec.
 */
#define SELFEXE_DIR "/var/lib/dhidebug/exe"

int selfexe_open_sealed(struct dhi_err **err);

#endif

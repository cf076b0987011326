/* SPDX-License-Identifier: Apache-2.0 */
/* selfexe.h - run from a copy of our own binary that nothing can open for writing. */
#ifndef COMMON_SELFEXE_H
#define COMMON_SELFEXE_H

#include "common/err.h"

/*
 * An fd of our own binary (to execveat with AT_EMPTY_PATH) that cannot be
 * written through /proc/<pid>/exe of what runs it: a process that can open
 * that link (the container, for a process in its pid namespace) would
 * otherwise hold the host's binary and rewrite it once it stops running
 * (CVE-2019-5736). It is the binary seen through a detached, read-only
 * overlayfs whose layers are the binary's directory and an empty one
 * (nothing is copied); where overlayfs cannot be mounted, a memfd copy
 * sealed against writes. Close-on-exec.
 */
int selfexe_open_sealed(struct dhi_err **err);

#endif

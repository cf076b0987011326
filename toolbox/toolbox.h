/* SPDX-License-Identifier: Apache-2.0 */
/* toolbox.h - a toolbox root filesystem: where it is, what it is, which shell it has. */
#ifndef TB_TOOLBOX_H
#define TB_TOOLBOX_H

#include <stdbool.h>

#include "common/err.h"
#include "common/osrelease.h"

struct toolbox {
	char *ref;		/* what the user named (a directory for now) */
	int dirfd;		/* O_PATH fd of the root directory */
	struct os_release os;	/* from its /etc/os-release (or /usr/lib/os-release) */
	const char *shell;	/* "/bin/bash" or "/bin/sh"; NULL when it has none */
	char *os_notice;	/* why its os-release was read as missing; NULL when it was not */
};

/*
 * Opens a toolbox given as a local root filesystem directory: checks that it
 * is a directory, reads its os-release and finds its shell; a directory with
 * no shell and no /bin or /usr/bin is not a toolbox (an error). Every path in
 * it is resolved inside it. Free with toolbox_close().
 */
int toolbox_open_dir(const char *path, struct toolbox *tb, struct dhi_err **err);

void toolbox_close(struct toolbox *tb);

/*
 * Reads os-release below `rootfd` (etc/os-release, then usr/lib/os-release),
 * resolving inside that root; missing files leave `out` empty. A file that is
 * there but is not a regular file of at most 64 KiB (a FIFO, a device node, a
 * huge sparse file: hostile input) is skipped as if missing, and the first
 * such reason goes to `*notice` (when `notice` is not NULL and *notice is
 * NULL; the caller frees it).
 */
void toolbox_read_os_release(int rootfd, struct os_release *out, char **notice);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* path.h - open paths inside a target's root without ever leaving it. */
#ifndef DHI_PATH_H
#define DHI_PATH_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"

enum {
	PATH_F_NO_SYMLINKS = 1 << 0,	/* refuse every symlink, not only escaping ones */
};

/*
 * Opens `path` (absolute or relative, both taken from `rootfd`) as if `rootfd`
 * were "/": ".." stops at it, symlinks are resolved inside it, and magic links
 * (/proc/<pid>/fd/N, /proc/<pid>/root) are never followed. `flags` are open(2)
 * flags; O_CLOEXEC is always added. Uses openat2(RESOLVE_IN_ROOT |
 * RESOLVE_NO_MAGICLINKS) and, where the kernel lacks it (< 5.6), a
 * component-by-component walk with O_NOFOLLOW that gives the same answer.
 * On success *out is a new fd owned by the caller.
 */
int path_open_at(int rootfd, const char *path, int flags, unsigned int pflags, int *out,
		 struct dhi_err **err);

/*
 * A readable fd of the regular file `path` inside `rootfd` (resolved as
 * path_open_at() does, opened O_PATH first so that no FIFO or device is ever
 * opened, then fd_reopen_regular()); a file of more than `max` bytes (0: any
 * size) is refused too. A missing file is an error whose errnum is ENOENT.
 */
int path_open_regular_at(int rootfd, const char *path, size_t max, int *out,
			 struct dhi_err **err);

/* path_open_regular_at() and fd_read_file(): the whole file, NUL-terminated. */
int path_read_regular_at(int rootfd, const char *path, size_t max, char **out, size_t *len,
			 struct dhi_err **err);

/*
 * For walks that resolve a path component by component: splits the first
 * component off `path`, in place. *name is it (leading slashes skipped,
 * NUL-terminated), *next what follows it (slashes skipped: "" when it was the
 * last). Returns false when nothing is left (an empty path, or slashes only).
 */
bool path_split_first(char *path, char **name, char **next);

/*
 * For the same walks, at a symlink: reads the link `fd` (an O_PATH fd, closed here) and
 * makes *rest its target followed by `next` (which may point into *rest). Returns 1 when the
 * target is absolute (the walk restarts at its root), 0 when relative, -1 with errno.
 */
int path_follow_link(int fd, const char *next, char **rest);

/* Verifies that `fd` is on a filesystem with statfs magic `magic` (e.g. PROC_SUPER_MAGIC). */
int path_check_fs(int fd, long magic, const char *what, struct dhi_err **err);

/*
 * Path strings, the file system untouched: `p` without its trailing slashes
 * ("a/b/" → "a/b", "/" stays "/"), its last component, what comes before it
 * (dirname(3) of the stripped path), and `dir`/`name` with one slash between.
 * Each returns a new string (xalloc: no failure) that the caller frees.
 */
char *path_strip_slashes(const char *p);
char *path_base(const char *p);
char *path_dir(const char *p);
char *path_join(const char *dir, const char *name);

#endif

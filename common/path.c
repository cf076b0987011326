// SPDX-License-Identifier: Apache-2.0
/* path.c - resolve paths inside a target's root: openat2, or an O_NOFOLLOW walk. */
#include "common/path.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fdio.h"
#include "common/syscalls.h"
#include "common/xalloc.h"

#define MAX_SYMLINKS 40
#define MAX_DEPTH 256

static int openat2_in_root(int rootfd, const char *path, int flags, unsigned int pflags)
{
	struct open_how how = {
		.flags = (unsigned long long)(flags | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	int fd, tries = 0;

	if (pflags & PATH_F_NO_SYMLINKS)
		how.resolve |= RESOLVE_NO_SYMLINKS;
	/* EAGAIN: a rename raced with the lookup; the kernel asks us to retry. */
	do
		fd = dhi_sys_openat2(rootfd, path, &how, sizeof(how));
	while (fd < 0 && (errno == EAGAIN || errno == EINTR) && ++tries < 16);
	return fd;
}

/*
 * The walk keeps a stack of directory fds from the root down, so ".." is a pop
 * that never goes above the root, and a symlink's text is spliced in front of
 * what is left of the path (absolute ones restart at the root). Every open uses
 * O_NOFOLLOW, so the kernel never follows anything on our behalf.
 */
struct walk {
	int stack[MAX_DEPTH];
	int depth;	/* stack[0] is a dup of the root */
};

static void walk_free(struct walk *w)
{
	for (int i = 0; i < w->depth; i++)
		close(w->stack[i]);
	w->depth = 0;
}

static void walk_to_root(struct walk *w)
{
	while (w->depth > 1)
		close(w->stack[--w->depth]);
}

static int walk_path(int rootfd, const char *path, int flags, unsigned int pflags)
{
	struct walk w = { .depth = 0 };
	dhi_autofree char *rest = xstrdup(path);
	int links = 0, ret = -1;

	w.stack[0] = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
	if (w.stack[0] < 0)
		return -1;
	w.depth = 1;

	for (;;) {
		char *name, *next;
		bool last;
		struct stat st;
		int fd;

		if (!path_split_first(rest, &name, &next)) {
			/* the path named a directory we already hold */
			ret = openat(w.stack[w.depth - 1], ".", flags | O_CLOEXEC);
			break;
		}
		last = *next == '\0';

		if (strcmp(name, ".") == 0) {
			memmove(rest, next, strlen(next) + 1);
			continue;
		}
		if (strcmp(name, "..") == 0) {
			if (w.depth > 1)
				close(w.stack[--w.depth]);
			memmove(rest, next, strlen(next) + 1);
			continue;
		}

		fd = openat(w.stack[w.depth - 1], name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			break;
		if (fstat(fd, &st) < 0) {
			close(fd);
			break;
		}
		if (S_ISLNK(st.st_mode)) {
			int r;

			if ((pflags & PATH_F_NO_SYMLINKS) || ++links > MAX_SYMLINKS ||
			    (last && (flags & O_NOFOLLOW))) {
				close(fd);
				errno = ELOOP;
				break;
			}
			r = path_follow_link(fd, next, &rest);
			if (r < 0)
				break;
			if (r > 0)
				walk_to_root(&w);
			continue;
		}
		if (last) {
			close(fd);
			ret = openat(w.stack[w.depth - 1], name, flags | O_NOFOLLOW | O_CLOEXEC);
			break;
		}
		if (!S_ISDIR(st.st_mode)) {
			close(fd);
			errno = ENOTDIR;
			break;
		}
		if (w.depth == MAX_DEPTH) {
			close(fd);
			errno = ENAMETOOLONG;
			break;
		}
		w.stack[w.depth++] = fd;
		memmove(rest, next, strlen(next) + 1);
	}
	{
		int saved = errno;

		walk_free(&w);
		errno = saved;
	}
	return ret;
}

int path_follow_link(int fd, const char *next, char **rest)
{
	char target[PATH_MAX], *joined;
	ssize_t n = readlinkat(fd, "", target, sizeof(target) - 1);

	close(fd);
	if (n < 0)
		return -1;
	target[n] = '\0';
	/* (`next` may point into *rest: joined before *rest is freed) */
	joined = xasprintf("%s/%s", target, next);
	free(*rest);
	*rest = joined;
	return target[0] == '/';
}

bool path_split_first(char *path, char **name, char **next)
{
	char *p = path;

	while (*p == '/')
		p++;
	if (*p == '\0')
		return false;
	*name = p;
	*next = strchr(p, '/');
	if (*next)
		*(*next)++ = '\0';
	else
		*next = p + strlen(p);
	while (**next == '/')
		(*next)++;
	return true;
}

int path_open_at(int rootfd, const char *path, int flags, unsigned int pflags, int *out,
		 struct dhi_err **err)
{
	int fd = openat2_in_root(rootfd, path, flags, pflags);

	if (fd < 0 && (errno == ENOSYS || errno == EPERM))
		fd = walk_path(rootfd, path, flags, pflags);
	if (fd < 0)
		return dhi_err_set(err, errno, "cannot open `%s` inside the target", path);
	*out = fd;
	return 0;
}

int path_open_regular_at(int rootfd, const char *path, size_t max, int *out,
			 struct dhi_err **err)
{
	dhi_autoclose int fd = -1;

	if (path_open_at(rootfd, path, O_PATH, 0, &fd, err) < 0)
		return -1;
	return fd_reopen_regular(fd, path, max, out, NULL, err);
}

int path_read_regular_at(int rootfd, const char *path, size_t max, char **out, size_t *len,
			 struct dhi_err **err)
{
	dhi_autoclose int fd = -1;

	if (path_open_at(rootfd, path, O_PATH, 0, &fd, err) < 0)
		return -1;
	return fd_read_regular(fd, path, max, out, len, err);
}

int path_check_fs(int fd, long magic, const char *what, struct dhi_err **err)
{
	struct statfs sfs;

	if (fstatfs(fd, &sfs) < 0)
		return dhi_err_set(err, errno, "cannot statfs %s", what);
	if ((long)sfs.f_type != magic)
		return dhi_err_set(err, 0, "%s is not the expected filesystem (magic 0x%lx)", what,
				   (unsigned long)sfs.f_type);
	return 0;
}

char *path_strip_slashes(const char *p)
{
	char *s = xstrdup(p);
	size_t n = strlen(s);

	while (n > 1 && s[n - 1] == '/')
		s[--n] = '\0';
	return s;
}

char *path_base(const char *p)
{
	dhi_autofree char *s = path_strip_slashes(p);

	return xstrdup(basename(s));
}

char *path_dir(const char *p)
{
	dhi_autofree char *s = path_strip_slashes(p);

	return xstrdup(dirname(s));
}

char *path_join(const char *dir, const char *name)
{
	size_t n = strlen(dir);

	return xasprintf("%s%s%s", dir, n && dir[n - 1] == '/' ? "" : "/", name);
}

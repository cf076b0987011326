// SPDX-License-Identifier: Apache-2.0
/* trust.c - believe a file only when nobody but root can have written it or what leads to it. */
#include "common/trust.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/xalloc.h"

#define MAX_LINKS 40
#define RULE "(only files of root's that nobody else can write are trusted)"

int trust_check_stat(const struct stat *st, const char *shown, struct dhi_err **err)
{
	bool exempt = S_ISLNK(st->st_mode) || S_ISSOCK(st->st_mode) ||
		      (S_ISDIR(st->st_mode) && (st->st_mode & S_ISVTX));

	if (st->st_uid != 0 && st->st_uid != geteuid())
		return dhi_err_set(err, 0, "`%s` is owned by uid %u " RULE, shown,
				   (unsigned)st->st_uid);
	if (!exempt && (st->st_mode & S_IWOTH))
		return dhi_err_set(err, 0, "`%s` is writable by others " RULE, shown);
	if (!exempt && (st->st_mode & S_IWGRP))
		return dhi_err_set(err, 0, "`%s` is writable by its group (gid %u) " RULE, shown,
				   (unsigned)st->st_gid);
	return 0;
}

int trust_check_fd(int fd, const char *shown, struct dhi_err **err)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return dhi_err_set(err, errno, "cannot stat `%s`", shown);
	return trust_check_stat(&st, shown, err);
}

int trust_check_peer(int fd, const char *shown, struct dhi_err **err)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0)
		return dhi_err_set(err, errno, "cannot tell who serves `%s`", shown);
	if (uc.uid != 0 && uc.uid != geteuid())
		return dhi_err_set(err, 0, "`%s` is served by uid %u (pid %d), not by root", shown,
				   (unsigned)uc.uid, (int)uc.pid);
	return 0;
}

/* "/" as the walk's start, checked like every other directory. */
static int open_root(struct dhi_err **err)
{
	dhi_autoclose int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return dhi_err_set(err, errno, "cannot open `/`");
	if (trust_check_fd(fd, "/", err) < 0)
		return -1;
	return dhi_steal_fd(&fd);
}

/* `shown` without its last component ("/a/b" → "/a", "/a" → "", "a" → ""). */
static void drop_last(char *shown)
{
	char *s = strrchr(shown, '/');

	*(s ? s : shown) = '\0';
}

/* The last component of the walk: `cur` as the caller asked for it. */
static int reopen(int cur, int flags, const char *shown, int *out, struct dhi_err **err)
{
	char self[64];
	struct stat a, b;
	dhi_autoclose int fd = -1;

	if (fstat(cur, &a) < 0)
		return dhi_err_set(err, errno, "cannot stat `%s`", shown);
	if ((flags & O_DIRECTORY) && !S_ISDIR(a.st_mode))
		return dhi_err_set(err, ENOTDIR, "cannot open `%s`", shown);
	if ((flags & O_PATH) == O_PATH) {
		*out = fcntl(cur, F_DUPFD_CLOEXEC, 3);
		return *out < 0 ? dhi_err_set(err, errno, "cannot duplicate an fd") : 0;
	}
	/* the inode already checked, not whatever the name may lead to now */
	snprintf(self, sizeof(self), "/proc/self/fd/%d", cur);
	fd = open(self, flags | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return dhi_err_set(err, errno, "cannot open `%s`", shown);
	if (fstat(fd, &b) < 0 || a.st_dev != b.st_dev || a.st_ino != b.st_ino)
		return dhi_err_set(err, 0, "`%s` changed while it was opened", shown);
	*out = dhi_steal_fd(&fd);
	return 0;
}

int trust_openat(int dirfd, const char *path, int flags, int *out, struct dhi_err **err)
{
	dhi_autofree char *rest = NULL, *shown = xstrdup("");
	dhi_autoclose int cur = -1;
	const char *p;
	int links = 0;

	*out = -1;
	if (path[0] == '/' || dirfd != AT_FDCWD) {
		rest = xstrdup(path);
	} else {
		char cwd[PATH_MAX];

		if (!getcwd(cwd, sizeof(cwd)))
			return dhi_err_set(err, errno, "cannot tell the current directory");
		rest = xasprintf("%s/%s", cwd, path);
	}
	if (rest[0] == '/') {
		if ((cur = open_root(err)) < 0)
			return -1;
	} else {
		/* below a directory the caller opened with trust_openat() */
		cur = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
		if (cur < 0)
			return dhi_err_set(err, errno, "cannot duplicate an fd");
	}
	p = rest;
	for (;;) {
		dhi_autofree char *name = NULL;
		dhi_autoclose int fd = -1;
		const char *next;
		struct stat st;
		size_t n;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		n = strcspn(p, "/");
		name = xstrndup(p, n);
		next = p + n;
		if (strcmp(name, ".") == 0) {
			p = next;
			continue;
		}
		fd = openat(cur, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT)
			return 1;
		if (strcmp(name, "..") == 0) {
			drop_last(shown);
		} else {
			/* (below a caller's directory, the names as the caller gave them) */
			char *s = *shown || rest[0] == '/' ? xasprintf("%s/%s", shown, name)
							   : xstrdup(name);

			free(shown);
			shown = s;
		}
		if (fd < 0)
			return dhi_err_set(err, errno, "cannot open `%s`", shown);
		if (fstat(fd, &st) < 0)
			return dhi_err_set(err, errno, "cannot stat `%s`", shown);
		if (trust_check_stat(&st, shown, err) < 0)
			return -1;
		if (S_ISLNK(st.st_mode)) {
			char target[PATH_MAX];
			ssize_t len;
			char *r;

			if (++links > MAX_LINKS)
				return dhi_err_set(err, ELOOP, "cannot open `%s`", path);
			len = readlinkat(fd, "", target, sizeof(target) - 1);
			if (len <= 0)
				return dhi_err_set(err, len < 0 ? errno : 0, "cannot read link `%s`",
						   shown);
			target[len] = '\0';
			/* the link's text takes its place in what is left to walk */
			r = xasprintf("%s%s", target, next);
			free(rest);
			rest = r;
			p = rest;
			drop_last(shown);
			if (target[0] == '/') {
				shown[0] = '\0';
				dhi_close_reset(&cur);
				if ((cur = open_root(err)) < 0)
					return -1;
			}
			continue;
		}
		if (next[strspn(next, "/")] && !S_ISDIR(st.st_mode))
			return dhi_err_set(err, ENOTDIR, "cannot open `%s`", path);
		dhi_close_reset(&cur);
		cur = dhi_steal_fd(&fd);
		p = next;
	}
	return reopen(cur, flags, *shown ? shown : "/", out, err) < 0 ? -1 : 0;
}

int trust_open(const char *path, int flags, int *out, struct dhi_err **err)
{
	return trust_openat(AT_FDCWD, path, flags, out, err);
}

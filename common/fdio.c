// SPDX-License-Identifier: Apache-2.0
/* fdio.c - whole reads and writes on fds. */
#include "common/fdio.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/xalloc.h"

int fd_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

ssize_t fd_read(int fd, void *buf, size_t len)
{
	ssize_t n;

	do
		n = read(fd, buf, len);
	while (n < 0 && errno == EINTR);
	return n;
}

int fd_read_file(int fd, size_t max, char **out, size_t *len, struct dhi_err **err)
{
	size_t cap = 4096, used = 0;
	char *buf = xmalloc(cap + 1);

	for (;;) {
		ssize_t n;

		if (used == cap) {
			if (cap >= max) {
				free(buf);
				return dhi_err_set_kind(err, EFBIG, "file is larger than %zu bytes", max);
			}
			cap = cap * 2 > max ? max : cap * 2;
			buf = xrealloc(buf, cap + 1);
		}
		n = fd_read(fd, buf + used, cap - used);
		if (n < 0) {
			int saved = errno;

			free(buf);
			return dhi_err_set(err, saved, "cannot read");
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	buf[used] = '\0';
	*out = buf;
	if (len)
		*len = used;
	return 0;
}

const char *fd_mode_name(unsigned int mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:
		return "a regular file";
	case S_IFDIR:
		return "a directory";
	case S_IFLNK:
		return "a symbolic link";
	case S_IFIFO:
		return "a FIFO";
	case S_IFCHR:
		return "a character device";
	case S_IFBLK:
		return "a block device";
	case S_IFSOCK:
		return "a socket";
	default:
		return "of an unknown type";
	}
}

/* Refuses what is not a regular file of at most `max` bytes (0: any). */
static int check_regular(const struct stat *st, const char *what, size_t max,
			 struct dhi_err **err)
{
	if (!S_ISREG(st->st_mode))
		return dhi_err_set(err, 0, "`%s` is %s, not a regular file", what,
				   fd_mode_name(st->st_mode));
	if (max && (unsigned long long)st->st_size > max)
		return dhi_err_set(err, 0, "`%s` is too large (%lld bytes, at most %zu are read)",
				   what, (long long)st->st_size, max);
	return 0;
}

int fd_reopen_regular(int fd, const char *what, size_t max, int *out, struct stat *st,
		      struct dhi_err **err)
{
	struct stat before, after;
	char path[64];
	int nfd;

	if (fstat(fd, &before) < 0)
		return dhi_err_set(err, errno, "cannot stat `%s`", what);
	if (check_regular(&before, what, max, err) < 0)
		return -1;
	/*
	 * The magic link reopens the inode the fd holds, not a path: nothing can
	 * be swapped in between. O_NONBLOCK all the same (a mandatory lock, a
	 * file system that would wait), and the inode checked again below.
	 */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	nfd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (nfd < 0)
		return dhi_err_set(err, errno, "cannot open `%s`", what);
	if (fstat(nfd, &after) < 0 || after.st_dev != before.st_dev ||
	    after.st_ino != before.st_ino || !S_ISREG(after.st_mode)) {
		close(nfd);
		return dhi_err_set(err, 0, "cannot open `%s`: /proc/self/fd gave another file", what);
	}
	if (st)
		*st = after;
	*out = nfd;
	return 0;
}

int fd_read_regular(int fd, const char *what, size_t max, char **out, size_t *len,
		    struct dhi_err **err)
{
	dhi_autoclose int rfd = -1;

	if (fd_reopen_regular(fd, what, max, &rfd, NULL, err) < 0)
		return -1;
	/* (a file that grows after the fstat still stops at `max`) */
	if (fd_read_file(rfd, max, out, len, err) < 0)
		return dhi_err_prefix(err, "`%s`", what);
	return 0;
}

int fd_read_regular_at(int dirfd, const char *name, size_t max, char **out, size_t *len,
		       struct dhi_err **err)
{
	dhi_autoclose int fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return dhi_err_set(err, errno, "cannot open `%s`", name);
	return fd_read_regular(fd, name, max, out, len, err);
}

int fd_read_proc_at(int procfd, const char *name, size_t max, char **out, size_t *len,
		    struct dhi_err **err)
{
	dhi_autoclose int fd =
		openat(procfd, name, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
	struct statfs sfs;
	struct stat st;

	if (fd < 0)
		return dhi_err_set(err, errno, "cannot open `%s`", name);
	if (fstatfs(fd, &sfs) < 0 || fstat(fd, &st) < 0)
		return dhi_err_set(err, errno, "cannot stat `%s`", name);
	if ((unsigned long)sfs.f_type != PROC_SUPER_MAGIC)
		return dhi_err_set(err, 0, "`%s` is not on procfs (magic 0x%lx)", name,
				   (unsigned long)sfs.f_type);
	if (check_regular(&st, name, 0, err) < 0)
		return -1;
	if (fd_read_file(fd, max, out, len, err) < 0)
		return dhi_err_prefix(err, "`%s`", name);
	return 0;
}

int fd_open_private_dir(const char *dir)
{
	struct stat st;
	int fd;

	if (mkdir(dir, 0700) < 0 && errno == ENOENT) {
		char *parent = xstrdup(dir), *slash = strrchr(parent, '/');

		if (slash && slash != parent) {
			*slash = '\0';
			mkdir(parent, 0700);
			mkdir(dir, 0700);
		}
		free(parent);
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	if (st.st_uid != geteuid() || (st.st_mode & 077)) {
		close(fd);
		/* not the cause: errno would still say mkdir's EEXIST */
		errno = 0;
		return -1;
	}
	return fd;
}

int fd_set_nonblock(int fd, int on)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return -1;
	fl = on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK);
	return fcntl(fd, F_SETFL, fl);
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* close_range(lo, hi) with the close(2) loop where the kernel lacks it. */
static void close_span(unsigned int lo, unsigned int hi, unsigned int limit)
{
	if (lo > hi)
		return;
	if (syscall(SYS_close_range, lo, hi, 0) == 0)
		return;
	for (unsigned int fd = lo; fd <= hi && fd < limit; fd++)
		(void)close((int)fd);
}

void fd_close_all_but(const int *keep, size_t n)
{
	struct rlimit rl = { 1024, 1024 };
	unsigned int from = 3, limit;
	int sorted[16];

	if (n > sizeof(sorted) / sizeof(sorted[0]))
		abort();
	memcpy(sorted, keep, n * sizeof(int));
	qsort(sorted, n, sizeof(int), cmp_int);
	(void)getrlimit(RLIMIT_NOFILE, &rl);
	limit = (unsigned int)(rl.rlim_max > rl.rlim_cur ? rl.rlim_max : rl.rlim_cur);
	if (rl.rlim_max == RLIM_INFINITY || limit > (1u << 20))
		limit = 1u << 20;
	for (size_t i = 0; i < n; i++) {
		if (sorted[i] < (int)from)
			continue;
		close_span(from, (unsigned int)sorted[i] - 1, limit);
		from = (unsigned int)sorted[i] + 1;
	}
	close_span(from, ~0u, limit);
}

ssize_t fd_pread_full(int fd, void *buf, size_t len, off_t off)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = pread(fd, (char *)buf + got, len - got, off + (off_t)got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

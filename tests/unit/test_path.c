// SPDX-License-Identifier: Apache-2.0
/* test_path.c - resolving inside a root never leaves it, with openat2 and with the walk. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/err.h"
#include "common/fdio.h"
#include "common/syscalls.h"
#include "common/path.h"
#include "tests/unit/testutil.h"

/* Link-level mock: when `force_enosys` is set, openat2 is "missing" (kernels < 5.6). */
static int force_enosys;
int __real_dhi_sys_openat2(int dirfd, const char *path, struct open_how *how, size_t size);
int __wrap_dhi_sys_openat2(int dirfd, const char *path, struct open_how *how, size_t size);
int __wrap_dhi_sys_openat2(int dirfd, const char *path, struct open_how *how, size_t size)
{
	if (force_enosys) {
		errno = ENOSYS;
		return -1;
	}
	return __real_dhi_sys_openat2(dirfd, path, how, size);
}

static char tmpdir[] = "/tmp/dhi-test-path-XXXXXX";
static int rootfd = -1;

static void put(const char *rel, const char *text)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", tmpdir, rel);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void link_(const char *target, const char *rel)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", tmpdir, rel);
	assert_int_equal(symlink(target, p), 0);
}

static int setup(void **state)
{
	char p[512];

	if (!mkdtemp(tmpdir))
		return -1;
	put("outside-secret", "secret");
	snprintf(p, sizeof(p), "%s/root", tmpdir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/root/etc", tmpdir);
	mkdir(p, 0755);
	put("root/etc/os-release", "ID=inside\n");
	put("root/outside-secret", "decoy");
	link_("/etc/os-release", "root/etc/abs");
	link_("../../../../../../outside-secret", "root/etc/up");
	link_("/proc/self/root/etc/hostname", "root/magic");
	link_("loop", "root/loop");
	link_("etc", "root/etclink");
	snprintf(p, sizeof(p), "%s/root", tmpdir);
	rootfd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return rootfd < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	close(rootfd);
	return testutil_rmtree(tmpdir);
}

/* Reads `path` inside the root; returns the text or NULL with errno set. */
static char *read_in(const char *path, unsigned int pflags)
{
	struct dhi_err *err = NULL;
	char *buf = NULL;
	int fd;

	if (path_open_at(rootfd, path, O_RDONLY, pflags, &fd, &err) < 0) {
		errno = err->errnum;
		dhi_err_clear(&err);
		return NULL;
	}
	assert_int_equal(fd_read_file(fd, 4096, &buf, NULL, &err), 0);
	close(fd);
	return buf;
}

static void check_all(void)
{
	char *s;

	s = read_in("/etc/os-release", 0);
	assert_string_equal(s, "ID=inside\n");
	free(s);
	/* an absolute symlink is taken from the root, not from the host's / */
	s = read_in("etc/abs", 0);
	assert_string_equal(s, "ID=inside\n");
	free(s);
	/* ".." stops at the root */
	s = read_in("etc/up", 0);
	assert_string_equal(s, "decoy");
	free(s);
	s = read_in("../../../outside-secret", 0);
	assert_string_equal(s, "decoy");
	free(s);
	s = read_in("etclink/../etc/./os-release", 0);
	assert_string_equal(s, "ID=inside\n");
	free(s);
	/* /proc/self/root inside the root is just a path that does not exist there */
	assert_null(read_in("magic", 0));
	assert_int_equal(errno, ENOENT);
	assert_null(read_in("loop", 0));
	assert_int_equal(errno, ELOOP);
	assert_null(read_in("etc/abs", PATH_F_NO_SYMLINKS));
	assert_int_equal(errno, ELOOP);
	assert_null(read_in("etclink/os-release", PATH_F_NO_SYMLINKS));
	assert_int_equal(errno, ELOOP);
	assert_null(read_in("etc/os-release/x", 0));
	assert_int_equal(errno, ENOTDIR);
}

static void test_path_open_at_openat2(void **state)
{
	force_enosys = 0;
	check_all();
}

static void test_path_open_at_walk_fallback(void **state)
{
	force_enosys = 1;
	check_all();
	force_enosys = 0;
}

/* Reads `path` as path_read_regular_at() does; NULL with the error's text in *why. */
static char *read_regular(const char *path, size_t max, char **why)
{
	struct dhi_err *err = NULL;
	char *buf = NULL;

	*why = NULL;
	if (path_read_regular_at(rootfd, path, max, &buf, NULL, &err) < 0) {
		*why = dhi_err_string(err);
		dhi_err_clear(&err);
		return NULL;
	}
	return buf;
}

static void check_regular(void)
{
	char p[512], *s, *why;
	int fd;

	s = read_regular("etc/abs", 64, &why);
	assert_string_equal(s, "ID=inside\n");
	free(s);
	snprintf(p, sizeof(p), "%s/root/fifo", tmpdir);
	unlink(p);
	assert_int_equal(mkfifo(p, 0600), 0);
	/* (opening it for reading would block: nobody writes) */
	assert_null(read_regular("/fifo", 64, &why));
	assert_string_equal(why, "`/fifo` is a FIFO, not a regular file");
	free(why);
	snprintf(p, sizeof(p), "%s/root/big", tmpdir);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 1LL << 30), 0);
	close(fd);
	assert_null(read_regular("big", 65536, &why));
	assert_string_equal(why, "`big` is too large (1073741824 bytes, at most 65536 are read)");
	free(why);
	assert_null(read_regular("etc", 64, &why));
	assert_string_equal(why, "`etc` is a directory, not a regular file");
	free(why);
	assert_null(read_regular("nothing", 64, &why));
	assert_non_null(strstr(why, "No such file"));
	free(why);
	snprintf(p, sizeof(p), "%s/root/zero", tmpdir);
	unlink(p);
	if (mknod(p, S_IFCHR | 0600, makedev(1, 5)) == 0) {
		assert_null(read_regular("zero", 64, &why));
		assert_string_equal(why, "`zero` is a character device, not a regular file");
		free(why);
	}
}

static void test_path_read_regular_at(void **state)
{
	force_enosys = 0;
	check_regular();
	force_enosys = 1;
	check_regular();
	force_enosys = 0;
}

/* A /proc file is read only from procfs: the same name below a tmpfs or ext4 dir is refused. */
static void test_fd_read_proc_at(void **state)
{
	struct dhi_err *err = NULL;
	char *buf = NULL;
	int proc = open("/proc/self", O_PATH | O_DIRECTORY | O_CLOEXEC);

	assert_true(proc >= 0);
	assert_int_equal(fd_read_proc_at(proc, "stat", 4096, &buf, NULL, &err), 0);
	assert_non_null(strchr(buf, ')'));
	free(buf);
	close(proc);
	put("root/stat", "1 (fake) R");
	assert_int_equal(fd_read_proc_at(rootfd, "stat", 4096, &buf, NULL, &err), -1);
	assert_non_null(strstr(err->msg, "`stat` is not on procfs"));
	dhi_err_clear(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_open_at_openat2),
		cmocka_unit_test(test_path_open_at_walk_fallback),
		cmocka_unit_test(test_path_read_regular_at),
		cmocka_unit_test(test_fd_read_proc_at),
	};

	return cmocka_run_group_tests_name("path", tests, setup, teardown);
}

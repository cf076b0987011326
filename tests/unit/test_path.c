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
#include <unistd.h>

#include "common/err.h"
#include "common/fdio.h"
#include "common/syscalls.h"
#include "nsenter/path.h"
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_open_at_openat2),
		cmocka_unit_test(test_path_open_at_walk_fallback),
	};

	return cmocka_run_group_tests_name("path", tests, setup, teardown);
}

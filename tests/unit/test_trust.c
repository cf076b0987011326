// SPDX-License-Identifier: Apache-2.0
/* test_trust.c - what dhidebug believes: files nobody but root (or the effective user) can write. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/trust.h"
#include "tests/unit/testutil.h"

static char root[] = "/tmp/dhi-test-trust-XXXXXX";

static char *at(const char *rel)
{
	static char buf[4][256];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", root, rel);
	return buf[i];
}

static void put(const char *rel, mode_t mode)
{
	FILE *f = fopen(at(rel), "w");

	assert_non_null(f);
	fputs("{}\n", f);
	fclose(f);
	assert_int_equal(chmod(at(rel), mode), 0);
}

static int setup(void **st)
{
	(void)st;
	if (!mkdtemp(root))
		return -1;
	/* /tmp itself is sticky and world-writable: the rule allows that on the way */
	return mkdir(at("d"), 0755) == 0 ? 0 : -1;
}

static int teardown(void **st)
{
	(void)st;
	return testutil_rmtree(root);
}

/* trust_open(); the error message (caller frees) or NULL; *r the return value */
static char *try_open(const char *path, int flags, int *r)
{
	struct dhi_err *err = NULL;
	char *msg = NULL;
	int fd = -1;

	*r = trust_open(path, flags, &fd, &err);
	if (err) {
		msg = strdup(err->msg);
		dhi_err_clear(&err);
	}
	if (fd >= 0)
		close(fd);
	return msg;
}

static void test_trust_open_own_file(void **st)
{
	int r;

	(void)st;
	put("d/p.json", 0644);
	assert_null(try_open(at("d/p.json"), O_RDONLY, &r));
	assert_int_equal(r, 0);
	assert_null(try_open(at("d/none.json"), O_RDONLY, &r));
	assert_int_equal(r, 1);
}

static void test_trust_open_group_or_other_writable(void **st)
{
	char *m;
	int r;

	(void)st;
	put("d/g.json", 0664);
	m = try_open(at("d/g.json"), O_RDONLY, &r);
	assert_int_equal(r, -1);
	assert_non_null(strstr(m, "is writable by its group"));
	free(m);
	put("d/o.json", 0646);
	m = try_open(at("d/o.json"), O_RDONLY, &r);
	assert_non_null(strstr(m, "is writable by others"));
	free(m);
	/* a directory on the way: refused, unless sticky */
	assert_int_equal(mkdir(at("w"), 0777), 0);
	assert_int_equal(chmod(at("w"), 0777), 0);
	put("w/p.json", 0644);
	m = try_open(at("w/p.json"), O_RDONLY, &r);
	assert_non_null(m);
	assert_non_null(strstr(m, "/w` is writable by others"));
	free(m);
	assert_int_equal(chmod(at("w"), 01777), 0);
	assert_null(try_open(at("w/p.json"), O_RDONLY, &r));
	assert_int_equal(r, 0);
}

static void test_trust_open_symlinks(void **st)
{
	struct dhi_err *err = NULL;
	struct stat a, b;
	int fd = -1, r;
	char *m;

	(void)st;
	put("d/real.json", 0644);
	assert_int_equal(symlink("real.json", at("d/rel")), 0);
	assert_int_equal(symlink(at("d/real.json"), at("d/abs")), 0);
	assert_int_equal(symlink("../d/./rel", at("d/up")), 0);
	assert_int_equal(stat(at("d/real.json"), &a), 0);
	for (const char *const *n = (const char *const[]){ "d/rel", "d/abs", "d/up", NULL }; *n; n++) {
		assert_int_equal(trust_open(at(*n), O_RDONLY, &fd, &err), 0);
		assert_int_equal(fstat(fd, &b), 0);
		assert_true(a.st_ino == b.st_ino && a.st_dev == b.st_dev);
		close(fd);
	}
	assert_int_equal(symlink("loop", at("d/loop")), 0);
	m = try_open(at("d/loop"), O_RDONLY, &r);
	assert_int_equal(r, -1);
	free(m);
	/* a file where a directory is needed */
	m = try_open(at("d/real.json/x"), O_RDONLY, &r);
	assert_int_equal(r, -1);
	free(m);
}

static void test_trust_open_fifo_does_not_block(void **st)
{
	int r;

	(void)st;
	assert_int_equal(mkfifo(at("d/fifo"), 0600), 0);
	assert_null(try_open(at("d/fifo"), O_RDONLY, &r));
	assert_int_equal(r, 0);
}

static void test_trust_open_relative(void **st)
{
	char cwd[4096];
	int r;

	(void)st;
	put("d/rel.json", 0644);
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(root), 0);
	assert_null(try_open("d/rel.json", O_RDONLY, &r));
	assert_int_equal(r, 0);
	assert_int_equal(chdir(cwd), 0);
}

/* another user's file: only root can make one */
static void test_trust_open_other_owner(void **st)
{
	char *m;
	int r;

	(void)st;
	if (geteuid() != 0)
		skip();
	put("d/nobody.json", 0644);
	assert_int_equal(chown(at("d/nobody.json"), 65534, 65534), 0);
	m = try_open(at("d/nobody.json"), O_RDONLY, &r);
	assert_int_equal(r, -1);
	assert_non_null(strstr(m, "is owned by uid 65534"));
	free(m);
	/* a symlink of another user's, even to root's own file */
	put("d/mine.json", 0644);
	assert_int_equal(symlink(at("d/mine.json"), at("d/theirs")), 0);
	assert_int_equal(lchown(at("d/theirs"), 65534, 65534), 0);
	m = try_open(at("d/theirs"), O_RDONLY, &r);
	assert_int_equal(r, -1);
	assert_non_null(strstr(m, "/d/theirs` is owned by uid 65534"));
	free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_trust_open_own_file),
		cmocka_unit_test(test_trust_open_group_or_other_writable),
		cmocka_unit_test(test_trust_open_symlinks),
		cmocka_unit_test(test_trust_open_fifo_does_not_block),
		cmocka_unit_test(test_trust_open_relative),
		cmocka_unit_test(test_trust_open_other_owner),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

// SPDX-License-Identifier: Apache-2.0
/* test_copy.c - `dhidebug cp` operands (injector/copy/spec.c) and manifest names (custody.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "injector/copy/custody.h"
#include "injector/copy/idmap.h"
#include "injector/copy/spec.h"

static void expect_spec(const char *src, const char *dst, enum copy_dir dir, const char *target,
			const char *cpath, const char *hpath)
{
	struct copy_spec s;
	struct dhi_err *err = NULL;

	assert_int_equal(copy_spec_parse(src, dst, &s, &err), 0);
	assert_null(err);
	assert_int_equal(s.dir, dir);
	assert_string_equal(s.target, target);
	assert_string_equal(s.cpath, cpath);
	assert_string_equal(s.hpath, hpath);
	copy_spec_free(&s);
}

static void expect_bad(const char *src, const char *dst, const char *why)
{
	struct copy_spec s;
	struct dhi_err *err = NULL;

	assert_int_equal(copy_spec_parse(src, dst, &s, &err), -1);
	assert_non_null(err);
	assert_non_null(strstr(err->msg, why));
	dhi_err_clear(&err);
}

static void test_copy_spec_parse_out(void **state)
{
	(void)state;
	expect_spec("runc://web:/var/log", "out", COPY_OUT, "runc://web", "/var/log", "out");
	expect_spec("web:etc/passwd", "-", COPY_OUT, "web", "/etc/passwd", "-");
	expect_spec("containerd://k8s.io/abc:/x", "/tmp/x", COPY_OUT, "containerd://k8s.io/abc",
		    "/x", "/tmp/x");
	expect_spec("image://localhost:5000/app:1.2@sha256:ab:/etc/os-release", ".", COPY_OUT,
		    "image://localhost:5000/app:1.2@sha256:ab", "/etc/os-release", ".");
}

static void test_copy_spec_parse_in(void **state)
{
	(void)state;
	expect_spec("./a:b", "podman://db:/tmp/", COPY_IN, "podman://db", "/tmp/", "./a:b");
	expect_spec("/x:y", "pid://42:/z", COPY_IN, "pid://42", "/z", "/x:y");
}

static void test_copy_spec_parse_bad(void **state)
{
	(void)state;
	expect_bad("a:/x", "b:/y", "both in a container");
	expect_bad("/a", "/b", "neither");
	expect_bad("web:", "/b", "no path after");
	expect_bad("", "web:/x", "empty");
	expect_bad(":x", "/b", "neither");
	expect_bad("image://app:1", "/b", "neither");
}

static void test_custody_manifest_name_escapes(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	bool escaped = false;

	(void)state;
	custody_manifest_name(f, "a\\b\nc", &escaped);
	fclose(f);
	assert_true(escaped);
	assert_string_equal(buf, "a\\\\b\\nc");
	free(buf);
	buf = NULL;
	f = open_memstream(&buf, &len);
	custody_manifest_name(f, "plain name", &escaped);
	fclose(f);
	assert_false(escaped);
	assert_string_equal(buf, "plain name");
	free(buf);
}

/* uid_map as the kernel writes it, and what a hostile or odd one looks like */
static void test_copy_idmap_parse(void **state)
{
	static const char *const bad[] = {
		"0 200000\n", "0 200000 0\n", "a b c\n", "0 200000 65536 7\n",
		"4294967295 0 2\n", "0 4294967290 10\n", "0 200000 99999999999\n", "-1 0 1\n",
	};
	struct copy_idmap_range *r = NULL;
	struct dhi_err *err = NULL;
	uint32_t host = 0;
	size_t n = 0;

	(void)state;
	assert_int_equal(copy_idmap_parse("         0     200000      65536\n"
					  "     65536     900000          1\n", &r, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_false(copy_idmap_is_identity(r, n));
	assert_true(copy_idmap_to_host(r, n, 0, &host));
	assert_int_equal(host, 200000);
	assert_true(copy_idmap_to_host(r, n, 65535, &host));
	assert_int_equal(host, 265535);
	assert_true(copy_idmap_to_host(r, n, 65536, &host));
	assert_int_equal(host, 900000);
	assert_false(copy_idmap_to_host(r, n, 65537, &host));
	free(r);
	assert_int_equal(copy_idmap_parse("         0          0 4294967295\n", &r, &n, &err), 0);
	assert_true(copy_idmap_is_identity(r, n));
	free(r);
	/* a namespace with no map written yet maps nothing */
	assert_int_equal(copy_idmap_parse("", &r, &n, &err), 0);
	assert_int_equal(n, 0);
	assert_false(copy_idmap_is_identity(r, n));
	assert_false(copy_idmap_to_host(r, n, 0, &host));
	free(r);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(copy_idmap_parse(bad[i], &r, &n, &err), -1);
		assert_null(r);
		dhi_err_clear(&err);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_copy_spec_parse_out),
		cmocka_unit_test(test_copy_idmap_parse),
		cmocka_unit_test(test_copy_spec_parse_in),
		cmocka_unit_test(test_copy_spec_parse_bad),
		cmocka_unit_test(test_custody_manifest_name_escapes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: Apache-2.0
/* test_osrelease.c - os-release parsing, including hostile input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "common/osrelease.h"

static void parse(const char *text, struct os_release *o)
{
	os_release_parse(text, strlen(text), o);
}

static void test_os_release_parse_debian(void **state)
{
	struct os_release o;

	parse("PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n", &o);
	assert_string_equal(o.id, "debian");
	assert_string_equal(o.version_id, "12");
}

static void test_os_release_parse_single_quotes_and_crlf(void **state)
{
	struct os_release o;

	parse("ID='alpine'\r\nVERSION_ID=3.21.2\r\n", &o);
	assert_string_equal(o.id, "alpine");
	assert_string_equal(o.version_id, "3.21.2");
}

static void test_os_release_parse_ignores_lookalike_keys(void **state)
{
	struct os_release o;

	parse("ID_LIKE=debian\nVERSION_ID_X=9\nXID=evil\n", &o);
	assert_string_equal(o.id, "");
	assert_string_equal(o.version_id, "");
}

static void test_os_release_parse_hostile(void **state)
{
	struct os_release o;
	char big[5000];
	const char nul[] = "ID=deb\0ian\nVERSION_ID=1\x1b[2J\n";

	memset(big, 'a', sizeof(big));
	memcpy(big, "ID=", 3);
	big[sizeof(big) - 1] = '\0';
	parse(big, &o);
	assert_int_equal(strlen(o.id), sizeof(o.id) - 1);	/* truncated, not overflowed */

	os_release_parse(nul, sizeof(nul) - 1, &o);
	assert_string_equal(o.version_id, "1[2J");	/* control bytes dropped */
	assert_null(strchr(o.id, '\n'));
}

static void test_os_release_same(void **state)
{
	struct os_release a, b, empty;

	parse("ID=debian\nVERSION_ID=12\n", &a);
	parse("ID=\"debian\"\nVERSION_ID='12'\n", &b);
	parse("", &empty);
	assert_true(os_release_same(&a, &b));
	parse("ID=debian\nVERSION_ID=13\n", &b);
	assert_false(os_release_same(&a, &b));
	assert_false(os_release_same(&empty, &empty));	/* unknown is never "the same" */
	/* major.minor: an Alpine point release is the same release */
	parse("ID=alpine\nVERSION_ID=3.21.3\n", &a);
	parse("ID=alpine\nVERSION_ID=3.21.0\n", &b);
	assert_true(os_release_same(&a, &b));
	parse("ID=alpine\nVERSION_ID=3.21\n", &b);
	assert_true(os_release_same(&a, &b));
	parse("ID=alpine\nVERSION_ID=3.22.1\n", &b);
	assert_false(os_release_same(&a, &b));
	parse("ID=alpine\nVERSION_ID=3.2\n", &b);
	assert_false(os_release_same(&a, &b));
	parse("ID=debian\nVERSION_ID=3.21.3\n", &b);
	assert_false(os_release_same(&a, &b));
}

static void test_os_release_describe(void **state)
{
	struct os_release a;
	char buf[96];

	parse("ID=alpine\nVERSION_ID=3.21.3\n", &a);
	os_release_describe(&a, buf, sizeof(buf));
	assert_string_equal(buf, "alpine 3.21.3");
	parse("VERSION_ID=1\n", &a);
	os_release_describe(&a, buf, sizeof(buf));
	assert_non_null(strstr(buf, "no known distribution"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_os_release_parse_debian),
		cmocka_unit_test(test_os_release_parse_single_quotes_and_crlf),
		cmocka_unit_test(test_os_release_parse_ignores_lookalike_keys),
		cmocka_unit_test(test_os_release_parse_hostile),
		cmocka_unit_test(test_os_release_same),
		cmocka_unit_test(test_os_release_describe),
	};

	return cmocka_run_group_tests_name("osrelease", tests, NULL, NULL);
}

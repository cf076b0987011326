// SPDX-License-Identifier: Apache-2.0
/* test_err.c - the error object's text: made printable, whatever a peer put in it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"

static void check_printable(const char *in, const char *want)
{
	char *got = dhi_printable(in);

	if (strcmp(got, want) != 0)
		fail_msg("dhi_printable: got `%s`, want `%s`", got, want);
	free(got);
}

static void test_dhi_printable_terminal_sequences(void **state)
{
	(void)state;
	/* OSC (window title) ended by BEL, then clear screen: nothing of it acts */
	check_printable("a\033]0;pwned\007\033[2Jb", "a?]0;pwned??[2Jb");
	/* CR, LF and TAB would forge or shift a line */
	check_printable("x\r\ny\tz", "x??y?z");
	/* DEL, and C1 CSI both raw (invalid UTF-8) and as U+009B */
	check_printable("\x7f\x9b" "2J\xc2\x9b" "2J", "??2J?2J");
}

static void test_dhi_printable_unicode(void **state)
{
	(void)state;
	/* text stays text */
	check_printable("caf\xc3\xa9 \xe2\x86\x92 \xf0\x9f\x90\xb3",
			"caf\xc3\xa9 \xe2\x86\x92 \xf0\x9f\x90\xb3");
	/* bidi overrides (U+202E, U+2066) and the line separator U+2028 */
	check_printable("a\xe2\x80\xae" "b\xe2\x81\xa6" "c\xe2\x80\xa8" "d", "a?b?c?d");
	/* overlong '/', a surrogate, a cut sequence */
	check_printable("\xc0\xaf|\xed\xa0\x80|\xe2\x86", "??|???|??");
}

static void test_dhi_is_utf8(void **state)
{
	(void)state;
	assert_true(dhi_is_utf8("caf\xc3\xa9"));
	assert_false(dhi_is_utf8("\xff"));
	assert_false(dhi_is_utf8("a\xc3"));
	assert_false(dhi_is_utf8("\xf4\x90\x80\x80")); /* past U+10FFFF */
}

static void test_dhi_err_string_is_printable(void **state)
{
	struct dhi_err *err = NULL;
	char *s;

	(void)state;
	dhi_err_set(&err, ENOENT, "layer %d has an unsupported media type `%s`", 0,
		    "x\033]0;t\007\033[2J");
	dhi_err_prefix(&err, "cannot pull `%s`", "r\nforged line");
	s = dhi_err_string(err);
	assert_string_equal(s, "cannot pull `r?forged line`: layer 0 has an unsupported media type "
			       "`x?]0;t??[2J`: No such file or directory");
	free(s);
	dhi_err_clear(&err);
}

static void test_dhi_err_set_kind_prints_no_errno(void **state)
{
	struct dhi_err *err = NULL;
	char *s;

	(void)state;
	dhi_err_set_kind(&err, ENOENT, "manifest `%s` not found in the registry", "dev");
	dhi_err_prefix(&err, "cannot pull `x`");
	assert_int_equal(err->errnum, ENOENT);
	s = dhi_err_string(err);
	assert_string_equal(s, "cannot pull `x`: manifest `dev` not found in the registry");
	free(s);
	/* a later dhi_err_set() on the same object prints its errno again */
	dhi_err_set(&err, EACCES, "cannot open `y`");
	s = dhi_err_string(err);
	assert_string_equal(s, "cannot open `y`: Permission denied");
	free(s);
	dhi_err_clear(&err);
}

/* Text that is not UTF-8 keeps every byte, escaped; UTF-8 needs nothing. */
static void test_dhi_utf8_escaped(void **state)
{
	char *e;

	(void)state;
	assert_null(dhi_utf8_escaped("plain, caf\xc3\xa9 \\x41"));
	e = dhi_utf8_escaped("a\xff\\b\xc3");
	assert_string_equal(e, "a\\xff\\\\b\\xc3");
	free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dhi_printable_terminal_sequences),
		cmocka_unit_test(test_dhi_printable_unicode),
		cmocka_unit_test(test_dhi_is_utf8),
		cmocka_unit_test(test_dhi_utf8_escaped),
		cmocka_unit_test(test_dhi_err_string_is_printable),
		cmocka_unit_test(test_dhi_err_set_kind_prints_no_errno),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

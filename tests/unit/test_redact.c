// SPDX-License-Identifier: Apache-2.0
/* test_redact.c - the policy's `redact` patterns: parsing, and what they leave
 * of the output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "injector/record/redact.h"

static void parse(const char *json, struct redact_set *s)
{
	json_t *v = json_loads(json, 0, NULL);
	struct dhi_err *err = NULL;

	memset(s, 0, sizeof(*s));
	assert_non_null(v);
	if (redact_parse(v, s, &err) < 0)
		fail_msg("redact_parse(%s): %s", json, err->msg);
	json_decref(v);
}

/* applies s to each chunk in turn, as the recorder does; returns the whole text
 */
static char *apply(const struct redact_set *s, const char *const *chunks,
		   unsigned counts[REDACT_MAX])
{
	struct redact_state st = {0};
	char *all = calloc(1, 1);
	size_t total = 0;

	for (; *chunks; chunks++) {
		size_t n;
		char *t = redact_apply(s, &st, *chunks, strlen(*chunks), &n, counts);

		all = realloc(all, total + n + 1);
		memcpy(all + total, t, n);
		total += n;
		all[total] = '\0';
		free(t);
	}
	return all;
}

static void test_redact_apply_builtins(void **state)
{
	struct redact_set s;
	unsigned c[REDACT_MAX] = {0};
	char *got;

	(void)state;
	parse("[\"bearer\", \"aws\", \"pem\"]", &s);
	got = apply(&s,
		    (const char *const[]){"curl: authorization: bearer abcdefgh.ijk-1\n",
					  "id AKIAABCDEFGHIJKLMNOP aws_secret_access_key = "
					  "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY!\n",
					  "Bearer short\n", NULL},
		    c);
	assert_string_equal(got, "curl: authorization: [REDACTED:bearer]\n"
				 "id [REDACTED:aws] [REDACTED:aws]!\n"
				 "Bearer short\n");
	assert_int_equal(c[0], 1);
	assert_int_equal(c[1], 2);
	assert_int_equal(c[2], 0);
	free(got);
	redact_free(&s);
}

static void test_redact_apply_pem_across_chunks(void **state)
{
	struct redact_set s;
	unsigned c[REDACT_MAX] = {0};
	char *got;

	(void)state;
	parse("[\"pem\"]", &s);
	got = apply(&s,
		    (const char *const[]){"a\nkey: -----BEGIN RSA PRIVATE KEY-----\nMIIB",
					  "xyz\nQUJD\n-----END RSA ", "PRIVATE KEY----- b\nc\n",
					  "-----BEGIN CERTIFICATE-----\n", NULL},
		    c);
	/* the block is one marker; a certificate is not a secret */
	assert_string_equal(got, "a\nkey: [REDACTED:pem] b\nc\n-----BEGIN CERTIFICATE-----\n");
	assert_int_equal(c[0], 1);
	free(got);
	redact_free(&s);
}

static void test_redact_apply_site_regex_and_nul(void **state)
{
	struct redact_set s;
	unsigned c[REDACT_MAX] = {0};
	struct redact_state st = {0};
	size_t n;
	char *got;

	(void)state;
	parse("[{\"name\": \"ticket\", \"regex\": \"TKT-[0-9]{3}\"}]", &s);
	/* a NUL byte in the output does not end the search */
	got = redact_apply(&s, &st, "x\0TKT-123 TKT-456\n", 18, &n, c);
	assert_int_equal(n, 2 + 17 + 1 + 17 + 1);
	assert_memory_equal(got, "x\0[REDACTED:ticket] [REDACTED:ticket]\n", n);
	assert_int_equal(c[0], 2);
	free(got);
	redact_free(&s);
}

static void test_redact_parse_errors(void **state)
{
	static const char *const bad[] = {
		"[\"passwords\"]",
		"[{\"name\": \"x\", \"regex\": \"a(\"}]",
		"[{\"name\": \"Bad Name\", \"regex\": \"a\"}]",
		"[\"pem\", \"pem\"]",
		"{\"pem\": true}",
		"[{\"name\": \"x\"}]",
		NULL,
	};

	(void)state;
	for (const char *const *b = bad; *b; b++) {
		json_t *v = json_loads(*b, 0, NULL);
		struct redact_set s = {0};
		struct dhi_err *err = NULL;

		if (redact_parse(v, &s, &err) == 0)
			fail_msg("redact_parse(%s) accepted it", *b);
		dhi_err_clear(&err);
		redact_free(&s);
		json_decref(v);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_redact_apply_builtins),
		cmocka_unit_test(test_redact_apply_pem_across_chunks),
		cmocka_unit_test(test_redact_apply_site_regex_and_nul),
		cmocka_unit_test(test_redact_parse_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

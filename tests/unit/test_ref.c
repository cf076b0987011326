// SPDX-License-Identifier: Apache-2.0
/* test_ref.c - OCI reference grammar and the image → toolbox rule table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "toolbox/ref.h"

#define D64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void expect_ref(const char *s, const char *reg, const char *repo, const char *tag,
		       const char *digest)
{
	struct tb_ref r;
	struct dhi_err *err = NULL;

	assert_int_equal(ref_parse(s, &r, &err), 0);
	assert_null(err);
	assert_string_equal(r.registry, reg);
	assert_string_equal(r.repo, repo);
	if (tag)
		assert_string_equal(r.tag, tag);
	else
		assert_null(r.tag);
	if (digest)
		assert_string_equal(r.digest, digest);
	else
		assert_null(r.digest);
	ref_free(&r);
}

static void expect_bad(const char *s, const char *msg_part)
{
	struct tb_ref r;
	struct dhi_err *err = NULL;

	assert_int_equal(ref_parse(s, &r, &err), -1);
	assert_non_null(err);
	if (msg_part && !strstr(err->msg, msg_part))
		fail_msg("`%s`: message `%s` lacks `%s`", s, err->msg, msg_part);
	dhi_err_clear(&err);
}

static void test_ref_parse_docker_hub_defaults(void **state)
{
	expect_ref("python", "docker.io", "library/python", "latest", NULL);
	expect_ref("python:3.13", "docker.io", "library/python", "3.13", NULL);
	expect_ref("acme/dhi-python:3.13-debian12", "docker.io", "acme/dhi-python",
		   "3.13-debian12", NULL);
	expect_ref("index.docker.io/foo", "docker.io", "library/foo", "latest", NULL);
}

static void test_ref_parse_registry_with_port_and_nested_repo(void **state)
{
	expect_ref("127.0.0.1:5000/dhi/app:1-debian12", "127.0.0.1:5000", "dhi/app", "1-debian12",
		   NULL);
	expect_ref("localhost/a/b/c", "localhost", "a/b/c", "latest", NULL);
	expect_ref("registry.example.com:443/team/x/y:v1.2_3", "registry.example.com:443",
		   "team/x/y", "v1.2_3", NULL);
	expect_ref("[::1]:5000/app:1", "[::1]:5000", "app", "1", NULL);
}

static void test_ref_parse_digest(void **state)
{
	expect_ref("dhi.io/python@sha256:" D64, "dhi.io", "python", NULL, "sha256:" D64);
	expect_ref("dhi.io/python:3.13-debian13@sha256:" D64, "dhi.io", "python",
		   "3.13-debian13", "sha256:" D64);
}

static void test_ref_parse_rejects_bad_input(void **state)
{
	expect_bad("", "empty");
	expect_bad("Python", "invalid repository");
	expect_bad("a//b", "invalid repository");
	expect_bad("a/../b", "invalid repository");
	expect_bad("app:", "invalid tag");
	expect_bad("app:-x", "invalid tag");
	expect_bad("app@sha256:1234", "invalid digest");
	expect_bad("app@md5:" D64, "invalid digest");
	expect_bad("app@sha256:" D64 "0", "invalid digest");
	expect_bad("host:99999/app", "invalid registry");
	expect_bad("host:/app", "invalid registry");
	expect_bad("a_-b", "invalid repository");
	expect_bad("app:t\nx", "invalid tag");
	expect_bad("127.0.0.1:5000/", "no repository");
}

static void test_ref_parse_rejects_overlong(void **state)
{
	char *s = malloc(2000);

	memset(s, 'a', 1999);
	s[1999] = '\0';
	expect_bad(s, "too long");
	s[300] = '\0';
	expect_bad(s, "too long");
	free(s);
}

static void test_ref_format_roundtrip(void **state)
{
	struct tb_ref r;
	struct dhi_err *err = NULL;
	char *s;

	assert_int_equal(ref_parse("busybox", &r, &err), 0);
	s = ref_format(&r);
	assert_string_equal(s, "docker.io/library/busybox:latest");
	free(s);
	ref_free(&r);
}

static void expect_rule(const char *image, const char *dflt, const char *want, const char *rule)
{
	struct tb_ref in, out;
	struct dhi_err *err = NULL;
	const char *got_rule = NULL;
	char *why = NULL, *s;

	assert_int_equal(ref_parse(image, &in, &err), 0);
	assert_int_equal(ref_toolbox_rule(&in, dflt, &out, &got_rule, &why, &err), 0);
	s = ref_format(&out);
	assert_string_equal(s, want);
	assert_string_equal(got_rule, rule);
	assert_non_null(why);
	free(s);
	free(why);
	ref_free(&in);
	ref_free(&out);
}

static void test_ref_toolbox_rule_dhi(void **state)
{
	expect_rule("dhi.io/python:3.13-debian13", NULL, "dhi.io/python:3.13-debian13-dev", "dhi");
	expect_rule("127.0.0.1:5000/dhi/app:1-debian12", NULL,
		    "127.0.0.1:5000/dhi/app:1-debian12-dev", "dhi");
	expect_rule("dhi.io/node:22-alpine3.21-fips", NULL, "dhi.io/node:22-alpine3.21-fips-dev",
		    "dhi");
}

static void test_ref_toolbox_rule_dhi_dev_is_its_own(void **state)
{
	expect_rule("dhi.io/python:3.13-debian13-dev", NULL, "dhi.io/python:3.13-debian13-dev",
		    "dhi");
	expect_rule("dhi.io/python:3.13-debian13-sdk", NULL, "dhi.io/python:3.13-debian13-sdk",
		    "dhi");
}

static void test_ref_toolbox_rule_docker_hub_mirror(void **state)
{
	expect_rule("acme/dhi-python:3.13-debian12", NULL,
		    "docker.io/acme/dhi-python:3.13-debian12-dev", "dhi");
}

static void test_ref_toolbox_rule_chainguard(void **state)
{
	expect_rule("cgr.dev/chainguard/python:latest", NULL,
		    "cgr.dev/chainguard/python:latest-dev", "chainguard");
	expect_rule("cgr.dev/chainguard/python:latest-dev", NULL,
		    "cgr.dev/chainguard/python:latest-dev", "chainguard");
}

static void test_ref_toolbox_rule_distroless(void **state)
{
	expect_rule("gcr.io/distroless/static-debian12", NULL,
		    "gcr.io/distroless/static-debian12:debug", "distroless");
	expect_rule("gcr.io/distroless/base:nonroot", NULL, "gcr.io/distroless/base:debug-nonroot",
		    "distroless");
}

static void test_ref_toolbox_rule_default_and_none(void **state)
{
	struct tb_ref in, out;
	struct dhi_err *err = NULL;
	const char *rule;
	char *why = NULL;

	expect_rule("nginx:1.27", "127.0.0.1:5000/tools:1", "127.0.0.1:5000/tools:1", "default");
	/* a DHI name with a non-DHI tag is not guessed at */
	expect_rule("dhi.io/python:3.13", "busybox", "docker.io/library/busybox:latest",
		    "default");
	assert_int_equal(ref_parse("nginx:1.27", &in, &err), 0);
	assert_int_equal(ref_toolbox_rule(&in, NULL, &out, &rule, &why, &err), -1);
	assert_non_null(strstr(err->msg, "no toolbox rule matches"));
	dhi_err_clear(&err);
	ref_free(&in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ref_parse_docker_hub_defaults),
		cmocka_unit_test(test_ref_parse_registry_with_port_and_nested_repo),
		cmocka_unit_test(test_ref_parse_digest),
		cmocka_unit_test(test_ref_parse_rejects_bad_input),
		cmocka_unit_test(test_ref_parse_rejects_overlong),
		cmocka_unit_test(test_ref_format_roundtrip),
		cmocka_unit_test(test_ref_toolbox_rule_dhi),
		cmocka_unit_test(test_ref_toolbox_rule_dhi_dev_is_its_own),
		cmocka_unit_test(test_ref_toolbox_rule_docker_hub_mirror),
		cmocka_unit_test(test_ref_toolbox_rule_chainguard),
		cmocka_unit_test(test_ref_toolbox_rule_distroless),
		cmocka_unit_test(test_ref_toolbox_rule_default_and_none),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: Apache-2.0
/* test_ref.c - OCI reference grammar and the image → toolbox rule table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
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

/* The rule's name and its candidates, in order (NULL-terminated). */
static void expect_rule(const char *image, const char *dflt, const char *rule, ...)
{
	struct tb_ref in;
	struct tb_rule out;
	struct dhi_err *err = NULL;
	va_list ap;
	const char *want;
	int i = 0;

	assert_int_equal(ref_parse(image, &in, &err), 0);
	if (ref_toolbox_rule(&in, dflt, &out, &err) < 0)
		fail_msg("`%s`: %s", image, err->msg);
	assert_string_equal(out.name, rule);
	assert_non_null(out.why);
	va_start(ap, rule);
	while ((want = va_arg(ap, const char *))) {
		char *s;

		if (i >= out.n)
			fail_msg("`%s`: %d candidates, wanted `%s` too", image, out.n, want);
		s = ref_format(&out.cand[i++]);
		if (strcmp(s, want) != 0)
			fail_msg("`%s`: candidate %d is `%s`, wanted `%s`", image, i, s, want);
		free(s);
	}
	va_end(ap);
	if (i != out.n)
		fail_msg("`%s`: %d candidates, wanted %d", image, out.n, i);
	ref_rule_free(&out);
	ref_free(&in);
}

static void expect_no_rule(const char *image, const char *msg_part)
{
	struct tb_ref in;
	struct tb_rule out;
	struct dhi_err *err = NULL;

	assert_int_equal(ref_parse(image, &in, &err), 0);
	assert_int_equal(ref_toolbox_rule(&in, NULL, &out, &err), -1);
	if (!strstr(err->msg, msg_part))
		fail_msg("`%s`: message `%s` lacks `%s`", image, err->msg, msg_part);
	dhi_err_clear(&err);
	ref_rule_free(&out);
	ref_free(&in);
}

static void expect_tag(const char *tag, const char *version, const char *distro, int n_variants,
		       const char *last_variant, bool is_dev)
{
	struct dhi_tag t;

	if (ref_dhi_tag_parse(tag, &t) < 0)
		fail_msg("`%s` is a DHI tag", tag);
	assert_string_equal(t.version, version);
	assert_string_equal(t.distro, distro);
	assert_int_equal(t.n_variants, n_variants);
	if (last_variant)
		assert_string_equal(t.variants[n_variants - 1], last_variant);
	assert_int_equal(t.is_dev, is_dev);
}

/* The grammar: <app-version>[-<distribution>][-<variant>...] */
static void test_ref_dhi_tag_grammar(void **state)
{
	struct dhi_tag t;

	expect_tag("3", "3", "", 0, NULL, false);
	expect_tag("3.13", "3.13", "", 0, NULL, false);
	expect_tag("3.13.7", "3.13.7", "", 0, NULL, false);
	expect_tag("22", "22", "", 0, NULL, false);
	expect_tag("1.25", "1.25", "", 0, NULL, false);
	expect_tag("3.13-alpine3.21", "3.13", "alpine3.21", 0, NULL, false);
	expect_tag("3.13-alpine3.22-dev", "3.13", "alpine3.22", 1, "dev", true);
	expect_tag("1.25-debian12", "1.25", "debian12", 0, NULL, false);
	expect_tag("22-debian13-sdk", "22", "debian13", 1, "sdk", true);
	expect_tag("3.13-dev", "3.13", "", 1, "dev", true);
	expect_tag("3.13-fips", "3.13", "", 1, "fips", false);
	expect_tag("3.9.23-debian12-fips", "3.9.23", "debian12", 1, "fips", false);
	expect_tag("3.9.23-debian13-fips-dev", "3.9.23", "debian13", 2, "dev", true);
	expect_tag("1-debian13-stig", "1", "debian13", 1, "stig", false);
	expect_tag("1-debian13-compat", "1", "debian13", 1, "compat", false);
	expect_tag("3.13-debian13-sfw-ent-dev", "3.13", "debian13", 3, "dev", true);
	/* not DHI tags */
	assert_int_equal(ref_dhi_tag_parse("latest", &t), -1);
	assert_int_equal(ref_dhi_tag_parse("v3.13", &t), -1);
	assert_int_equal(ref_dhi_tag_parse("3..13", &t), -1);
	assert_int_equal(ref_dhi_tag_parse("3.13.", &t), -1);
	assert_int_equal(ref_dhi_tag_parse("3.13-", &t), -1);
	assert_int_equal(ref_dhi_tag_parse("3.13--dev", &t), -1);
	assert_int_equal(ref_dhi_tag_parse("3.13-Dev", &t), -1);
	assert_int_equal(ref_dhi_tag_parse("1.2.3.4.5", &t), -1);
	assert_int_equal(ref_dhi_tag_parse("3-a-b-c-d-e", &t), -1);
	assert_int_equal(ref_dhi_tag_parse("3-debian12-debian13", &t), -1);
}

/* Each row of the table and each example line of the seed. */
static void test_ref_toolbox_rule_dhi(void **state)
{
	expect_rule("dhi.io/python:3.13", NULL, "dhi", "dhi.io/python:3.13-dev", NULL);
	expect_rule("dhi.io/python:3", NULL, "dhi", "dhi.io/python:3-dev", NULL);
	expect_rule("dhi.io/python:3.13.7", NULL, "dhi", "dhi.io/python:3.13.7-dev", NULL);
	expect_rule("dhi.io/python:3.13-debian13", NULL, "dhi", "dhi.io/python:3.13-debian13-dev",
		    NULL);
	expect_rule("127.0.0.1:5000/dhi/app:1-debian12", NULL, "dhi",
		    "127.0.0.1:5000/dhi/app:1-debian12-dev", NULL);
	expect_rule("dhi.io/python:3.13-alpine3.21", NULL, "dhi",
		    "dhi.io/python:3.13-alpine3.21-dev", NULL);
	expect_rule("dhi.io/golang:1-alpine3.22", NULL, "dhi", "dhi.io/golang:1-alpine3.22-dev",
		    NULL);
	expect_rule("dhi.io/golang:1.25-debian12", NULL, "dhi", "dhi.io/golang:1.25-debian12-dev",
		    NULL);
	/* pinned by digest: the tag's -dev, without the digest */
	expect_rule("dhi.io/python:3.13@sha256:" D64, NULL, "dhi", "dhi.io/python:3.13-dev", NULL);
	/* variants: the same variant's -dev, then without it */
	expect_rule("dhi.io/python:3.13-debian13-fips", NULL, "dhi",
		    "dhi.io/python:3.13-debian13-fips-dev", "dhi.io/python:3.13-debian13-dev", NULL);
	expect_rule("dhi.io/nginx:1-debian13-stig", NULL, "dhi", "dhi.io/nginx:1-debian13-stig-dev",
		    "dhi.io/nginx:1-debian13-dev", NULL);
	expect_rule("dhi.io/node:22-alpine3.21-fips", NULL, "dhi",
		    "dhi.io/node:22-alpine3.21-fips-dev", "dhi.io/node:22-alpine3.21-dev", NULL);
	expect_rule("dhi.io/python:3.13-fips-stig", NULL, "dhi", "dhi.io/python:3.13-fips-stig-dev",
		    "dhi.io/python:3.13-fips-dev", "dhi.io/python:3.13-dev", NULL);
}

static void test_ref_toolbox_rule_dhi_dev_is_its_own(void **state)
{
	expect_rule("dhi.io/python:3.13-dev", NULL, "dhi", "dhi.io/python:3.13-dev", NULL);
	expect_rule("dhi.io/python:3.13-debian13-dev", NULL, "dhi",
		    "dhi.io/python:3.13-debian13-dev", NULL);
	expect_rule("dhi.io/python:3.13-debian13-sdk", NULL, "dhi",
		    "dhi.io/python:3.13-debian13-sdk", NULL);
	expect_rule("dhi.io/node:22-debian13-dev", NULL, "dhi", "dhi.io/node:22-debian13-dev",
		    NULL);
	expect_rule("dhi.io/python:3.13-alpine3.21-dev", NULL, "dhi",
		    "dhi.io/python:3.13-alpine3.21-dev", NULL);
	expect_rule("dhi.io/python:3.9.23-debian13-fips-dev", NULL, "dhi",
		    "dhi.io/python:3.9.23-debian13-fips-dev", NULL);
}

static void test_ref_toolbox_rule_docker_hub_mirror(void **state)
{
	expect_rule("acme/dhi-python:3.13-debian12", NULL, "dhi",
		    "docker.io/acme/dhi-python:3.13-debian12-dev", NULL);
	expect_rule("docker.io/acme/dhi-python:3.13", NULL, "dhi",
		    "docker.io/acme/dhi-python:3.13-dev", NULL);
}

static void test_ref_toolbox_rule_chainguard(void **state)
{
	expect_rule("cgr.dev/chainguard/python:latest", NULL, "chainguard",
		    "cgr.dev/chainguard/python:latest-dev", NULL);
	expect_rule("cgr.dev/chainguard/python:latest-dev", NULL, "chainguard",
		    "cgr.dev/chainguard/python:latest-dev", NULL);
	/* a 125-character tag: its `-dev` would be 129, no valid reference (found by fuzz_toolbox) */
	{
		char ref[160];

		snprintf(ref, sizeof(ref), "cgr.dev/7:%0125d", 0);
		expect_no_rule(ref, "gives no valid toolbox tag");
	}
}

static void test_ref_toolbox_rule_distroless(void **state)
{
	expect_rule("gcr.io/distroless/static-debian12", NULL, "distroless",
		    "gcr.io/distroless/static-debian12:debug", NULL);
	expect_rule("gcr.io/distroless/base:nonroot", NULL, "distroless",
		    "gcr.io/distroless/base:debug-nonroot", NULL);
}

static void test_ref_toolbox_rule_default_and_none(void **state)
{
	expect_rule("nginx:1.27", "127.0.0.1:5000/tools:1", "default", "127.0.0.1:5000/tools:1",
		    NULL);
	/* a DHI name with a tag outside the grammar is not guessed at */
	expect_rule("dhi.io/python:latest", "busybox", "default", "docker.io/library/busybox:latest",
		    NULL);
	expect_no_rule("nginx:1.27", "no toolbox rule matches");
	{
		/* a path is a directory, as --toolbox takes one */
		static const char *const dirs[] = { "/opt/toolbox", "./rootfs", NULL };

		for (int i = 0; dirs[i]; i++) {
			struct tb_ref in;
			struct tb_rule out;
			struct dhi_err *err = NULL;

			assert_int_equal(ref_parse("nginx:1.27", &in, &err), 0);
			assert_int_equal(ref_toolbox_rule(&in, dirs[i], &out, &err), 0);
			assert_string_equal(out.name, "default");
			assert_int_equal(out.n, 0);
			assert_string_equal(out.dir, dirs[i]);
			ref_rule_free(&out);
			ref_free(&in);
		}
	}
	/* digest only: says what to pass */
	expect_no_rule("dhi.io/python@sha256:" D64, "pinned by digest only");
	expect_no_rule("dhi.io/python@sha256:" D64, "--toolbox dhi.io/python:<version>-dev");
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
		cmocka_unit_test(test_ref_dhi_tag_grammar),
		cmocka_unit_test(test_ref_toolbox_rule_dhi),
		cmocka_unit_test(test_ref_toolbox_rule_dhi_dev_is_its_own),
		cmocka_unit_test(test_ref_toolbox_rule_docker_hub_mirror),
		cmocka_unit_test(test_ref_toolbox_rule_chainguard),
		cmocka_unit_test(test_ref_toolbox_rule_distroless),
		cmocka_unit_test(test_ref_toolbox_rule_default_and_none),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

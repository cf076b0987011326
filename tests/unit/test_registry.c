// SPDX-License-Identifier: Apache-2.0
/* test_registry.c - manifest parsing with hostile input, and the streaming digest. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "toolbox/layer.h"
#include "toolbox/registry.h"

#define D1 "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static int parse(const char *s, struct reg_manifest *m, const char *want_err)
{
	struct dhi_err *err = NULL;
	int r;

	memset(m, 0, sizeof(*m));
	r = reg_manifest_parse(s, strlen(s), m, &err);
	if (want_err) {
		assert_int_equal(r, -1);
		if (!strstr(err->msg, want_err))
			fail_msg("`%s` lacks `%s`", err->msg, want_err);
		dhi_err_clear(&err);
	}
	reg_manifest_free(m);
	return r;
}

static void test_reg_manifest_parse_oci(void **state)
{
	struct reg_manifest m = { 0 };
	struct dhi_err *err = NULL;
	const char *s = "{\"schemaVersion\":2,\"config\":{\"digest\":\"" D1 "\"},"
			"\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+zstd\","
			"\"digest\":\"" D1 "\",\"size\":12}]}";

	assert_int_equal(reg_manifest_parse(s, strlen(s), &m, &err), 0);
	assert_string_equal(m.config_digest, D1);
	assert_int_equal(m.nlayers, 1);
	assert_int_equal(m.layers[0].size, 12);
	reg_manifest_free(&m);
}

static void test_reg_manifest_parse_rejects_hostile(void **state)
{
	struct reg_manifest m;

	parse("[]", &m, "not a JSON object");
	parse("{\"schemaVersion\":1}", &m, "schemaVersion");
	parse("{\"schemaVersion\":2}", &m, "no config or layers");
	parse("{\"schemaVersion\":2,\"config\":{\"digest\":\"sha256:12\"},\"layers\":[]}", &m,
	      "config has no valid");
	parse("{\"schemaVersion\":2,\"config\":{\"digest\":\"" D1 "\"},\"layers\":[{\"mediaType\":"
	      "\"application/x-evil\",\"digest\":\"" D1 "\",\"size\":1}]}",
	      &m, "unsupported media type");
	parse("{\"schemaVersion\":2,\"config\":{\"digest\":\"" D1 "\"},\"layers\":[{\"mediaType\":"
	      "\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"../../x\",\"size\":1}]}",
	      &m, "no valid sha256");
	parse("{\"schemaVersion\":2,\"config\":{\"digest\":\"" D1 "\"},\"layers\":[{\"mediaType\":"
	      "\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"" D1 "\",\"size\":-5}]}",
	      &m, "no valid size");
	parse("{\"schemaVersion\":2,\"schemaVersion\":2}", &m, "not a JSON object");
}

static void test_reg_manifest_parse_too_many_layers(void **state)
{
	struct reg_manifest m;
	size_t cap = 600 * 160 + 200, n = 0;
	char *s = malloc(cap);

	n += (size_t)sprintf(s, "{\"schemaVersion\":2,\"config\":{\"digest\":\"" D1 "\"},\"layers\":[");
	for (int i = 0; i < 600; i++)
		n += (size_t)sprintf(s + n, "%s{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\","
				     "\"digest\":\"" D1 "\",\"size\":1}", i ? "," : "");
	sprintf(s + n, "]}");
	parse(s, &m, "at most 512");
	free(s);
}

static void test_layer_sha256_known(void **state)
{
	char *d = layer_sha256("abc", 3);

	assert_string_equal(d, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reg_manifest_parse_oci),
		cmocka_unit_test(test_reg_manifest_parse_rejects_hostile),
		cmocka_unit_test(test_reg_manifest_parse_too_many_layers),
		cmocka_unit_test(test_layer_sha256_known),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: Apache-2.0
/* test_kube.c - kubectl-dhidebug's kubeconfig parsing and Status messages, hostile input too. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "injector/kubectl/kube.h"

static int parse(const char *json, struct kube_conn *c, struct dhi_err **err)
{
	return kube_conn_parse(json, strlen(json), c, err);
}

/* "-----BEGIN X-----\n" in base64 is what kubeconfigs hold */
#define PEM_B64 "LS0tLS1CRUdJTiBYLS0tLS0K"

static void test_kube_conn_parse_token_and_ca_data(void **state)
{
	struct kube_conn c;
	struct dhi_err *err = NULL;

	assert_int_equal(parse("{\"clusters\":[{\"name\":\"a\",\"cluster\":{\"server\":"
			       "\"https://10.0.0.1:6443/\",\"certificate-authority-data\":\"" PEM_B64
			       "\"}}],\"users\":[{\"name\":\"u\",\"user\":{\"token\":\"abc\"}}],"
			       "\"contexts\":[{\"name\":\"x\",\"context\":{\"namespace\":\"shop\"}}]}",
			       &c, &err), 0);
	assert_null(err);
	assert_string_equal(c.server, "https://10.0.0.1:6443");
	assert_string_equal(c.namespace, "shop");
	assert_string_equal(c.token, "abc");
	assert_int_equal(c.ca_len, strlen("-----BEGIN X-----\n"));
	assert_memory_equal(c.ca_pem, "-----BEGIN X-----\n", c.ca_len);
	assert_null(c.cert_pem);
	assert_false(c.insecure);
	kube_conn_free(&c);
}

static void test_kube_conn_parse_client_cert_and_default_namespace(void **state)
{
	struct kube_conn c;
	struct dhi_err *err = NULL;

	assert_int_equal(parse("{\"clusters\":[{\"cluster\":{\"server\":\"https://k\","
			       "\"insecure-skip-tls-verify\":true}}],\"users\":[{\"user\":{"
			       "\"client-certificate-data\":\"" PEM_B64 "\",\"client-key-data\":\""
			       PEM_B64 "\"}}],\"contexts\":[{\"context\":{}}]}", &c, &err), 0);
	assert_string_equal(c.namespace, "default");
	assert_true(c.insecure);
	assert_non_null(c.cert_pem);
	assert_non_null(c.key_pem);
	assert_null(c.token);
	kube_conn_free(&c);
}

static void test_kube_conn_parse_refuses_exec_plugins(void **state)
{
	struct kube_conn c;
	struct dhi_err *err = NULL;

	assert_int_equal(parse("{\"clusters\":[{\"cluster\":{\"server\":\"https://k\"}}],"
			       "\"users\":[{\"user\":{\"exec\":{\"command\":\"aws\"}}}]}", &c, &err),
			 -1);
	assert_non_null(strstr(err->msg, "exec credential plugin"));
	dhi_err_clear(&err);
	assert_null(c.server);
}

static void test_kube_conn_parse_hostile(void **state)
{
	static const char *const bad[] = {
		"", "null", "[]", "{\"clusters\":{}}", "{\"clusters\":[{\"cluster\":{\"server\":7}}]}",
		"{\"clusters\":[{\"cluster\":{\"server\":\"\"}}]}",
		"{\"clusters\":[{\"cluster\":{\"server\":\"https://k\","
		"\"certificate-authority-data\":\"***not base64***\"}}]}",
		NULL,
	};
	struct kube_conn c;
	struct dhi_err *err = NULL;

	for (const char *const *b = bad; *b; b++) {
		assert_int_equal(parse(*b, &c, &err), -1);
		assert_non_null(err);
		dhi_err_clear(&err);
	}
}

static void test_kube_status_message(void **state)
{
	char *m = kube_status_message("{\"kind\":\"Status\",\"message\":\"pods \\\"x\\\" is forbidden\"}");

	assert_string_equal(m, "pods \"x\" is forbidden");
	free(m);
	m = kube_status_message("<html>bad gateway</html>");
	assert_string_equal(m, "<html>bad gateway</html>");
	free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kube_conn_parse_token_and_ca_data),
		cmocka_unit_test(test_kube_conn_parse_client_cert_and_default_namespace),
		cmocka_unit_test(test_kube_conn_parse_refuses_exec_plugins),
		cmocka_unit_test(test_kube_conn_parse_hostile),
		cmocka_unit_test(test_kube_status_message),
	};

	return cmocka_run_group_tests_name("kube", tests, NULL, NULL);
}

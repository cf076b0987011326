// SPDX-License-Identifier: Apache-2.0
/* test_portfwd.c - port-forward specs and the `port-forward` command line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "injector/cmd/cmd.h"
#include "injector/portfwd.h"

#define ARGV(...) ((char *[]){ "dhidebug", __VA_ARGS__, NULL })

static void expect_spec(const char *s, const char *addr, unsigned lport, unsigned rport)
{
	struct portfwd_spec p;
	struct dhi_err *err = NULL;
	char buf[INET_ADDRSTRLEN];

	assert_int_equal(portfwd_parse(s, &p, &err), 0);
	assert_null(err);
	assert_non_null(inet_ntop(AF_INET, &p.local_addr, buf, sizeof(buf)));
	assert_string_equal(buf, addr);
	assert_int_equal(p.local_port, lport);
	assert_int_equal(p.remote_port, rport);
}

static void expect_bad(const char *s)
{
	struct portfwd_spec p;
	struct dhi_err *err = NULL;

	assert_int_equal(portfwd_parse(s, &p, &err), -1);
	assert_non_null(err);
	assert_non_null(strstr(err->msg, "invalid"));
	dhi_err_clear(&err);
}

static void test_portfwd_parse_forms(void **state)
{
	expect_spec("8080:80", "127.0.0.1", 8080, 80);
	expect_spec("0:5432", "127.0.0.1", 0, 5432);
	expect_spec("65535:65535", "127.0.0.1", 65535, 65535);
	expect_spec("0.0.0.0:8080:80", "0.0.0.0", 8080, 80);
	expect_spec("localhost:1:2", "127.0.0.1", 1, 2);
	expect_spec("10.1.2.3:00080:080", "10.1.2.3", 80, 80);
}

static void test_portfwd_parse_bad(void **state)
{
	const char *bad[] = { "",	 "80",	      ":80",	   "80:",	"a:80",	  "80:b",
			      "1:0",	 "1:65536",   "65536:1",   "1:-1",	"1:+1",	  "1.2.3:1:2",
			      "x:y:z:w", "1:2:3:4",   "::1:80:80", "1: 2",	"123456:1", NULL };

	for (int i = 0; bad[i]; i++)
		expect_bad(bad[i]);
}

static void test_cli_parse_port_forward(void **state)
{
	char **a = ARGV("-q", "port-forward", "runc://web", "8080:80", "9090:90");
	char **b = ARGV("port-forward", "runc://web");
	char **c = ARGV("--json", "port-forward", "runc://web", "1:2");
	struct dhi_err *err = NULL;
	struct portfwd_opts o;

	assert_int_equal(cmd_port_forward_parse(6, a, &o, &err), 0);
	assert_string_equal(o.target, "runc://web");
	assert_true(o.quiet);
	assert_string_equal(o.specs[0], "8080:80");
	assert_string_equal(o.specs[1], "9090:90");
	assert_null(o.specs[2]);

	assert_int_equal(cmd_port_forward_parse(3, b, &o, &err), -1);
	assert_non_null(strstr(err->msg, "usage: dhidebug port-forward"));
	dhi_err_clear(&err);
	assert_int_equal(cmd_port_forward_parse(5, c, &o, &err), -1);
	assert_non_null(strstr(err->msg, "--json"));
	dhi_err_clear(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_portfwd_parse_forms),
		cmocka_unit_test(test_portfwd_parse_bad),
		cmocka_unit_test(test_cli_parse_port_forward),
	};

	return cmocka_run_group_tests_name("portfwd", tests, NULL, NULL);
}

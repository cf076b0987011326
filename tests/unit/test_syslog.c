// SPDX-License-Identifier: Apache-2.0
/* test_syslog.c - the syslog collector: its policy object and its messages (RFC 5424 in
 * RFC 6587's octet-counted frames). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcntl.h>
#include <unistd.h>

#include "injector/record/sessions.h"
#include "injector/record/ship.h"
#include "testutil.h"

static int parse(const char *json, struct collector *c, char **why)
{
	json_t *v = json_loads(json, 0, NULL);
	struct dhi_err *err = NULL;
	int rc;

	assert_non_null(v);
	rc = ship_parse_collector(v, c, &err);
	json_decref(v);
	*why = rc < 0 ? dhi_err_string(err) : NULL;
	dhi_err_clear(&err);
	return rc;
}

static void test_syslog_collector_parse(void **state)
{
	struct collector c;
	char *why;

	(void)state;
	assert_int_equal(parse("{\"kind\": \"syslog\", \"host\": \"logs.example\", \"ca\": \"/ca.pem\"}",
			       &c, &why), 0);
	assert_int_equal(c.kind, COLLECTOR_SYSLOG);
	assert_int_equal(c.port, 6514);
	assert_string_equal(c.url, "syslog://logs.example:6514");
	assert_null(c.cert);
	ship_collector_free(&c);
	assert_int_equal(parse("{\"kind\": \"syslog\", \"host\": \"::1\", \"port\": 1514, \"ca\": \"/c\","
			       " \"cert\": \"/crt\", \"key\": \"/k\"}", &c, &why), 0);
	assert_string_equal(c.url, "syslog://[::1]:1514");
	assert_string_equal(c.cert, "/crt");
	assert_string_equal(c.key, "/k");
	ship_collector_free(&c);
	/* http stays the default */
	assert_int_equal(parse("{\"url\": \"https://a/\"}", &c, &why), 0);
	assert_int_equal(c.kind, COLLECTOR_HTTP);
	ship_collector_free(&c);
	assert_int_equal(parse("{\"kind\": \"http\", \"url\": \"https://a/\"}", &c, &why), 0);
	ship_collector_free(&c);
}

static void test_syslog_collector_parse_refuses(void **state)
{
	static const char *const bad[] = {
		"{\"kind\": \"syslog\", \"host\": \"h\"}",				/* no ca */
		"{\"kind\": \"syslog\", \"ca\": \"/c\"}",				/* no host */
		"{\"kind\": \"syslog\", \"host\": \"h\", \"ca\": \"c\"}",		/* relative */
		"{\"kind\": \"syslog\", \"host\": \"h\", \"ca\": \"/c\", \"cert\": \"/x\"}", /* no key */
		"{\"kind\": \"syslog\", \"host\": \"h\", \"ca\": \"/c\", \"port\": 70000}",
		"{\"kind\": \"syslog\", \"host\": \"h/x\", \"ca\": \"/c\"}",
		"{\"kind\": \"syslog\", \"host\": \"h\", \"ca\": \"/c\", \"url\": \"https://a/\"}",
		"{\"kind\": \"syslog\", \"host\": \"h\", \"ca\": \"/c\", \"headers\": {}}",
		"{\"kind\": \"smtp\", \"url\": \"https://a/\"}",
		"{\"kind\": 1, \"url\": \"https://a/\"}",
		"{\"url\": \"https://a/\", \"cert\": \"/x\"}",
		NULL,
	};

	(void)state;
	for (int i = 0; bad[i]; i++) {
		struct collector c;
		char *why = NULL;

		if (parse(bad[i], &c, &why) == 0)
			fail_msg("taken: %s", bad[i]);
		assert_non_null(strstr(why, "collector"));
		free(why);
		ship_collector_free(&c);
	}
}

static void test_syslog_frame(void **state)
{
	const char *rec = "{\"seq\":7,\"time\":\"2026-05-28T10:11:12.345678Z\",\"type\":\"exec\","
			  "\"argv\":[\"a]\\\"b\"]}";
	size_t len;
	char *f;
	char want[512];
	int n;

	(void)state;
	f = syslog_frame("20260528T101112Z-1a2b3c4d", 7, rec, "web-01", &len);
	n = snprintf(want, sizeof(want),
		     "<86>1 2026-05-28T10:11:12.345678Z web-01 dhidebug - exec "
		     "[dhidebug@32473 session=\"20260528T101112Z-1a2b3c4d\" seq=\"7\"] %s", rec);
	/* octet-counted: the length of the message, a space, the message, no newline */
	assert_int_equal(strtol(f, NULL, 10), n);
	assert_string_equal(strchr(f, ' ') + 1, want);
	assert_int_equal(len, strlen(f));
	free(f);
}

static void test_syslog_frame_fields(void **state)
{
	size_t len;
	char *f;

	(void)state;
	/* no time or type, a host with a space and an id with a quote: NILVALUE and replacements */
	f = syslog_frame("x\"y", 0, "{\"seq\":0}", "my host", &len);
	assert_string_equal(strchr(f, ' ') + 1,
			    "<86>1 - my_host dhidebug - - [dhidebug@32473 session=\"x_y\" seq=\"0\"] "
			    "{\"seq\":0}");
	free(f);
	/* a MSGID has at most 32 characters; a time that is not RFC 3339 is left out */
	f = syslog_frame("s", 1,
			 "{\"time\":\"yesterday\",\"type\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
			 "", &len);
	assert_non_null(strstr(f, "<86>1 - - dhidebug - aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa [dhidebug@32473"));
	free(f);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* verify --against: what it says of the host's two records and the file `copy` */
static char *against(const char *copy)
{
	static const char *const recs =
		"{\"seq\":0,\"type\":\"session.start\",\"session\":\"S\"}\n"
		"{\"seq\":1,\"type\":\"line\",\"text\":\"ls ]\\\"\"}\n";
	char dir[] = "/tmp/test_syslog.XXXXXX", path[64], *out = NULL;
	size_t outlen = 0;
	struct dhi_err *err = NULL;
	FILE *f = open_memstream(&out, &outlen);
	int fd;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/audit.jsonl", dir);
	write_file(path, recs);
	snprintf(path, sizeof(path), "%s/copy", dir);
	write_file(path, copy);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(sessions_against_at(fd, "S", path, f, &err) >= 0);
	close(fd);
	fclose(f);
	testutil_rmtree(dir);
	return out;
}

static void test_syslog_against(void **state)
{
	char *out;
	size_t len;
	char *m0 = syslog_frame("S", 0, "{\"seq\":0,\"type\":\"session.start\",\"session\":\"S\"}",
				"h", &len);
	char *m1 = syslog_frame("S", 1, "{\"seq\":1,\"type\":\"line\",\"text\":\"ls ]\\\"\"}", "h",
				&len);
	char copy[2048];

	(void)state;
	/* rsyslog's %rawmsg% (the frames' messages), another session's and a stranger's lines
	 * between, a copy sent again */
	snprintf(copy, sizeof(copy), "%s\nnot syslog\n%s\n%s\n", strchr(m0, ' ') + 1,
		 "<86>1 - h dhidebug - line [dhidebug@32473 session=\"T\" seq=\"1\"] {\"seq\":1}",
		 strchr(m1, ' ') + 1);
	strcat(copy, strchr(m1, ' ') + 1);
	strcat(copy, "\n");
	out = against(copy);
	assert_non_null(strstr(out, "S: matches the copy"));
	assert_non_null(strstr(out, ": 2 records, seq 0 to 1"));
	free(out);
	/* re-written by a relay: a prefix, another SD element after ours, a BOM before MSG */
	out = against("2026-05-28 relay <86>1 - h dhidebug - session.start "
		      "[dhidebug@32473 session=\"S\" seq=\"0\"][origin ip=\"1.2.3.4\" x=\"a\\]b\"] "
		      "\xef\xbb\xbf{\"seq\":0,\"type\":\"session.start\",\"session\":\"S\"}\n"
		      "<86>1 - h dhidebug - line [dhidebug@32473 seq=\"1\" session=\"S\"] "
		      "{\"seq\":1,\"type\":\"line\",\"text\":\"ls\"}\n");

	assert_non_null(strstr(out, "seq 1 (line): changed: `text` is not the same"));
	free(out);
	/* a message whose seq is not its record's is not a record of that seq */
	out = against("<86>1 - h dhidebug - x [dhidebug@32473 session=\"S\" seq=\"1\"] "
		      "{\"seq\":0,\"type\":\"session.start\",\"session\":\"S\"}\n");
	assert_non_null(strstr(out, "seq 0 (session.start): on the host, not in the copy"));
	free(out);
	free(m0);
	free(m1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_syslog_collector_parse),
		cmocka_unit_test(test_syslog_collector_parse_refuses),
		cmocka_unit_test(test_syslog_frame),
		cmocka_unit_test(test_syslog_frame_fields),
		cmocka_unit_test(test_syslog_against),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: Apache-2.0
/* test_cli.c - command-line parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "injector/cli.h"

#define ARGV(...) ((char *[]){ "dhidebug", __VA_ARGS__, NULL })

static int parse(char **argv, struct cli *c, char **msg)
{
	struct dhi_err *err = NULL;
	int argc = 0, r;

	while (argv[argc])
		argc++;
	r = cli_parse(argc, argv, c, &err);

	*msg = NULL;
	if (err) {
		*msg = strdup(err->msg);
		dhi_err_clear(&err);
	}
	return r;
}

static void test_cli_parse_program_after_dashdash(void **state)
{
	char **a = ARGV("runc://app", "--toolbox", "/tb", "--", "cat", "-n", "/proc/1/cmdline");
	struct cli c;
	char *msg;

	assert_int_equal(parse(a, &c, &msg), 0);
	assert_string_equal(c.target, "runc://app");
	assert_string_equal(c.toolbox, "/tb");
	assert_string_equal(c.argv[0], "cat");
	assert_string_equal(c.argv[1], "-n");
	assert_true(c.join_cgroup);
	assert_int_equal(c.view, VIEW_AUTO);
}

static void test_cli_parse_command_and_options(void **state)
{
	char **a = ARGV("-q", "--view=toolbox", "--no-cgroup", "-c", "ps | wc -l", "pid://1");
	struct cli c;
	char *msg;

	assert_int_equal(parse(a, &c, &msg), 0);
	assert_string_equal(c.command, "ps | wc -l");
	assert_string_equal(c.target, "pid://1");
	assert_null(c.argv);
	assert_true(c.quiet);
	assert_false(c.join_cgroup);
	assert_int_equal(c.view, VIEW_TOOLBOX);
}

static void test_cli_parse_bad_view(void **state)
{
	char **a = ARGV("--view", "both", "pid://1");
	struct cli c;
	char *msg;

	assert_int_equal(parse(a, &c, &msg), -1);
	assert_non_null(strstr(msg, "`both`"));
	free(msg);
}

static void test_cli_parse_unknown_option(void **state)
{
	char **a = ARGV("--frobnicate", "pid://1");
	struct cli c;
	char *msg;

	assert_int_equal(parse(a, &c, &msg), -1);
	assert_non_null(strstr(msg, "--frobnicate"));
	free(msg);
}

static void test_cli_parse_missing_target_and_value(void **state)
{
	char **a = ARGV("--toolbox");
	char **b = ARGV("-q");
	struct cli c;
	char *msg;

	assert_int_equal(parse(a, &c, &msg), -1);
	assert_non_null(strstr(msg, "needs a value"));
	free(msg);
	assert_int_equal(parse(b, &c, &msg), -1);
	assert_non_null(strstr(msg, "no target"));
	free(msg);
}

static void test_cli_parse_command_with_program(void **state)
{
	char **a = ARGV("-c", "ls", "pid://1", "--", "ls");
	struct cli c;
	char *msg;

	assert_int_equal(parse(a, &c, &msg), -1);
	assert_non_null(strstr(msg, "-c cannot be combined"));
	free(msg);
}

static void test_cli_parse_help_and_version(void **state)
{
	char **a = ARGV("--help");
	char **b = ARGV("--version");
	struct cli c;
	char *msg;

	assert_int_equal(parse(a, &c, &msg), 0);
	assert_int_equal(c.cmd, CLI_HELP);
	assert_int_equal(parse(b, &c, &msg), 0);
	assert_int_equal(c.cmd, CLI_VERSION);
}

static void test_cli_parse_pull_limits(void **state)
{
	struct cli c;
	char *msg;

	(void)state;
	assert_int_equal(parse(ARGV("--max-unpacked", "512M", "--pull-timeout", "30", "toolbox",
				    "pull", "r/x:1"), &c, &msg), 0);
	assert_int_equal(c.max_unpacked, 512ULL << 20);
	assert_int_equal(c.pull_timeout, 30);
	assert_int_equal(parse(ARGV("--max-unpacked=4096", "pid://1"), &c, &msg), 0);
	assert_int_equal(c.max_unpacked, 4096);
	assert_int_equal(parse(ARGV("--max-unpacked=2T", "pid://1"), &c, &msg), 0);
	assert_int_equal(c.max_unpacked, 2ULL << 40);
	for (int i = 0; i < 5; i++) {
		const char *bad[] = { "0", "12X", "G", "-1", "99999999999999999999" };

		assert_int_equal(parse(ARGV("--max-unpacked", (char *)bad[i], "pid://1"), &c, &msg),
				 -1);
		assert_non_null(strstr(msg, "invalid --max-unpacked"));
		free(msg);
	}
	assert_int_equal(parse(ARGV("--pull-timeout=0", "pid://1"), &c, &msg), -1);
	assert_non_null(strstr(msg, "invalid --pull-timeout"));
	free(msg);
}

static void test_cli_near_subcommand(void **state)
{
	(void)state;
	assert_string_equal(cli_near_subcommand("sesions"), "sessions");
	assert_string_equal(cli_near_subcommand("sessons"), "sessions");
	assert_string_equal(cli_near_subcommand("lnt"), "lint");
	assert_string_equal(cli_near_subcommand("tolbox"), "toolbox");
	assert_string_equal(cli_near_subcommand("port-foward"), "port-forward");
	assert_string_equal(cli_near_subcommand("replya"), "replay");
	/* the subcommands themselves, names far from all, and `ls`, which is too short to guess */
	assert_null(cli_near_subcommand("sessions"));
	assert_null(cli_near_subcommand("web"));
	assert_null(cli_near_subcommand("db"));
	assert_null(cli_near_subcommand("lx"));
	assert_null(cli_near_subcommand("li"));
	assert_null(cli_near_subcommand("a-very-long-container-name-indeed"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cli_parse_pull_limits),
		cmocka_unit_test(test_cli_parse_program_after_dashdash),
		cmocka_unit_test(test_cli_parse_command_and_options),
		cmocka_unit_test(test_cli_parse_bad_view),
		cmocka_unit_test(test_cli_parse_unknown_option),
		cmocka_unit_test(test_cli_parse_missing_target_and_value),
		cmocka_unit_test(test_cli_parse_command_with_program),
		cmocka_unit_test(test_cli_parse_help_and_version),
		cmocka_unit_test(test_cli_near_subcommand),
	};

	return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}

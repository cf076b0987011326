// SPDX-License-Identifier: Apache-2.0
/* help.c - `dhidebug help [<subcommand>]`: the subcommands, or one's usage (injector/cli.c). */
#include <getopt.h>
#include <stdio.h>

#include "injector/cli.h"
#include "injector/cmd/cmd.h"

int cmd_help(int argc, char **argv)
{
	static const int none[] = { 0 };
	const struct cli_subcommand *sub;
	struct dhi_err *err = NULL;
	int c;

	optind = 0;
	if ((c = cmd_parse(argc, argv, "help", none, NULL, NULL, NULL, &err)) != 0)
		return c < 0 ? cmd_fail(err) : 0;
	/* argv[optind] is `help` */
	if (argc - optind > 2) {
		dhi_err_set(&err, 0, "usage: dhidebug help [<subcommand>]");
		return cmd_fail(err);
	}
	if (argc - optind < 2) {
		cli_usage_list(stdout);
		return 0;
	}
	if (!cli_subcommand_find(argv[optind + 1])) {
		dhi_err_set(&err, 0, "no subcommand `%s` (see `dhidebug help`)", argv[optind + 1]);
		cli_hint_subcommand(argv[optind + 1], &err);
		return cmd_fail(err);
	}
	sub = cli_subcommand_find(argv[optind + 1]);
	/* the same text as `dhidebug <subcommand> --help` */
	return sub->run(3, (char *[]){ argv[0], (char *)sub->name, "--help", NULL });
}

// SPDX-License-Identifier: Apache-2.0
/*
 * main.c - dhidebug: the subcommand the command line names runs (the table
 * is injector/cli.c's: name, front, usage; each front is injector/cmd/<name>.c),
 * else a session is attached to the target (injector/cmd/attach.c).
 */
#include <string.h>

#include "injector/cli.h"
#include "injector/handoff.h"

int main(int argc, char **argv)
{
	const struct cli_subcommand *sub;

	/* dhish, in the sealed copy of ourselves that a session runs (injector/handoff.h) */
	if (argc == 2 && strcmp(argv[1], HANDOFF_ARG) == 0)
		return handoff_main();
	sub = cli_subcommand_of(argc, argv);
	return sub ? sub->run(argc, argv) : cmd_attach(argc, argv);
}

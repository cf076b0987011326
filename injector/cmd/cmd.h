/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd.h - what the subcommands' fronts (injector/cmd/<name>.c) share: the
 * error printed once, the site policy and delegation checked before anything
 * runs. Each front parses its own options (cli_getopt), then composes the
 * library modules it needs; its entry is declared in injector/cli.h.
 */
#ifndef INJ_CMD_H
#define INJ_CMD_H

#include <stdbool.h>

#include "common/err.h"
#include "injector/delegate.h"
#include "injector/policy/policy.h"
#include "injector/runtime/runtime.h"
#include "injector/toolbox_cmd.h"

/* Prints `err` once ("dhidebug: ..."), frees it, and returns its exit status (125 for most). */
int cmd_fail(struct dhi_err *err);

/* The site's policy and whether this is a delegated run. */
struct cmd_site {
	struct policy site;
	struct delegate d;
};

/*
 * Loads the site policy first: in delegated mode (sudo) it is the boundary
 * of every option, and `ask` is checked against it before anything runs.
 * Returns 0, or the exit status once the error is printed (and a refusal
 * recorded).
 */
int cmd_site_open(struct cmd_site *s, const struct delegate_ask *ask);

/* A refusal: recorded in delegated mode (injector/delegate.h), then printed; its exit status. */
int cmd_refuse(const struct cmd_site *s, const struct delegate_ask *ask, struct dhi_err *err);

/*
 * The policy the command works under: `file` (--policy; a delegated
 * operator's only when the site lists it, which cmd_site_open checked) or
 * the site's, in *pol (`other` holds the one loaded). --allow-host
 * (`allow_host`) against a policy that forbids the host is refused. Returns
 * 0 or the exit status once the error is printed.
 */
int cmd_policy(const struct cmd_site *s, const struct delegate_ask *ask, const char *file,
	       bool allow_host, struct policy *other, const struct policy **pol);

/*
 * A front's option loop: cli_getopt() over argv with `accept` and `refuse`, each option
 * handed to `opt` (its options struct `o`; 0, or -1 with *err for a bad
 * value). --help prints the subcommand's usage (cmd_help_of()) and returns
 * 1, for an exit status 0; else 0 once every option is taken, the words left
 * at argv[optind...] (the subcommand's name first), or -1 with *err.
 */
typedef int cmd_opt_fn(int c, void *o, struct dhi_err **err);
int cmd_parse(int argc, char **argv, const char *name, const int *accept, const int *refuse,
	      cmd_opt_fn *opt, void *o, struct dhi_err **err);

/*
 * The options several fronts take, for their getopt loops: the runtimes'
 * roots into `ro`, the toolbox cache's options into `ta` (--policy too).
 * Return 1 when `c` was one (optarg taken), 0 when not, -1 with *err for a
 * bad value.
 */
int cmd_opt_roots(int c, struct rt_opts *ro);
int cmd_opt_cache(int c, struct toolbox_args *ta, struct dhi_err **err);

/* --- the parsers that unit tests check (tests/unit/test_portfwd.c, test_sessions.c) --- */

/* `dhidebug port-forward <target> <spec>...` */
struct portfwd_opts {
	const char *target;	/* TARGET */
	char **specs;		/* [ADDR:]LOCAL:REMOTE..., NULL-terminated (argv's) */
	struct rt_opts ro;	/* --runtime-root, --containerd-root, --crio-root */
	const char *policy;	/* --policy FILE */
	bool allow_host;	/* --allow-host */
	bool quiet;		/* -q */
};

/* Parses port-forward's argv (the whole of it) as cmd_parse() does. */
int cmd_port_forward_parse(int argc, char **argv, struct portfwd_opts *o, struct dhi_err **err);

/*
 * Parses `sessions VERB ...` or `replay ...` (argv[0] the subcommand's name);
 * 1 for --help, 0, or -1 with *err.
 */
int cmd_sessions_parse(int argc, char **argv, struct sessions_opts *o, struct dhi_err **err);

/*
 * `dhidebug <name> --help`: prints that subcommand's usage on stdout, then
 * the options it takes (`accept`, as for cli_getopt(); NULL when its
 * synopsis has them all); 0.
 */
int cmd_help_of(const char *name, const int *accept);

#endif

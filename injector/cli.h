/* SPDX-License-Identifier: Apache-2.0 */
/* cli.h - the command line: options, usage, and what to do. */
#ifndef INJ_CLI_H
#define INJ_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "common/err.h"
#include "injector/record/sessions.h"
#include "nsenter/view.h"

enum cli_cmd {
	CLI_ATTACH,
	CLI_HELP,
	CLI_VERSION,
	CLI_PROFILES,	/* dhidebug profiles [--json] */
	CLI_LS,		/* dhidebug ls [--json] */
	CLI_SESSIONS,	/* dhidebug sessions …, dhidebug replay … (see `sessions`) */
	CLI_TOOLBOX,	/* dhidebug toolbox pull|ls|rm|prune|import|rule ... (argv) */
	CLI_PORT_FORWARD, /* dhidebug port-forward TARGET SPEC... (target, argv: the specs) */
	CLI_LINT,	/* dhidebug lint TARGET|image://REF [--json] */
};

struct cli {
	enum cli_cmd cmd;
	const char *target;		/* TARGET */
	const char *toolbox;		/* --toolbox: a directory, reference or digest */
	const char *toolbox_cache;	/* --toolbox-cache DIR */
	const char *default_toolbox;	/* --default-toolbox REF: when no rule matches */
	const char *insecure_registry;	/* --insecure-registry HOST[:PORT],... */
	unsigned long long max_unpacked; /* --max-unpacked SIZE in bytes; 0: not given */
	long pull_timeout;		/* --pull-timeout SECONDS; 0: not given */
	enum view_mode view;		/* --view */
	const char *runtime_root;	/* --runtime-root */
	const char *containerd_root;	/* --containerd-root */
	const char *crio_root;		/* --crio-root */
	bool join_cgroup;		/* not --no-cgroup */
	bool quiet;			/* -q */
	const char *command;		/* -c LINE */
	const char *profile;		/* --profile, NULL for the policy's default */
	const char *user;		/* --user UID[:GID]|target, NULL for root */
	const char *policy;		/* --policy FILE */
	bool json;			/* profiles --json, ls --json */
	bool no_record;			/* --no-record */
	bool allow_host;		/* --allow-host: the target may be the host itself */
	bool write;			/* --write: a stopped container's session writes to it */
	const char *net;		/* --net none|host (stopped containers, images); NULL: none */
	const char *sessions_dir;	/* --sessions-dir */
	bool dry_run;			/* toolbox prune --dry-run */
	const char *name;		/* toolbox import --name REF */
	char **argv;			/* PROGRAM ARG…, NULL for a shell */
	struct sessions_opts sessions;	/* CLI_SESSIONS: the reviewing command */
};

/*
 * Parses argv. Options may come before or after TARGET; everything after
 * `--` (or after the first word following TARGET) is the program and its
 * arguments. Bad input is an error naming the argument.
 */
int cli_parse(int argc, char **argv, struct cli *out, struct dhi_err **err);

/* The -c line, or the program and its arguments joined by spaces; NULL for a shell. */
char *cli_command_text(const struct cli *cli);

/*
 * The subcommand `word` is probably a typo of (`sesions` → "sessions"): one
 * within 2 edits (1 for a name of 3 or 4 letters, none for `ls`), or NULL.
 */
const char *cli_near_subcommand(const char *word);

/*
 * When `target` did not resolve and reads like a mistyped subcommand, adds
 * "; did you mean `<subcommand>`?" to *err (an error without an errno).
 */
void cli_hint_subcommand(const char *target, struct dhi_err **err);

/* Prints the usage text (docs/dhidebug.1.md says the same). */
void cli_usage(FILE *f);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli.h - the command line: the subcommands' table (their fronts are in
 * injector/cmd/, one file each), the options every front draws from, and the
 * attach command's own options.
 */
#ifndef INJ_CLI_H
#define INJ_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "common/err.h"
#include "nsenter/view.h"

/* --- the subcommands --- */

struct cli_subcommand {
	const char *name;		/* the word after the options: `dhidebug ls` */
	int (*run)(int argc, char **argv); /* its front: the whole argv; the exit status */
	const char *summary;		/* one line, for `dhidebug help` */
	const char *synopsis;		/* its usage lines, "dhidebug ls [--json]\n" each */
	const char *about;		/* its paragraph of the usage, or NULL */
	bool first_word;		/* only as argv[1] (its options are its own: sessions, replay) */
};

/* The fronts (injector/cmd/<name>.c); cmd_attach is the default, when no subcommand is named. */
int cmd_attach(int argc, char **argv);
int cmd_profiles(int argc, char **argv);
int cmd_ls(int argc, char **argv);
int cmd_port_forward(int argc, char **argv);
int cmd_lint(int argc, char **argv);
/* `dhidebug cp` (injector/cmd/cp.c; the copy engine is injector/copy/) */
int cmd_cp(int argc, char **argv);
int cmd_toolbox(int argc, char **argv);
int cmd_sessions(int argc, char **argv);
int cmd_help(int argc, char **argv);

/* Every subcommand, in the usage's order; a NULL name ends it. */
extern const struct cli_subcommand cli_subcommands[];

/* The subcommand called `name`, or NULL. */
const struct cli_subcommand *cli_subcommand_find(const char *name);

/*
 * The subcommand argv names, or NULL for the default (attach): argv[1] for
 * those with `first_word`, else the first word that is neither an option nor
 * an option's value (options may come before it: `--toolbox-cache DIR
 * toolbox ls`).
 */
const struct cli_subcommand *cli_subcommand_of(int argc, char **argv);

/* Prints the usage of `sub`, or the whole usage (attach's, then each subcommand's) when NULL. */
void cli_usage(FILE *f, const struct cli_subcommand *sub);

/* After a subcommand's usage: the options it takes (`accept`, as for cli_getopt()), by name. */
void cli_usage_options(FILE *f, const int *accept);

/* `dhidebug help`: the synopsis, then each subcommand with its summary. */
void cli_usage_list(FILE *f);

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

/* --- the options, one vocabulary for every front --- */

enum cli_opt {
	CLI_OPT_TOOLBOX = 0x100,
	CLI_OPT_VIEW,
	CLI_OPT_RUNTIME_ROOT,
	CLI_OPT_NO_CGROUP,
	CLI_OPT_VERSION,
	CLI_OPT_PROFILE,
	CLI_OPT_USER,
	CLI_OPT_POLICY,
	CLI_OPT_JSON,
	CLI_OPT_NO_RECORD,
	CLI_OPT_SESSIONS_DIR,
	CLI_OPT_CONTAINERD_ROOT,
	CLI_OPT_CRIO_ROOT,
	CLI_OPT_TOOLBOX_CACHE,
	CLI_OPT_DEFAULT_TOOLBOX,
	CLI_OPT_INSECURE_REGISTRY,
	CLI_OPT_WRITE,
	CLI_OPT_NET,
	CLI_OPT_MAX_UNPACKED,
	CLI_OPT_PULL_TIMEOUT,
	CLI_OPT_ALLOW_HOST,
	CLI_OPT_DRY_RUN,
	CLI_OPT_NAME,
};

/*
 * The next option of argv for subcommand `sub` (getopt_long: options
 * anywhere; the words left are at argv[optind...], the subcommand's own name
 * first). Returns its code (a cli_opt, 'c', 'q' or 'h', optarg set for a
 * value), -1 at the end, or '?' with *err set: an unknown option, one
 * without its value, or one in `refuse` ("--json does not go with
 * `port-forward`"). An option of the vocabulary in neither `accept` nor
 * `refuse` (both 0-terminated, `refuse` may be NULL) is one the subcommand
 * does not use, passed over as before (helpers that give every command
 * --toolbox or -q rely on it). Set optind to 0 before the first call.
 */
int cli_getopt(int argc, char **argv, const char *sub, const int *accept, const int *refuse,
	       struct dhi_err **err);

/* --max-unpacked's and --pull-timeout's values: "512M", seconds; -1 with *err naming the option. */
int cli_parse_size(const char *s, unsigned long long *out, struct dhi_err **err);
int cli_parse_seconds(const char *s, long *out, struct dhi_err **err);

/* `words` (NULL-terminated) joined by spaces; NULL when there are none. */
char *cli_words_text(char *const *words);

/* --- the attach command (injector/cmd/attach.c) --- */

enum cli_cmd {
	CLI_ATTACH,
	CLI_HELP,
	CLI_VERSION,
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
	bool no_record;			/* --no-record */
	bool allow_host;		/* --allow-host: the target may be the host itself */
	bool write;			/* --write: a stopped container's session writes to it */
	const char *net;		/* --net none|host (stopped containers, images); NULL: none */
	const char *sessions_dir;	/* --sessions-dir */
	char **argv;			/* PROGRAM ARG…, NULL for a shell */
};

/*
 * Parses the attach command's argv. Options may come before or after TARGET;
 * everything after `--` (or after the first word following TARGET) is the
 * program and its arguments. Bad input is an error naming the argument; an
 * option of a subcommand says which one it goes with.
 */
int cli_parse(int argc, char **argv, struct cli *out, struct dhi_err **err);

/* The -c line, or the program and its arguments joined by spaces; NULL for a shell. */
char *cli_command_text(const struct cli *cli);

#endif

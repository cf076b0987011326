/* SPDX-License-Identifier: Apache-2.0 */
/* toolbox_cmd.h - the toolbox cache as the subcommands use it, and choosing a session's toolbox. */
#ifndef INJ_TOOLBOX_CMD_H
#define INJ_TOOLBOX_CMD_H

#include <stdbool.h>

#include "common/err.h"
#include "injector/runtime/runtime.h"

struct cache_opts;

/* The options about toolboxes and their cache, as a subcommand's parser fills them. */
struct toolbox_args {
	const char *toolbox;		/* --toolbox: a directory, reference or digest */
	const char *toolbox_cache;	/* --toolbox-cache DIR */
	const char *default_toolbox;	/* --default-toolbox REF: when no rule matches */
	const char *insecure_registry;	/* --insecure-registry HOST[:PORT],... */
	unsigned long long max_unpacked; /* --max-unpacked SIZE in bytes; 0: not given */
	long pull_timeout;		/* --pull-timeout SECONDS; 0: not given */
	const char *policy;		/* --policy FILE: its toolbox rules and limits */
	bool quiet;			/* -q */
	bool json;			/* the cache's progress and listings as JSON */
};

/*
 * The toolbox cache's options from the command line and the policy: the
 * policy's `toolbox_max_unpacked` and `toolbox_pull_timeout` apply when no
 * option is given, and an option may not ask for more than they allow.
 */
int toolbox_cache_opts(const struct toolbox_args *ta, struct cache_opts *o, struct dhi_err **err);

/*
 * `dhidebug toolbox rule IMAGE`: prints the toolbox the rules choose for
 * `image`, the rule and why, then each step that led there.
 */
int toolbox_cmd_rule_print(const struct toolbox_args *ta, const char *image, struct dhi_err **err);

/*
 * True when --toolbox's or the default toolbox's `arg` names a directory
 * rather than a reference: it starts with `/` or `.`, or is a directory here.
 */
bool toolbox_cmd_names_dir(const char *arg);

/*
 * The toolbox directory for a session: --toolbox as a directory, else as a
 * reference or digest (from the cache, pulled when missing); without
 * --toolbox, the rule table applied to the target's image reference. Prints
 * the choice and its reason once unless -q. *dir is owned by the caller.
 */
int toolbox_cmd_choose(const struct toolbox_args *ta, const struct rt_target *rt, char **dir,
		       struct dhi_err **err);

#endif

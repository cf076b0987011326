/* SPDX-License-Identifier: Apache-2.0 */
/* toolbox_cmd.h - `dhidebug toolbox ...` and choosing a session's toolbox. */
#ifndef INJ_TOOLBOX_CMD_H
#define INJ_TOOLBOX_CMD_H

#include <stdbool.h>

#include "common/err.h"
#include "injector/cli.h"
#include "injector/runtime/runtime.h"

struct cache_opts;

/*
 * The toolbox cache's options from the command line and the policy: the
 * policy's `toolbox_max_unpacked` and `toolbox_pull_timeout` apply when no
 * option is given, and an option may not ask for more than they allow.
 */
int toolbox_cache_opts(const struct cli *cli, struct cache_opts *o, struct dhi_err **err);

/* Runs `dhidebug toolbox <subcommand>`; returns the exit status or -1 with *err. */
int toolbox_cmd_run(const struct cli *cli, struct dhi_err **err);

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
int toolbox_cmd_choose(const struct cli *cli, const struct rt_target *rt, char **dir,
		       struct dhi_err **err);

#endif

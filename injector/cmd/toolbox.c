// SPDX-License-Identifier: Apache-2.0
/*
 * toolbox.c - `dhidebug toolbox pull|ls|rm|prune|import|rule ...`: the
 * toolbox cache (toolbox/cache.h) and the rules (injector/toolbox_cmd.h).
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "injector/cli.h"
#include "injector/cmd/cmd.h"
#include "injector/toolbox_cmd.h"
#include "toolbox/cache.h"

struct toolbox_opts {
	struct toolbox_args tb;	/* the cache's options, --policy, --default-toolbox, -q, --json */
	bool dry_run;		/* prune --dry-run */
	const char *name;	/* import --name REF */
	char **words;		/* SUBCOMMAND ARG... */
};

static const int toolbox_accept[] = { CLI_OPT_JSON, CLI_OPT_DRY_RUN, CLI_OPT_NAME,
				      CLI_OPT_DEFAULT_TOOLBOX, CLI_OPT_POLICY,
				      CLI_OPT_TOOLBOX_CACHE, CLI_OPT_INSECURE_REGISTRY,
				      CLI_OPT_MAX_UNPACKED, CLI_OPT_PULL_TIMEOUT, 'q', 0 };

/* each subcommand with its number of arguments */
static const struct {
	const char *name;
	int nargs;
	const char *usage;
} toolbox_subs[] = {
	{ "pull", 1, "pull <ref>" },	 { "ls", 0, "ls [--json]" },
	{ "rm", 1, "rm <ref>|<digest>" }, { "prune", 0, "prune [--dry-run]" },
	{ "import", 1, "import [--name=<ref>] <path>" }, { "rule", 1, "rule <image>" },
	{ NULL, 0, NULL },
};

/* `toolbox <subcommand> <args>`, its options checked against the subcommand */
static int toolbox_words(int argc, char **argv, struct toolbox_opts *o, struct dhi_err **err)
{
	const char *sub = optind < argc ? argv[optind] : NULL;

	if (!sub)
		return dhi_err_set(err, 0, "`toolbox` needs a subcommand: pull, ls, rm, prune, "
					   "import or rule");
	for (int i = 0; toolbox_subs[i].name; i++) {
		if (strcmp(sub, toolbox_subs[i].name) != 0)
			continue;
		if (argc - optind - 1 != toolbox_subs[i].nargs)
			return dhi_err_set(err, 0, "usage: dhidebug toolbox %s", toolbox_subs[i].usage);
		if (o->tb.json && strcmp(sub, "ls") != 0 && strcmp(sub, "pull") != 0)
			return dhi_err_set(err, 0, "--json goes with `dhidebug toolbox ls` and `pull`");
		if (o->dry_run && strcmp(sub, "prune") != 0)
			return dhi_err_set(err, 0, "--dry-run goes with `dhidebug toolbox prune`");
		if (o->name && strcmp(sub, "import") != 0)
			return dhi_err_set(err, 0, "--name goes with `dhidebug toolbox import`");
		o->words = &argv[optind];
		return 0;
	}
	return dhi_err_set(err, 0, "unknown toolbox subcommand `%s` (pull, ls, rm, prune, import, "
				   "rule)",
			   sub);
}

static int toolbox_opt(int c, void *arg, struct dhi_err **err)
{
	struct toolbox_opts *o = arg;

	if (c == CLI_OPT_JSON)
		o->tb.json = true;
	else if (c == CLI_OPT_DRY_RUN)
		o->dry_run = true;
	else if (c == CLI_OPT_NAME)
		o->name = optarg;
	else if (c == CLI_OPT_DEFAULT_TOOLBOX)
		o->tb.default_toolbox = optarg;
	else if (c == 'q')
		o->tb.quiet = true;
	else if (cmd_opt_cache(c, &o->tb, err) < 0)
		return -1;
	return 0;
}

/* Runs the subcommand; the exit status, or -1 with *err. */
static int toolbox_run(const struct toolbox_opts *to, struct dhi_err **err)
{
	struct cache_opts o;
	const char *sub = to->words[0], *arg = to->words[1];
	dhi_autofree char *digest = NULL;

	if (!strcmp(sub, "rule"))
		return toolbox_cmd_rule_print(&to->tb, arg, err) < 0 ? -1 : 0;
	if (geteuid() != 0)
		return dhi_err_set(err, 0, "must run as root (the toolbox cache is root's)");
	if (toolbox_cache_opts(&to->tb, &o, err) < 0)
		return -1;
	if (!strcmp(sub, "pull")) {
		/* from the registry, as asked */
		o.local = NULL;
		if (cache_pull(&o, arg, &digest, err) < 0)
			return -1;
		if (to->tb.json) {
			json_t *j = json_pack("{s:s, s:s}", "reference", arg, "digest", digest);
			char *text = json_dumps(j, JSON_COMPACT);

			printf("%s\n", text);
			free(text);
			json_decref(j);
		} else
			printf("%s\n", digest);
		return 0;
	}
	if (!strcmp(sub, "import")) {
		if (cache_import(&o, arg, to->name, &digest, err) < 0)
			return -1;
		printf("%s\n", digest);
		return 0;
	}
	if (!strcmp(sub, "ls"))
		return cache_list(&o, to->tb.json, stdout, err) < 0 ? -1 : 0;
	if (!strcmp(sub, "rm"))
		return cache_remove(&o, arg, err) < 0 ? -1 : 0;
	if (!strcmp(sub, "prune"))
		return cache_prune(&o, to->dry_run, stdout, err) < 0 ? -1 : 0;
	return dhi_err_set(err, 0, "unknown toolbox subcommand `%s`", sub);
}

int cmd_toolbox(int argc, char **argv)
{
	struct dhi_err *err = NULL;
	struct toolbox_opts o = { .dry_run = false };
	dhi_autofree char *command = NULL;
	struct delegate_ask ask;
	const struct policy *pol;
	struct policy other;
	struct cmd_site s;
	int r = cmd_parse(argc, argv, "toolbox", toolbox_accept, NULL, toolbox_opt, &o, &err);

	if (r == 0) {
		optind++; /* past `toolbox` */
		r = toolbox_words(argc, argv, &o, &err);
	}
	if (r != 0)
		return r < 0 ? cmd_fail(err) : 0;
	command = cli_words_text(o.words);
	ask = (struct delegate_ask){ .target = "toolbox", .command = command, .policy = o.tb.policy,
				     .toolbox_cache = o.tb.toolbox_cache, .quiet = o.tb.quiet };
	if ((r = cmd_site_open(&s, &ask)) != 0 ||
	    (r = cmd_policy(&s, &ask, o.tb.policy, false, &other, &pol)) != 0)
		return r;
	r = toolbox_run(&o, &err);
	return r < 0 ? cmd_fail(err) : r;
}

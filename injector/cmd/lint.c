// SPDX-License-Identifier: Apache-2.0
/* lint.c - `dhidebug lint (<target>|image://<ref>) [--json]` (the checks: injector/lint.h). */
#include <getopt.h>
#include <stdio.h>

#include "injector/cli.h"
#include "injector/cmd/cmd.h"
#include "injector/lint.h"

static const int lint_accept[] = { CLI_OPT_JSON, CLI_OPT_ALLOW_HOST, CLI_OPT_POLICY,
				   CLI_OPT_RUNTIME_ROOT, CLI_OPT_CONTAINERD_ROOT, CLI_OPT_CRIO_ROOT,
				   CLI_OPT_TOOLBOX_CACHE, CLI_OPT_INSECURE_REGISTRY,
				   CLI_OPT_MAX_UNPACKED, CLI_OPT_PULL_TIMEOUT, 'q', 0 };
/* a line of the shell, for a command that runs none; toolbox prune's and import's options */
static const int lint_refuse[] = { 'c', CLI_OPT_DRY_RUN, CLI_OPT_NAME, 0 };

static int lint_opt(int c, void *arg, struct dhi_err **err)
{
	struct lint_opts *o = arg;

	if (c == CLI_OPT_JSON)
		o->json = o->tb.json = true;
	else if (c == CLI_OPT_ALLOW_HOST)
		o->allow_host = true;
	else if (c == 'q')
		o->quiet = o->tb.quiet = true;
	else if (!cmd_opt_roots(c, &o->ro) && cmd_opt_cache(c, &o->tb, err) < 0)
		return -1;
	return 0;
}

int cmd_lint(int argc, char **argv)
{
	struct dhi_err *err = NULL;
	struct lint_opts o = { .target = NULL };
	struct delegate_ask ask;
	const struct policy *pol;
	struct policy other;
	struct cmd_site s;
	int r = cmd_parse(argc, argv, "lint", lint_accept, lint_refuse, lint_opt, &o, &err);

	/* argv[optind] is `lint` */
	if (r == 0 && argc - optind != 2)
		r = dhi_err_set(&err, 0, "usage: dhidebug lint (<target>|image://<ref>) [--json]");
	if (r != 0)
		return r < 0 ? cmd_fail(err) : 0;
	o.target = argv[optind + 1];
	ask = (struct delegate_ask){ .target = o.target, .checks_target = true, .policy = o.tb.policy,
				     .toolbox_cache = o.tb.toolbox_cache, .ro = &o.ro,
				     .allow_host = o.allow_host, .quiet = o.quiet };
	if ((r = cmd_site_open(&s, &ask)) != 0 ||
	    (r = cmd_policy(&s, &ask, o.tb.policy, o.allow_host, &other, &pol)) != 0)
		return r;
	r = lint_run(&o, stdout, &err);
	return r < 0 ? cmd_fail(err) : r;
}

// SPDX-License-Identifier: Apache-2.0
/* profiles.c - `dhidebug profiles [--json] [--policy=<file>]`: the policy's profiles. */
#include <getopt.h>
#include <stdbool.h>

#include "injector/cli.h"
#include "injector/cmd/cmd.h"

struct profiles_opts {
	const char *policy;	/* --policy FILE */
	bool json;		/* --json */
	bool quiet;		/* -q */
};

static const int profiles_accept[] = { CLI_OPT_JSON, CLI_OPT_POLICY, 'q', 0 };

static int profiles_opt(int c, void *arg, struct dhi_err **err)
{
	struct profiles_opts *o = arg;

	(void)err;
	if (c == CLI_OPT_JSON)
		o->json = true;
	else if (c == CLI_OPT_POLICY)
		o->policy = optarg;
	else
		o->quiet = true;
	return 0;
}

int cmd_profiles(int argc, char **argv)
{
	struct dhi_err *err = NULL;
	struct profiles_opts o = { .policy = NULL };
	struct delegate_ask ask = { .target = "profiles" };
	const struct policy *pol;
	struct policy other;
	struct cmd_site s;
	int r = cmd_parse(argc, argv, "profiles", profiles_accept, NULL, profiles_opt, &o, &err);

	if (r == 0 && argc - optind > 1)
		r = dhi_err_set(&err, 0, "`profiles` takes no arguments");
	if (r != 0)
		return r < 0 ? cmd_fail(err) : 0;
	ask.policy = o.policy;
	ask.quiet = o.quiet;
	if ((r = cmd_site_open(&s, &ask)) != 0 ||
	    (r = cmd_policy(&s, &ask, o.policy, false, &other, &pol)) != 0)
		return r;
	policy_print(pol, o.json);
	return 0;
}

// SPDX-License-Identifier: Apache-2.0
/* ls.c - `dhidebug ls [--json]`: the containers of every runtime (injector/ls.h). */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "injector/cli.h"
#include "injector/cmd/cmd.h"
#include "injector/ls.h"

struct ls_opts {
	struct rt_opts ro;	/* --runtime-root, --containerd-root, --crio-root */
	bool json;		/* --json */
	bool quiet;		/* -q */
};

static const int ls_accept[] = { CLI_OPT_JSON, CLI_OPT_RUNTIME_ROOT, CLI_OPT_CONTAINERD_ROOT,
				 CLI_OPT_CRIO_ROOT, 'q', 0 };

static int ls_opt(int c, void *arg, struct dhi_err **err)
{
	struct ls_opts *o = arg;

	(void)err;
	if (c == CLI_OPT_JSON)
		o->json = true;
	else if (c == 'q')
		o->quiet = true;
	else
		cmd_opt_roots(c, &o->ro);
	return 0;
}

int cmd_ls(int argc, char **argv)
{
	struct dhi_err *err = NULL;
	struct ls_opts o = { .json = false };
	struct cmd_site s;
	int r = cmd_parse(argc, argv, "ls", ls_accept, NULL, ls_opt, &o, &err);

	if (r == 0 && argc - optind > 1)
		r = dhi_err_set(&err, 0, "`ls` takes no arguments");
	if (r != 0)
		return r < 0 ? cmd_fail(err) : 0;
	r = cmd_site_open(&s, &(struct delegate_ask){ .target = "ls", .ro = &o.ro,
						      .quiet = o.quiet });
	if (r != 0)
		return r;
	return ls_run(&o.ro, o.json, stdout, &err) < 0 ? cmd_fail(err) : 0;
}

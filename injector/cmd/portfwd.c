// SPDX-License-Identifier: Apache-2.0
/*
 * portfwd.c - `dhidebug port-forward <target> <spec>...`: parse every spec,
 * pin the target, relay until Ctrl-C (injector/portfwd.h does the relaying).
 */
#include <getopt.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/xalloc.h"
#include "injector/cli.h"
#include "injector/cmd/cmd.h"
#include "injector/portfwd.h"
#include "injector/session.h"
#include "nsenter/target.h"

static const int portfwd_accept[] = { CLI_OPT_RUNTIME_ROOT, CLI_OPT_CONTAINERD_ROOT,
				      CLI_OPT_CRIO_ROOT, CLI_OPT_POLICY, CLI_OPT_ALLOW_HOST, 'q', 0 };
/* it prints no JSON and runs no shell line; toolbox prune's and import's options */
static const int portfwd_refuse[] = { CLI_OPT_JSON, 'c', CLI_OPT_DRY_RUN, CLI_OPT_NAME, 0 };

static int portfwd_opt(int c, void *arg, struct dhi_err **err)
{
	struct portfwd_opts *o = arg;

	(void)err;
	if (c == CLI_OPT_POLICY)
		o->policy = optarg;
	else if (c == CLI_OPT_ALLOW_HOST)
		o->allow_host = true;
	else if (c == 'q')
		o->quiet = true;
	else
		cmd_opt_roots(c, &o->ro);
	return 0;
}

int cmd_port_forward_parse(int argc, char **argv, struct portfwd_opts *o, struct dhi_err **err)
{
	int r;

	*o = (struct portfwd_opts){ .target = NULL };
	r = cmd_parse(argc, argv, "port-forward", portfwd_accept, portfwd_refuse, portfwd_opt, o,
		      err);
	if (r != 0)
		return r;
	/* argv[optind] is `port-forward` */
	if (argc - optind < 3)
		return dhi_err_set(err, 0, "usage: dhidebug port-forward <target> "
					   "[<addr>:]<local-port>:<remote-port>...");
	o->target = argv[optind + 1];
	o->specs = &argv[optind + 2];
	return 0;
}

/* The specs parsed, the target pinned and checked, then the relay; the exit status. */
static int forward(const struct portfwd_opts *o, const struct cmd_site *s,
		   const struct delegate_ask *ask)
{
	struct dhi_err *err = NULL;
	dhi_autofree struct portfwd_spec *specs = NULL;
	struct ns_target t = { .pidfd = -1, .procfd = -1 };
	struct rt_target rt;
	size_t n = 0;
	int r;

	while (o->specs[n])
		n++;
	specs = xzalloc(n * sizeof(*specs));
	for (size_t i = 0; i < n; i++)
		if (portfwd_parse(o->specs[i], &specs[i], &err) < 0)
			return cmd_fail(err);
	if (geteuid() != 0) {
		dhi_err_set(&err, 0, "must run as root (it joins another process's network namespace)");
		return cmd_fail(err);
	}
	if (rt_resolve(o->target, &o->ro, &rt, &err) < 0)
		return cmd_fail(err);
	if (ns_target_open(rt.pid, rt.start_time, &t, &err) < 0) {
		dhi_autofree char *label = rt_target_label(&rt);

		dhi_err_prefix(&err, "container `%s`", label);
		rt_target_free(&rt);
		return cmd_fail(err);
	}
	if (session_check_host(o->allow_host, o->quiet, &t, &rt, &(bool){ false }, &err) < 0) {
		ns_target_close(&t);
		rt_target_free(&rt);
		return cmd_refuse(s, ask, err);
	}
	r = portfwd_run(&t, o->target, specs, n, o->quiet, &err);
	ns_target_close(&t);
	rt_target_free(&rt);
	return r < 0 ? cmd_fail(err) : 0;
}

int cmd_port_forward(int argc, char **argv)
{
	struct dhi_err *err = NULL;
	struct portfwd_opts o;
	dhi_autofree char *command = NULL;
	struct delegate_ask ask;
	const struct policy *pol;
	struct policy other;
	struct cmd_site s;
	int r = cmd_port_forward_parse(argc, argv, &o, &err);

	if (r != 0)
		return r < 0 ? cmd_fail(err) : 0;
	command = cli_words_text(o.specs);
	ask = (struct delegate_ask){ .target = o.target, .checks_target = true, .command = command,
				     .policy = o.policy, .ro = &o.ro, .allow_host = o.allow_host,
				     .quiet = o.quiet };
	if ((r = cmd_site_open(&s, &ask)) != 0 ||
	    (r = cmd_policy(&s, &ask, o.policy, o.allow_host, &other, &pol)) != 0)
		return r;
	return forward(&o, &s, &ask);
}

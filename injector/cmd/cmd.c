// SPDX-License-Identifier: Apache-2.0
/* cmd.c - the subcommands' shared front: the error printed once, the site policy, help. */
#include "injector/cmd/cmd.h"

#include <getopt.h>
#include <stdio.h>

#include "injector/cli.h"

int cmd_fail(struct dhi_err *err)
{
	int code = dhi_err_print(err, "dhidebug");

	dhi_err_clear(&err);
	return code;
}

int cmd_refuse(const struct cmd_site *s, const struct delegate_ask *ask, struct dhi_err *err)
{
	delegate_record_refusal(&s->d, &s->site, ask, err);
	return cmd_fail(err);
}

int cmd_site_open(struct cmd_site *s, const struct delegate_ask *ask)
{
	struct dhi_err *err = NULL;

	if (policy_load(NULL, &s->site, &err) < 0)
		return cmd_fail(err);
	delegate_detect(&s->site, &s->d);
	if (delegate_check_ask(&s->d, &s->site, ask, &err) < 0)
		return cmd_refuse(s, ask, err);
	return 0;
}

int cmd_policy(const struct cmd_site *s, const struct delegate_ask *ask, const char *file,
	       bool allow_host, struct policy *other, const struct policy **pol)
{
	struct dhi_err *err = NULL;

	*pol = &s->site;
	if (file) {
		if (policy_load(file, other, &err) < 0)
			return cmd_fail(err);
		*pol = other;
	}
	if (allow_host && (*pol)->host_forbidden) {
		dhi_err_set(&err, 0, "--allow-host: policy `%s` forbids the host as a target "
			    "(`allow_host`: false)", (*pol)->source);
		return cmd_refuse(s, ask, err);
	}
	return 0;
}

int cmd_parse(int argc, char **argv, const char *name, const int *accept, const int *refuse,
	      cmd_opt_fn *opt, void *o, struct dhi_err **err)
{
	int c;

	optind = 0;
	while ((c = cli_getopt(argc, argv, name, accept, refuse, err)) != -1) {
		if (c == 'h')
			return cmd_help_of(name, accept) + 1;
		if (c == '?' || opt(c, o, err) < 0)
			return -1;
	}
	return 0;
}

int cmd_opt_roots(int c, struct rt_opts *ro)
{
	if (c == CLI_OPT_RUNTIME_ROOT)
		ro->runtime_root = optarg;
	else if (c == CLI_OPT_CONTAINERD_ROOT)
		ro->containerd_root = optarg;
	else if (c == CLI_OPT_CRIO_ROOT)
		ro->crio_root = optarg;
	else
		return 0;
	return 1;
}

int cmd_opt_cache(int c, struct toolbox_args *ta, struct dhi_err **err)
{
	if (c == CLI_OPT_TOOLBOX_CACHE)
		ta->toolbox_cache = optarg;
	else if (c == CLI_OPT_INSECURE_REGISTRY)
		ta->insecure_registry = optarg;
	else if (c == CLI_OPT_POLICY)
		ta->policy = optarg;
	else if (c == CLI_OPT_MAX_UNPACKED)
		return cli_parse_size(optarg, &ta->max_unpacked, err) < 0 ? -1 : 1;
	else if (c == CLI_OPT_PULL_TIMEOUT)
		return cli_parse_seconds(optarg, &ta->pull_timeout, err) < 0 ? -1 : 1;
	else
		return 0;
	return 1;
}

int cmd_help_of(const char *name, const int *accept)
{
	cli_usage(stdout, cli_subcommand_find(name));
	if (accept)
		cli_usage_options(stdout, accept);
	return 0;
}

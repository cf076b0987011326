// SPDX-License-Identifier: Apache-2.0
/* toolbox_cmd.c - the toolbox subcommands and the session's toolbox choice. */
#include "injector/toolbox_cmd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/xalloc.h"
#include "toolbox/cache.h"
#include "toolbox/ref.h"

static struct cache_opts opts_of(const struct cli *cli)
{
	return (struct cache_opts){
		.dir = cli->toolbox_cache,
		.quiet = cli->quiet,
		.reg = { .insecure = cli->insecure_registry },
	};
}

static int rule_print(const struct cli *cli, const char *image, struct dhi_err **err)
{
	struct tb_ref in, out;
	const char *rule = NULL;
	dhi_autofree char *why = NULL, *s = NULL;

	if (ref_parse(image, &in, err) < 0)
		return -1;
	if (ref_toolbox_rule(&in, cli->default_toolbox, &out, &rule, &why, err) < 0) {
		ref_free(&in);
		return -1;
	}
	s = ref_format(&out);
	printf("%s\nrule: %s: %s\n", s, rule, why);
	ref_free(&in);
	ref_free(&out);
	return 0;
}

int toolbox_cmd_run(const struct cli *cli, struct dhi_err **err)
{
	struct cache_opts o = opts_of(cli);
	const char *sub = cli->argv[0], *arg = cli->argv[1];
	dhi_autofree char *digest = NULL;

	if (!strcmp(sub, "rule"))
		return rule_print(cli, arg, err) < 0 ? -1 : 0;
	if (geteuid() != 0)
		return dhi_err_set(err, 0, "must run as root (the toolbox cache is root's)");
	if (!strcmp(sub, "pull")) {
		if (cache_pull(&o, arg, &digest, err) < 0)
			return -1;
		printf("%s\n", digest);
		return 0;
	}
	if (!strcmp(sub, "import")) {
		if (cache_import(&o, arg, &digest, err) < 0)
			return -1;
		printf("%s\n", digest);
		return 0;
	}
	if (!strcmp(sub, "ls"))
		return cache_list(&o, cli->json, stdout, err) < 0 ? -1 : 0;
	if (!strcmp(sub, "rm"))
		return cache_remove(&o, arg, err) < 0 ? -1 : 0;
	if (!strcmp(sub, "prune"))
		return cache_prune(&o, stdout, err) < 0 ? -1 : 0;
	return dhi_err_set(err, 0, "unknown toolbox subcommand `%s`", sub);
}

static bool is_dir(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

int toolbox_cmd_choose(const struct cli *cli, const struct rt_target *rt, char **dir,
		       struct dhi_err **err)
{
	struct cache_opts o = opts_of(cli);
	struct tb_ref image, tb;
	const char *rule = NULL;
	dhi_autofree char *why = NULL, *ref = NULL;
	int rc;

	if (cli->toolbox) {
		/* a path wins over a reference that happens to look the same */
		if (cli->toolbox[0] == '/' || cli->toolbox[0] == '.' || is_dir(cli->toolbox)) {
			*dir = xstrdup(cli->toolbox);
			return 0;
		}
		return cache_resolve(&o, cli->toolbox, true, dir, err);
	}
	if (!rt->image_ref)
		return dhi_err_set(err, 0,
				   "no toolbox given and `%s` does not say which image it runs "
				   "(use --toolbox DIR|REF)",
				   rt->name ? rt->name : rt->id);
	if (ref_parse(rt->image_ref, &image, err) < 0)
		return dhi_err_prefix(err, "image of the target");
	rc = ref_toolbox_rule(&image, cli->default_toolbox, &tb, &rule, &why, err);
	ref_free(&image);
	if (rc < 0)
		return -1;
	ref = ref_format(&tb);
	ref_free(&tb);
	if (!cli->quiet)
		fprintf(stderr, "dhidebug: toolbox `%s` (rule %s: %s)\n", ref, rule, why);
	return cache_resolve(&o, ref, true, dir, err);
}

// SPDX-License-Identifier: Apache-2.0
/* toolbox_cmd.c - the toolbox subcommands and the session's toolbox choice. */
#include "injector/toolbox_cmd.h"

#include <errno.h>
#include <jansson.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/xalloc.h"
#include "injector/policy/policy.h"
#include "toolbox/cache.h"
#include "toolbox/ref.h"

int toolbox_cache_opts(const struct cli *cli, struct cache_opts *o, struct dhi_err **err)
{
	struct policy pol;

	*o = (struct cache_opts){
		.dir = cli->toolbox_cache,
		.quiet = cli->quiet,
		.json = cli->json,
		.max_unpacked = cli->max_unpacked,
		.reg = { .insecure = cli->insecure_registry, .timeout = cli->pull_timeout },
	};
	if (policy_load(cli->policy, &pol, err) < 0)
		return -1;
	/* the site's limits are the most an option may ask for (an option may lower them) */
	if (pol.toolbox_max_unpacked) {
		if (cli->max_unpacked > pol.toolbox_max_unpacked)
			return dhi_err_set(err, 0, "--max-unpacked: the policy allows at most %llu "
						   "bytes (`toolbox_max_unpacked`)",
					   pol.toolbox_max_unpacked);
		if (!cli->max_unpacked)
			o->max_unpacked = pol.toolbox_max_unpacked;
	}
	if (pol.toolbox_pull_timeout) {
		if (cli->pull_timeout > pol.toolbox_pull_timeout)
			return dhi_err_set(err, 0, "--pull-timeout: the policy allows at most %ld s "
						   "(`toolbox_pull_timeout`)",
					   pol.toolbox_pull_timeout);
		if (!cli->pull_timeout)
			o->reg.timeout = pol.toolbox_pull_timeout;
	}
	return 0;
}

/*
 * The site's rules from the policy file first (fnmatch on the image reference,
 * `{tag}` in the toolbox replaced by the image's tag), then the built-in ones,
 * then the default: --default-toolbox, else the policy's default_toolbox.
 */
static int choose_rule(const struct cli *cli, const struct tb_ref *image, struct tb_ref *out,
		       const char **rule, char **why, struct dhi_err **err)
{
	struct policy pol;
	dhi_autofree char *name = ref_format(image);

	if (policy_load(cli->policy, &pol, err) < 0)
		return -1;
	for (int i = 0; i < pol.n_toolbox_rules; i++) {
		const struct policy_toolbox_rule *r = &pol.toolbox_rules[i];
		dhi_autofree char *ref = NULL;
		const char *at;

		if (fnmatch(r->match, name, 0) != 0)
			continue;
		at = strstr(r->toolbox, "{tag}");
		ref = at ? xasprintf("%.*s%s%s", (int)(at - r->toolbox), r->toolbox,
				     image->tag ? image->tag : "latest", at + 5)
			 : xstrdup(r->toolbox);
		if (ref_parse(ref, out, err) < 0)
			return dhi_err_prefix(err, "policy `toolbox_rules`: `%s`", r->match);
		*rule = "site";
		*why = xasprintf("the policy's rule `%s`", r->match);
		return 0;
	}
	return ref_toolbox_rule(image, cli->default_toolbox ? cli->default_toolbox
							    : pol.default_toolbox,
				out, rule, why, err);
}

static int rule_print(const struct cli *cli, const char *image, struct dhi_err **err)
{
	struct tb_ref in, out;
	const char *rule = NULL;
	dhi_autofree char *why = NULL, *s = NULL;

	if (ref_parse(image, &in, err) < 0)
		return -1;
	if (choose_rule(cli, &in, &out, &rule, &why, err) < 0) {
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
	struct cache_opts o;
	const char *sub = cli->argv[0], *arg = cli->argv[1];
	dhi_autofree char *digest = NULL;

	if (!strcmp(sub, "rule"))
		return rule_print(cli, arg, err) < 0 ? -1 : 0;
	if (geteuid() != 0)
		return dhi_err_set(err, 0, "must run as root (the toolbox cache is root's)");
	if (toolbox_cache_opts(cli, &o, err) < 0)
		return -1;
	if (!strcmp(sub, "pull")) {
		if (cache_pull(&o, arg, &digest, err) < 0)
			return -1;
		if (cli->json) {
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
	struct cache_opts o;
	struct tb_ref image, tb;
	const char *rule = NULL;
	dhi_autofree char *why = NULL, *ref = NULL;
	int rc;

	if (cli->toolbox &&
	    (cli->toolbox[0] == '/' || cli->toolbox[0] == '.' || is_dir(cli->toolbox))) {
		/* a path wins over a reference that happens to look the same */
		*dir = xstrdup(cli->toolbox);
		return 0;
	}
	if (toolbox_cache_opts(cli, &o, err) < 0)
		return -1;
	if (cli->toolbox)
		return cache_resolve(&o, cli->toolbox, true, dir, err);
	if (!rt->image_ref)
		return dhi_err_set(err, 0,
				   "no toolbox given and `%s` does not say which image it runs "
				   "(use --toolbox DIR|REF)",
				   rt->name ? rt->name : rt->id);
	if (ref_parse(rt->image_ref, &image, err) < 0)
		return dhi_err_prefix(err, "image of the target");
	rc = choose_rule(cli, &image, &tb, &rule, &why, err);
	ref_free(&image);
	if (rc < 0)
		return -1;
	ref = ref_format(&tb);
	ref_free(&tb);
	if (!cli->quiet)
		fprintf(stderr, "dhidebug: toolbox `%s` (rule %s: %s)\n", ref, rule, why);
	return cache_resolve(&o, ref, true, dir, err);
}

// SPDX-License-Identifier: Apache-2.0
/* toolbox_cmd.c - the toolbox cache's options, the rules, and the session's toolbox choice. */
#include "injector/toolbox_cmd.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/cleanup.h"
#include "common/xalloc.h"
#include "injector/policy/policy.h"
#include "injector/runtime/runtime.h"
#include "toolbox/cache.h"
#include "toolbox/ref.h"

int toolbox_cache_opts(const struct toolbox_args *ta, struct cache_opts *o, struct dhi_err **err)
{
	struct policy pol;

	*o = (struct cache_opts){
		.dir = ta->toolbox_cache,
		.quiet = ta->quiet,
		.json = ta->json,
		.max_unpacked = ta->max_unpacked,
		.reg = { .insecure = ta->insecure_registry, .timeout = ta->pull_timeout },
		/* the host's engines' images before the registry's */
		.local = rt_local_image_save,
	};
	if (policy_load(ta->policy, &pol, err) < 0)
		return -1;
	/* the site's limits are the most an option may ask for (an option may lower them) */
	if (pol.toolbox_max_unpacked) {
		if (ta->max_unpacked > pol.toolbox_max_unpacked)
			return dhi_err_set(err, 0, "--max-unpacked: the policy allows at most %llu "
						   "bytes (`toolbox_max_unpacked`)",
					   pol.toolbox_max_unpacked);
		if (!ta->max_unpacked)
			o->max_unpacked = pol.toolbox_max_unpacked;
	}
	if (pol.toolbox_pull_timeout) {
		if (ta->pull_timeout > pol.toolbox_pull_timeout)
			return dhi_err_set(err, 0, "--pull-timeout: the policy allows at most %ld s "
						   "(`toolbox_pull_timeout`)",
					   pol.toolbox_pull_timeout);
		if (!ta->pull_timeout)
			o->reg.timeout = pol.toolbox_pull_timeout;
	}
	return 0;
}

static bool is_dir(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* --toolbox and the default name a directory alike: a path wins over a look-alike reference */
bool toolbox_cmd_names_dir(const char *arg)
{
	return arg[0] == '/' || arg[0] == '.' || is_dir(arg);
}

/*
 * The site's rules from the policy file first (fnmatch on the image reference,
 * `{tag}` in the toolbox replaced by the image's tag), then the built-in ones,
 * then the default: --default-toolbox, else the policy's default_toolbox.
 */
static int choose_rule(const struct toolbox_args *ta, const struct tb_ref *image, struct tb_rule *out,
		       struct dhi_err **err)
{
	struct policy pol;
	dhi_autofree char *name = ref_format(image), *def_dir = NULL;
	const char *def;

	memset(out, 0, sizeof(*out));
	if (policy_load(ta->policy, &pol, err) < 0)
		return -1;
	def = ta->default_toolbox ? ta->default_toolbox : pol.default_toolbox;
	/* a directory named without `/` or `.` (`rootfs`): ref_toolbox_rule() sees it as one */
	if (def && *def && def[0] != '/' && def[0] != '.' && toolbox_cmd_names_dir(def))
		def = def_dir = xasprintf("./%s", def);
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
		if (ref_parse(ref, &out->cand[0], err) < 0)
			return dhi_err_prefix(err, "policy `toolbox_rules`: `%s`", r->match);
		out->n = 1;
		out->name = "site";
		out->why = xasprintf("the policy's rule `%s`", r->match);
		return 0;
	}
	return ref_toolbox_rule(image, def, out, err);
}

int toolbox_cmd_rule_print(const struct toolbox_args *ta, const char *image, struct dhi_err **err)
{
	struct tb_ref in;
	struct tb_rule r;
	struct dhi_tag t;
	dhi_autofree char *first = NULL;

	if (ref_parse(image, &in, err) < 0)
		return -1;
	if (choose_rule(ta, &in, &r, err) < 0) {
		ref_rule_free(&r);
		ref_free(&in);
		return -1;
	}
	first = r.dir ? xstrdup(r.dir) : ref_format(&r.cand[0]);
	printf("%s\nrule: %s: %s\n", first, r.name, r.why);
	printf("  image: registry %s, repository %s, tag %s, digest %s\n", in.registry, in.repo,
	       in.tag ? in.tag : "(none)", in.digest ? in.digest : "(none)");
	if (in.tag && ref_dhi_tag_parse(in.tag, &t) == 0) {
		printf("  tag fields: version %s, distribution %s, variants", t.version,
		       t.distro[0] ? t.distro : "(none: the -dev's is checked against the "
						 "target's os-release)");
		for (int i = 0; i < t.n_variants; i++)
			printf("%s%s", i ? ", " : " ", t.variants[i]);
		printf("%s\n", t.n_variants ? "" : " (none)");
	}
	if (r.dir)
		printf("  toolbox: the directory %s", r.dir);
	else
		printf("  %s:", r.n > 1 ? "tried in this order, the first the registry has"
					: "toolbox");
	for (int i = 0; i < r.n; i++) {
		dhi_autofree char *c = ref_format(&r.cand[i]);

		printf("%s%s", i ? ", " : " ", c);
	}
	printf("\n");
	ref_rule_free(&r);
	ref_free(&in);
	return 0;
}

/*
 * A target started from a digest only (`repo@sha256:…`): the tag its runtime
 * recorded for the image stands in for it, so the rule has a tag to work on.
 */
static int image_of(const struct rt_target *rt, bool quiet, struct tb_ref *image,
		    struct dhi_err **err)
{
	if (ref_parse(rt->image_ref, image, err) < 0)
		return dhi_err_prefix(err, "image of the target");
	if (image->tag || !rt->image_tagged)
		return 0;
	{
		struct tb_ref tagged;
		struct dhi_err *e = NULL;

		if (ref_parse(rt->image_tagged, &tagged, &e) < 0 || !tagged.tag) {
			dhi_err_clear(&e);
			return 0;
		}
		if (!quiet)
			fprintf(stderr, "dhidebug: image `%s` is pinned by digest; its runtime "
					"records it as `%s`\n",
				rt->image_ref, rt->image_tagged);
		free(tagged.digest);
		tagged.digest = image->digest;
		image->digest = NULL;
		ref_free(image);
		*image = tagged;
	}
	return 0;
}

/*
 * Each candidate in order: the cache's entry, else a pull; a reference the
 * registry does not have (a manifest or platform not found) moves on to the
 * next, and the error at the end names every one tried.
 */
/*
 * The session's toolbox entry stays in the cache while dhidebug runs: its
 * shared hold (toolbox/cache.h) is left open until exit, close-on-exec.
 */
static int hold(const struct cache_opts *o, const char *dir, struct dhi_err **err)
{
	int fd = cache_hold(o, dir, err);

	return fd < 0 && *err ? -1 : 0;
}

static int resolve_candidates(const struct cache_opts *o, const struct tb_rule *r, bool quiet,
			      char **dir, struct dhi_err **err)
{
	dhi_autofree char *tried = NULL;

	for (int i = 0; i < r->n; i++) {
		dhi_autofree char *ref = ref_format(&r->cand[i]), *why = NULL;
		char *t;

		if (cache_resolve(o, ref, true, dir, err) == 0) {
			if (hold(o, *dir, err) < 0)
				return -1;
			if (i && !quiet)
				fprintf(stderr, "dhidebug: toolbox `%s` (the registry has it)\n",
					ref);
			return 0;
		}
		if ((*err)->errnum != ENOENT || r->n == 1)
			return -1;
		/* (the message alone: "No such file or directory" says nothing here) */
		why = dhi_printable((*err)->msg);
		dhi_err_clear(err);
		if (!quiet && i + 1 < r->n)
			fprintf(stderr, "dhidebug: %s; trying the next toolbox\n", why);
		t = xasprintf("%s%s`%s` (%s)", tried ? tried : "", tried ? ", " : "", ref, why);
		free(tried);
		tried = t;
	}
	return dhi_err_set(err, 0, "no toolbox for this image in the registry: tried %s", tried);
}

int toolbox_cmd_choose(const struct toolbox_args *ta, const struct rt_target *rt, char **dir,
		       struct dhi_err **err)
{
	struct cache_opts o;
	struct tb_ref image;
	struct tb_rule r;
	dhi_autofree char *ref = NULL, *ns = NULL;
	int rc;

	if (ta->toolbox && toolbox_cmd_names_dir(ta->toolbox)) {
		*dir = xstrdup(ta->toolbox);
		return 0;
	}
	if (toolbox_cache_opts(ta, &o, err) < 0)
		return -1;
	/* a containerd target's namespace is where the host keeps the images it runs */
	ns = rt_target_image_ns(rt);
	o.local_hint = ns;
	if (ta->toolbox)
		return cache_resolve(&o, ta->toolbox, true, dir, err) < 0 ? -1
										  : hold(&o, *dir, err);
	if (!rt->image_ref)
		return dhi_err_set(err, 0,
				   "no toolbox given and `%s` does not say which image it runs "
				   "(use --toolbox DIR|REF)",
				   rt->name ? rt->name : rt->id);
	if (image_of(rt, ta->quiet, &image, err) < 0)
		return -1;
	rc = choose_rule(ta, &image, &r, err);
	ref_free(&image);
	if (rc < 0) {
		ref_rule_free(&r);
		return -1;
	}
	ref = r.dir ? xstrdup(r.dir) : ref_format(&r.cand[0]);
	if (!ta->quiet)
		fprintf(stderr, "dhidebug: toolbox `%s` (rule %s: %s)\n", ref, r.name, r.why);
	if (r.dir) {
		*dir = dhi_steal_ptr(&r.dir);
		rc = 0;
	} else {
		rc = resolve_candidates(&o, &r, ta->quiet, dir, err);
	}
	ref_rule_free(&r);
	return rc;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* ref.h - OCI image references and the image → toolbox rule table. */
#ifndef TB_REF_H
#define TB_REF_H

#include <stdbool.h>

#include "common/err.h"

/*
 * A parsed image reference, normalised the way docker does it:
 * `python` is docker.io/library/python, `a/b` is docker.io/a/b, and a first
 * component with a `.` or `:` (or `localhost`) is a registry host[:port].
 * At least one of tag and digest is set after ref_parse() (a bare name gets
 * the tag `latest`).
 */
struct tb_ref {
	char *registry;	/* "docker.io", "dhi.io", "127.0.0.1:5000" */
	char *repo;	/* "library/python", "dhi/app", "a/b/c" */
	char *tag;	/* NULL when the reference has only a digest */
	char *digest;	/* "sha256:<64 hex>", NULL when none */
};

/*
 * Parses `s`: [registry[:port]/]path[:tag][@sha256:hex]. Path components are
 * lowercase [a-z0-9] separated by `.`, `_`, `__` or dashes; tags are
 * [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}; digests sha256 with 64 lowercase hex.
 * Anything else is an error naming the part that is wrong.
 */
int ref_parse(const char *s, struct tb_ref *out, struct dhi_err **err);

/* The canonical text: registry/repo[:tag][@digest] (the caller frees it). */
char *ref_format(const struct tb_ref *r);

/* A deep copy. */
void ref_copy(const struct tb_ref *src, struct tb_ref *dst);

void ref_free(struct tb_ref *r);

/* True when `s` is a sha256 digest ("sha256:" and 64 lowercase hex). */
int ref_is_digest(const char *s);

/*
 * The fields of a DHI tag, `<app-version>[-<distribution>][-<variant>...]`
 * (docs/toolbox.md): version `3`, `3.13`, `3.13.7`; distribution `alpine3.21`,
 * `debian13`, ...; variants `dev`, `sdk`, `fips`, `stig`, `compat`, `sfw`, `ent`
 * or an image's own, in their order.
 */
#define DHI_TAG_MAX_VARIANTS 4
struct dhi_tag {
	char version[32];
	char distro[32];	/* "" when the tag names none */
	char variants[DHI_TAG_MAX_VARIANTS][16];
	int n_variants;
	bool is_dev;		/* a variant is dev or sdk: the image has a shell and tools */
};

/* Parses a DHI tag: 0, or -1 when `tag` does not follow the grammar. */
int ref_dhi_tag_parse(const char *tag, struct dhi_tag *out);

/*
 * What the rule table chose for an image: the rule's name, a one-line reason,
 * and the toolbox references to try, in order (a session pulls the first one
 * the registry has, and says which it tried).
 */
#define TB_RULE_MAX_CANDIDATES 5
struct tb_rule {
	const char *name;	/* "site", "dhi", "chainguard", "distroless", "default" */
	char *why;
	struct tb_ref cand[TB_RULE_MAX_CANDIDATES];
	int n;
	char *dir;	/* the default is a directory (n is 0): the toolbox, as --toolbox DIR */
};

/*
 * The image → toolbox rule. Applies the built-in table to `image`, in order:
 *   dhi         dhi.io, a `dhi` path component, or a Docker Hub mirror
 *               `<org>/dhi-<image>`, with a DHI tag: `<tag>-dev`, then for a
 *               runtime variant (fips, stig, ...) the same without its variants,
 *               one at a time; -dev and -sdk tags are their own toolbox
 *   chainguard  cgr.dev: `latest` → `latest-dev`, `<tag>` → `<tag>-dev`
 *   distroless  gcr.io/distroless/...: `:debug` (`:nonroot` → `:debug-nonroot`)
 *   default     `default_ref` when it is given (the policy's or --default-toolbox):
 *               a directory when it starts with `/` or `.`, else a reference
 * A digest beside a tag is left out of the candidates (the toolbox is the tag's
 * `-dev`, its distribution checked after the pull against the target's
 * os-release). No match and no default is an error that says why, and for a
 * DHI image pinned by digest only, what to pass. ref_rule_free() frees *out.
 */
int ref_toolbox_rule(const struct tb_ref *image, const char *default_ref, struct tb_rule *out,
		     struct dhi_err **err);
void ref_rule_free(struct tb_rule *r);

#endif

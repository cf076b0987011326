/* SPDX-License-Identifier: Apache-2.0 */
/* ref.h - OCI image references and the image → toolbox rule table. */
#ifndef TB_REF_H
#define TB_REF_H

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
 * The image → toolbox rule. Applies the built-in table to `image`, in order:
 *   dhi         dhi.io, a `dhi` path component, or a Docker Hub mirror
 *               `<org>/dhi-<image>`, with a DHI tag <version>-<distro>[-<variant>]:
 *               `<tag>` → `<tag>-dev`; -dev and -sdk tags are their own toolbox
 *   chainguard  cgr.dev: `latest` → `latest-dev`, `<tag>` → `<tag>-dev`
 *   distroless  gcr.io/distroless/...: `:debug` (`:nonroot` → `:debug-nonroot`)
 *   default     `default_ref` when it is given (the policy's or --default-toolbox)
 * and fills *out with the chosen reference and *rule / *why with the rule's
 * name and a one-line reason (static strings or owned by *why_buf, which the
 * caller frees). No match and no default is an error that says why.
 */
int ref_toolbox_rule(const struct tb_ref *image, const char *default_ref, struct tb_ref *out,
		     const char **rule, char **why, struct dhi_err **err);

#endif

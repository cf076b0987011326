// SPDX-License-Identifier: Apache-2.0
/* ref.c - parse OCI image references and choose the toolbox for an image. */
#include "toolbox/ref.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/xalloc.h"

#define REF_MAX 1024	 /* far above any real reference; bounds hostile input */
#define NAME_MAX_LEN 255 /* the distribution spec's limit for registry/repo */

static bool is_alnum_lower(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* One path component: [a-z0-9]+ ((\.|_|__|-+)[a-z0-9]+)* */
static bool component_ok(const char *s, size_t n)
{
	size_t i = 0;

	if (n == 0 || !is_alnum_lower(s[0]) || !is_alnum_lower(s[n - 1]))
		return false;
	while (i < n) {
		if (is_alnum_lower(s[i])) {
			i++;
			continue;
		}
		if (s[i] == '.' || (s[i] == '_' && s[i + 1] != '_')) {
			i++;
		} else if (s[i] == '_') {
			i += 2;
		} else if (s[i] == '-') {
			while (i < n && s[i] == '-')
				i++;
		} else {
			return false;
		}
		if (i >= n || !is_alnum_lower(s[i]))
			return false;
	}
	return true;
}

/* host[:port]: DNS labels (letters, digits, dashes, dots) or an IPv6 literal in brackets. */
static bool registry_ok(const char *s, size_t n)
{
	const char *colon;
	size_t hn;

	if (n == 0)
		return false;
	if (s[0] == '[') {
		const char *close = memchr(s, ']', n);

		if (!close)
			return false;
		for (const char *p = s + 1; p < close; p++)
			if (!isxdigit((unsigned char)*p) && *p != ':')
				return false;
		colon = close + 1 < s + n ? close + 1 : NULL;
		if (colon && *colon != ':')
			return false;
		hn = (size_t)(close - s + 1);
	} else {
		colon = memchr(s, ':', n);
		hn = colon ? (size_t)(colon - s) : n;
		if (hn == 0 || s[0] == '-' || s[0] == '.' || s[hn - 1] == '-' || s[hn - 1] == '.')
			return false;
		for (size_t i = 0; i < hn; i++)
			if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '.')
				return false;
	}
	if (colon) {
		size_t pn = n - (size_t)(colon + 1 - s);
		long port = 0;

		if (pn == 0 || pn > 5)
			return false;
		for (size_t i = 0; i < pn; i++) {
			if (!isdigit((unsigned char)colon[1 + i]))
				return false;
			port = port * 10 + (colon[1 + i] - '0');
		}
		if (port < 1 || port > 65535)
			return false;
	}
	return true;
}

static bool tag_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 128 || !(isalnum((unsigned char)s[0]) || s[0] == '_'))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '.' && s[i] != '-')
			return false;
	return true;
}

int ref_is_digest(const char *s)
{
	if (!s || strncmp(s, "sha256:", 7) != 0 || strlen(s) != 7 + 64)
		return 0;
	for (int i = 7; i < 7 + 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

static bool looks_like_registry(const char *s, size_t n)
{
	return memchr(s, '.', n) || memchr(s, ':', n) || (n == 9 && !memcmp(s, "localhost", 9)) ||
	       (n > 0 && s[0] == '[');
}

int ref_parse(const char *s, struct tb_ref *out, struct dhi_err **err)
{
	dhi_autofree char *buf = NULL;
	char *name, *at, *tag = NULL, *slash, *lastslash;
	const char *registry = "docker.io";
	size_t rn;

	memset(out, 0, sizeof(*out));
	if (!s || !*s)
		return dhi_err_set(err, 0, "empty image reference");
	if (strlen(s) > REF_MAX)
		return dhi_err_set(err, 0, "image reference too long (%zu bytes)", strlen(s));
	buf = xstrdup(s);
	name = buf;
	at = strchr(name, '@');
	if (at) {
		*at++ = '\0';
		if (!ref_is_digest(at))
			return dhi_err_set(err, 0,
					   "invalid digest `%s` in `%s` (want sha256:<64 lowercase hex>)",
					   at, s);
	}
	/* the registry is the first component when it looks like a host */
	slash = strchr(name, '/');
	if (slash && looks_like_registry(name, (size_t)(slash - name))) {
		rn = (size_t)(slash - name);
		if (!registry_ok(name, rn))
			return dhi_err_set(err, 0, "invalid registry `%.*s` in `%s`", (int)rn, name,
					   s);
		*slash = '\0';
		registry = name;
		name = slash + 1;
	}
	/* a tag is a `:` after the last `/` */
	lastslash = strrchr(name, '/');
	tag = strchr(lastslash ? lastslash : name, ':');
	if (tag) {
		*tag++ = '\0';
		if (!tag_ok(tag))
			return dhi_err_set(err, 0, "invalid tag `%s` in `%s`", tag, s);
	}
	if (!*name)
		return dhi_err_set(err, 0, "no repository in `%s`", s);
	for (char *c = name, *e;; c = e + 1) {
		e = strchr(c, '/');
		if (!component_ok(c, e ? (size_t)(e - c) : strlen(c)))
			return dhi_err_set(err, 0,
					   "invalid repository `%s` in `%s` (lowercase letters, "
					   "digits and . _ - separators)",
					   name, s);
		if (!e)
			break;
	}
	if (strcmp(registry, "docker.io") == 0 || strcmp(registry, "index.docker.io") == 0 ||
	    strcmp(registry, "registry-1.docker.io") == 0) {
		registry = "docker.io";
		out->repo = strchr(name, '/') ? xstrdup(name) : xasprintf("library/%s", name);
	} else {
		out->repo = xstrdup(name);
	}
	if (strlen(registry) + 1 + strlen(out->repo) > NAME_MAX_LEN) {
		free(out->repo);
		out->repo = NULL;
		return dhi_err_set(err, 0, "image name too long in `%s`", s);
	}
	out->registry = xstrdup(registry);
	out->digest = at ? xstrdup(at) : NULL;
	if (tag)
		out->tag = xstrdup(tag);
	else if (!at)
		out->tag = xstrdup("latest");
	return 0;
}

char *ref_format(const struct tb_ref *r)
{
	return xasprintf("%s/%s%s%s%s%s", r->registry, r->repo, r->tag ? ":" : "",
			 r->tag ? r->tag : "", r->digest ? "@" : "", r->digest ? r->digest : "");
}

void ref_copy(const struct tb_ref *src, struct tb_ref *dst)
{
	dst->registry = src->registry ? xstrdup(src->registry) : NULL;
	dst->repo = src->repo ? xstrdup(src->repo) : NULL;
	dst->tag = src->tag ? xstrdup(src->tag) : NULL;
	dst->digest = src->digest ? xstrdup(src->digest) : NULL;
}

void ref_free(struct tb_ref *r)
{
	free(r->registry);
	free(r->repo);
	free(r->tag);
	free(r->digest);
	memset(r, 0, sizeof(*r));
}

/* --- the rule table --- */

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* [0-9]+ (\.[0-9]+){0,3}: `3`, `3.13`, `3.13.7`, `22`, `1.25` */
static bool is_app_version(const char *s, size_t n)
{
	int parts = 1;

	if (n == 0 || !isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[n - 1]))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '.') {
			if (!isdigit((unsigned char)s[i + 1]) || ++parts > 4)
				return false;
		} else if (!isdigit((unsigned char)s[i])) {
			return false;
		}
	}
	return true;
}

/* The DHI distributions: alpine3.21, alpine3.22, debian12, debian13 and later ones. */
static bool is_dhi_distro(const char *s, size_t n)
{
	size_t p = 6;

	if (n <= 6 || (strncmp(s, "debian", 6) != 0 && strncmp(s, "alpine", 6) != 0))
		return false;
	if (!isdigit((unsigned char)s[p]) || !isdigit((unsigned char)s[n - 1]))
		return false;
	for (; p < n; p++)
		if (!isdigit((unsigned char)s[p]) && !(s[p] == '.' && s[p + 1] != '.'))
			return false;
	return true;
}

/* A variant: dev, sdk, fips, stig, compat, sfw, ent or an image's own ([a-z][a-z0-9]*). */
static bool is_variant(const char *s, size_t n)
{
	if (n == 0 || n >= sizeof(((struct dhi_tag *)0)->variants[0]) || !islower((unsigned char)s[0]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]))
			return false;
	return true;
}

int ref_dhi_tag_parse(const char *tag, struct dhi_tag *out)
{
	const char *p = tag, *end;
	size_t n;

	memset(out, 0, sizeof(*out));
	end = strchr(p, '-');
	n = end ? (size_t)(end - p) : strlen(p);
	if (!is_app_version(p, n) || n >= sizeof(out->version))
		return -1;
	memcpy(out->version, p, n);
	for (p = end; p; p = end) {
		p++;
		end = strchr(p, '-');
		n = end ? (size_t)(end - p) : strlen(p);
		if (out->n_variants == 0 && !out->distro[0] && is_dhi_distro(p, n) &&
		    n < sizeof(out->distro)) {
			memcpy(out->distro, p, n);
			continue;
		}
		/* (a distribution is named once, before the variants) */
		if (!is_variant(p, n) || is_dhi_distro(p, n) ||
		    out->n_variants == DHI_TAG_MAX_VARIANTS)
			return -1;
		memcpy(out->variants[out->n_variants++], p, n);
		if ((n == 3 && !strncmp(p, "dev", 3)) || (n == 3 && !strncmp(p, "sdk", 3)))
			out->is_dev = true;
	}
	return 0;
}

static bool repo_is_dhi(const struct tb_ref *r)
{
	const char *last = strrchr(r->repo, '/');

	if (strcmp(r->registry, "dhi.io") == 0)
		return true;
	/* a `dhi` component: a private mirror such as registry.example/dhi/python */
	for (const char *c = r->repo; c; c = strchr(c, '/') ? strchr(c, '/') + 1 : NULL)
		if (!strncmp(c, "dhi", 3) && (c[3] == '/' || c[3] == '\0'))
			return true;
	/* Docker Hub mirrors: <org>/dhi-<image> */
	return strcmp(r->registry, "docker.io") == 0 && last && !strncmp(last + 1, "dhi-", 4);
}

static void add_candidate(struct tb_rule *r, const struct tb_ref *image, const char *tag)
{
	struct tb_ref *c;

	/* a long tag plus `-dev` can pass the 128 characters a tag may have */
	if (r->n == TB_RULE_MAX_CANDIDATES || !tag_ok(tag))
		return;
	c = &r->cand[r->n++];
	c->registry = xstrdup(image->registry);
	c->repo = xstrdup(image->repo);
	c->tag = xstrdup(tag);
	c->digest = NULL;
}

static char *tag_without(const struct dhi_tag *t, int keep)
{
	char *s = xasprintf("%s%s%s", t->version, t->distro[0] ? "-" : "", t->distro);

	for (int i = 0; i < keep; i++) {
		char *next = xasprintf("%s-%s", s, t->variants[i]);

		free(s);
		s = next;
	}
	return s;
}

enum rule_result { RULE_NO, RULE_YES, RULE_SELF };

typedef enum rule_result (*rule_fn)(const struct tb_ref *image, struct tb_rule *r);

/*
 * DHI: <version>[-<distribution>][-<variant>...]. The `-dev` of the same tag
 * first; a runtime variant (fips, stig, compat, an image's own) then without
 * its variants, one at a time from the right: Docker publishes `-fips-dev`
 * (docs/toolbox.md says where this is written), but marks STIG in its
 * catalog rather than always in a tag, and `-compat` has no dev of its own.
 */
static enum rule_result rule_dhi(const struct tb_ref *image, struct tb_rule *r)
{
	struct dhi_tag t;

	if (!image->tag || !repo_is_dhi(image) || ref_dhi_tag_parse(image->tag, &t) < 0)
		return RULE_NO;
	if (t.is_dev) {
		r->why = xasprintf("a DHI `-dev`/`-sdk` image is its own toolbox");
		return RULE_SELF;
	}
	for (int keep = t.n_variants; keep >= 0; keep--) {
		dhi_autofree char *base = tag_without(&t, keep);
		dhi_autofree char *tag = xasprintf("%s-dev", base);

		add_candidate(r, image, tag);
	}
	if (r->n == 0)
		return RULE_YES;
	r->why = xasprintf("DHI image: tag `%s` → `%s` (same distribution and versions, with a "
			   "shell and tools)%s",
			   image->tag, r->cand[0].tag,
			   r->n > 1 ? "; then without its variants, in this order" : "");
	return RULE_YES;
}

static enum rule_result rule_chainguard(const struct tb_ref *image, struct tb_rule *r)
{
	dhi_autofree char *tag = NULL;

	if (!image->tag || strcmp(image->registry, "cgr.dev") != 0)
		return RULE_NO;
	if (ends_with(image->tag, "-dev") || strcmp(image->tag, "dev") == 0) {
		r->why = xasprintf("a Chainguard `-dev` image is its own toolbox");
		return RULE_SELF;
	}
	tag = xasprintf("%s-dev", image->tag);
	add_candidate(r, image, tag);
	r->why = xasprintf("Chainguard image: tag `%s` → `%s`", image->tag, tag);
	return RULE_YES;
}

static enum rule_result rule_distroless(const struct tb_ref *image, struct tb_rule *r)
{
	dhi_autofree char *tag = NULL;

	if (strcmp(image->registry, "gcr.io") != 0 || strncmp(image->repo, "distroless/", 11) != 0)
		return RULE_NO;
	if (image->tag && !strncmp(image->tag, "debug", 5)) {
		r->why = xasprintf("a distroless `debug` image is its own toolbox");
		return RULE_SELF;
	}
	if (!image->tag || strcmp(image->tag, "latest") == 0)
		tag = xstrdup("debug");
	else
		tag = xasprintf("debug-%s", image->tag);
	add_candidate(r, image, tag);
	r->why = xasprintf("distroless image: `:%s` → `:%s` (busybox shell)",
			   image->tag ? image->tag : "latest", tag);
	return RULE_YES;
}

static const struct {
	const char *name;
	rule_fn fn;
} rules[] = {
	{ "dhi", rule_dhi },
	{ "chainguard", rule_chainguard },
	{ "distroless", rule_distroless },
	{ NULL, NULL },
};

void ref_rule_free(struct tb_rule *r)
{
	for (int i = 0; i < r->n; i++)
		ref_free(&r->cand[i]);
	free(r->why);
	free(r->dir);
	memset(r, 0, sizeof(*r));
}

int ref_toolbox_rule(const struct tb_ref *image, const char *default_ref, struct tb_rule *out,
		     struct dhi_err **err)
{
	memset(out, 0, sizeof(*out));
	for (int i = 0; rules[i].name; i++) {
		enum rule_result r = rules[i].fn(image, out);

		if (r == RULE_NO)
			continue;
		out->name = rules[i].name;
		if (r == RULE_SELF) {
			ref_copy(image, &out->cand[0]);
			out->n = 1;
		}
		if (out->n == 0) {
			ref_rule_free(out);
			return dhi_err_set(err, 0,
					   "the %s rule gives no valid toolbox tag for tag `%s` "
					   "(longer than 128 characters): use --toolbox",
					   rules[i].name, image->tag);
		}
		return 0;
	}
	if (default_ref && *default_ref) {
		/* a path, as --toolbox takes one */
		if (default_ref[0] == '/' || default_ref[0] == '.')
			out->dir = xstrdup(default_ref);
		else if (ref_parse(default_ref, &out->cand[0], err) < 0)
			return dhi_err_prefix(err, "default toolbox");
		else
			out->n = 1;
		out->name = "default";
		out->why = xasprintf("no rule matches `%s/%s`: the configured default", image->registry,
				     image->repo);
		return 0;
	}
	{
		dhi_autofree char *s = ref_format(image);

		if (!image->tag && repo_is_dhi(image))
			return dhi_err_set(err, 0,
					   "image `%s` is pinned by digest only: its `-dev` tag "
					   "cannot be derived from a digest (use --toolbox "
					   "%s/%s:<version>-dev)",
					   s, image->registry, image->repo);
		return dhi_err_set(err, 0,
				   "no toolbox rule matches image `%s` and no default is set (use "
				   "--toolbox or --default-toolbox)",
				   s);
	}
}

// SPDX-License-Identifier: Apache-2.0
/* spec.c - parse `dhidebug cp` operands (TARGET:PATH and host paths). */
#include "injector/copy/spec.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"

/* The `:` that ends TARGET in `word`, or NULL when `word` is a host path. */
static const char *target_colon(const char *word)
{
	const char *p = word, *scheme = strstr(word, "://");

	/*
	 * After a scheme, the id may have a `/` (containerd's NAMESPACE/ID), never
	 * a `:`; an image reference has them both (host:port/repo:tag@sha256:…),
	 * so its PATH is the absolute one after the first `:/`.
	 */
	if (scheme && scheme > word && strcspn(word, "/") == (size_t)(scheme - word) + 1)
		return strncmp(word, "image://", 8) == 0 ? strstr(scheme + 3, ":/")
							  : strchr(scheme + 3, ':');
	for (; *p && *p != '/'; p++)
		if (*p == ':')
			return p == word ? NULL : p;
	return NULL;
}

int copy_spec_parse(const char *src, const char *dst, struct copy_spec *out,
		    struct dhi_err **err)
{
	const char *cs = target_colon(src), *cd = target_colon(dst);
	const char *word, *colon;

	memset(out, 0, sizeof(*out));
	if (!*src || !*dst)
		return dhi_err_set(err, 0, "an operand is empty");
	if (cs && cd)
		return dhi_err_set(err, 0, "`%s` and `%s` are both in a container: one of them "
				   "must be a host path", src, dst);
	if (!cs && !cd)
		return dhi_err_set(err, 0, "neither `%s` nor `%s` is TARGET:PATH", src, dst);
	out->dir = cs ? COPY_OUT : COPY_IN;
	word = cs ? src : dst;
	colon = cs ? cs : cd;
	if (!colon[1])
		return dhi_err_set(err, 0, "`%s`: no path after `:`", word);
	out->target = xstrndup(word, (size_t)(colon - word));
	out->cpath = colon[1] == '/' ? xstrdup(colon + 1) : xasprintf("/%s", colon + 1);
	out->hpath = xstrdup(cs ? dst : src);
	return 0;
}

void copy_spec_free(struct copy_spec *s)
{
	free(s->target);
	free(s->cpath);
	free(s->hpath);
	memset(s, 0, sizeof(*s));
}

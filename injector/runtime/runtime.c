// SPDX-License-Identifier: Apache-2.0
/* runtime.c - dispatch a TARGET to the runtime adapters. */
#include "injector/runtime/runtime.h"

#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"

static const struct rt_adapter adapters[] = {
	{ "runc", rt_runc_lookup },
	{ "crun", rt_crun_lookup },
	{ "pid", rt_pid_lookup },
	{ NULL, NULL },
};

void rt_target_free(struct rt_target *t)
{
	free(t->runtime);
	free(t->id);
	free(t->name);
	free(t->image_ref);
	free(t->image_digest);
	memset(t, 0, sizeof(*t));
}

static int resolve_bare(const char *name, const struct rt_opts *opts, struct rt_target *out,
			struct dhi_err **err)
{
	struct rt_target found[4];
	char *searched = xstrdup(""), *candidates = xstrdup("");
	int n = 0, ret = -1;

	for (int i = 0; adapters[i].scheme; i++) {
		struct rt_target t = { 0 };
		char *s;
		int r;

		if (strcmp(adapters[i].scheme, "pid") == 0)
			continue;	/* a number is a pid only when written pid://N */
		r = adapters[i].lookup(name, opts, &t, err);
		if (r < 0)
			goto out;
		s = xasprintf("%s%s%s", searched, *searched ? ", " : "", adapters[i].scheme);
		free(searched);
		searched = s;
		if (r == 0) {
			s = xasprintf("%s%s%s://%s", candidates, *candidates ? ", " : "",
				      adapters[i].scheme, t.id);
			free(candidates);
			candidates = s;
			if (n < 4)
				found[n++] = t;
			else
				rt_target_free(&t);
		}
	}
	if (n == 0) {
		dhi_err_set(err, 0, "no container `%s` in any runtime (searched: %s)", name,
			    searched);
	} else if (n > 1) {
		dhi_err_set(err, 0, "`%s` is ambiguous: %s", name, candidates);
	} else {
		*out = found[0];
		n = 0;
		ret = 0;
	}
	for (int i = 0; i < n; i++)
		rt_target_free(&found[i]);
out:
	free(searched);
	free(candidates);
	return ret;
}

int rt_resolve(const char *spec, const struct rt_opts *opts, struct rt_target *out,
	       struct dhi_err **err)
{
	const char *sep = strstr(spec, "://");

	memset(out, 0, sizeof(*out));
	if (!sep)
		return resolve_bare(spec, opts, out, err);
	for (int i = 0; adapters[i].scheme; i++) {
		size_t n = strlen(adapters[i].scheme);
		int r;

		if ((size_t)(sep - spec) != n || strncmp(spec, adapters[i].scheme, n) != 0)
			continue;
		r = adapters[i].lookup(sep + 3, opts, out, err);
		if (r > 0)
			return dhi_err_set(err, 0, "no container `%s` in %s", sep + 3,
					   adapters[i].scheme);
		return r;
	}
	return dhi_err_set(err, 0, "unknown target `%s` (use runc://ID, crun://ID or pid://PID)",
			   spec);
}

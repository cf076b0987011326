// SPDX-License-Identifier: Apache-2.0
/* runtime.c - dispatch a TARGET to the runtime adapters; search them all for a bare name. */
#include "injector/runtime/runtime.h"

#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/xalloc.h"
#include "injector/runtime/adapter.h"

/*
 * Higher-level runtimes first: a podman container is also a runc container,
 * and when both report the same process the first one's richer record (name,
 * image) is the one kept.
 */
static const struct rt_adapter *const adapters[] = {
	&rt_docker_adapter, &rt_podman_adapter, &rt_containerd_adapter, &rt_crio_adapter,
	&rt_runc_adapter,   &rt_crun_adapter,   &rt_pid_adapter,	NULL,
};

const char *rt_schemes(void)
{
	return "docker, podman, containerd, crio, runc, crun, pid";
}

static void strv_free(char **v)
{
	for (char **p = v; p && *p; p++)
		free(*p);
	free(v);
}

void rt_process_free(struct rt_process *p)
{
	if (!p)
		return;
	strv_free(p->args);
	strv_free(p->env);
	free(p->user);
	free(p->cwd);
	free(p);
}

void rt_fs_free(struct rt_fs *fs)
{
	if (!fs)
		return;
	strv_free(fs->layers);
	for (size_t i = 0; i < fs->n_mounts; i++) {
		free(fs->mounts[i].source);
		free(fs->mounts[i].destination);
	}
	free(fs->mounts);
	free(fs->upper);
	free(fs->work);
	free(fs);
}

void rt_target_free(struct rt_target *t)
{
	free(t->runtime);
	free(t->id);
	free(t->name);
	free(t->image_ref);
	free(t->image_tagged);
	free(t->image_digest);
	free(t->pod_name);
	free(t->pod_namespace);
	free(t->container_name);
	for (char **l = t->labels; l && *l; l++)
		free(*l);
	free(t->labels);
	free(t->state);
	free(t->unusable);
	rt_fs_free(t->fs);
	rt_process_free(t->proc);
	memset(t, 0, sizeof(*t));
}

void rt_list_push(struct rt_list *l, struct rt_target *t)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	l->v[l->n++] = *t;
	memset(t, 0, sizeof(*t));
}

void rt_list_free(struct rt_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		rt_target_free(&l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

char *rt_target_uri(const struct rt_target *t)
{
	return xasprintf("%s://%s", t->runtime, t->id);
}

/* 64 hex digits: a docker/podman/containerd container id */
static bool is_full_id(const char *s, size_t n)
{
	return n == 64 && strspn(s, "0123456789abcdef") >= 64;
}

char *rt_target_label(const struct rt_target *t)
{
	const char *id = t->id, *base = strrchr(id, '/');
	size_t pre = base ? (size_t)(base + 1 - id) : 0;

	/* a name that is only the id (containerd's ID without its NS/) is none */
	if (t->name && *t->name && strcmp(t->name, t->id) != 0 && strcmp(t->name, id + pre) != 0)
		return xasprintf("%s://%s", t->runtime, t->name);
	/* as docker ps shows ids: 12 digits (containerd's NS/ID keeps its namespace) */
	if (is_full_id(id + pre, strlen(id + pre)))
		return xasprintf("%s://%.*s%.12s", t->runtime, (int)pre, id, id + pre);
	return rt_target_uri(t);
}

/* Two records of one process: the same pid with the same start time. */
static bool same_process(const struct rt_target *a, const struct rt_target *b)
{
	return a->pid > 0 && a->pid == b->pid && a->start_time == b->start_time;
}

/* Checks every record against /proc, then drops the later duplicates of a process. */
static void check_and_dedup(struct rt_list *l, size_t from)
{
	size_t keep = from;

	for (size_t i = from; i < l->n; i++)
		rt_check_process(&l->v[i]);
	for (size_t i = from; i < l->n; i++) {
		bool dup = false;

		for (size_t j = 0; j < keep && !dup; j++)
			dup = same_process(&l->v[j], &l->v[i]);
		if (dup)
			rt_target_free(&l->v[i]);
		else
			l->v[keep++] = l->v[i];
	}
	l->n = keep;
}

static char *join_uris(const struct rt_list *l)
{
	char *s = xstrdup("");

	for (size_t i = 0; i < l->n; i++) {
		dhi_autofree char *uri = rt_target_uri(&l->v[i]);
		char *n = xasprintf("%s%s%s%s%s%s", s, i ? ", " : "", uri,
				    l->v[i].unusable ? " (" : "",
				    l->v[i].unusable ? l->v[i].unusable : "",
				    l->v[i].unusable ? ")" : "");

		free(s);
		s = n;
	}
	return s;
}

/* A stopped container whose files are known: opened in fresh namespaces when asked for. */
static bool openable_stopped(const struct rt_target *t, const struct rt_opts *opts)
{
	return opts && opts->stopped && t->exited && t->fs;
}

/* One match is the target, if it can be debugged; none or several are errors. */
static int pick(const char *what, struct rt_list *found, const char *none,
		const struct rt_opts *opts, struct rt_target *out, struct dhi_err **err)
{
	if (found->n == 0)
		return dhi_err_set(err, 0, "no container `%s` %s", what, none);
	if (found->n > 1) {
		dhi_autofree char *list = join_uris(found);

		return dhi_err_set(err, 0, "`%s` is ambiguous: %s (name one of them)", what, list);
	}
	if (found->v[0].unusable && !openable_stopped(&found->v[0], opts)) {
		dhi_autofree char *uri = rt_target_uri(&found->v[0]);

		return dhi_err_set(err, 0, "container `%s` cannot be debugged: %s", uri,
				   found->v[0].unusable);
	}
	*out = found->v[0];
	memset(&found->v[0], 0, sizeof(found->v[0]));
	return 0;
}

static void append_name(char **s, const char *name)
{
	char *n = xasprintf("%s%s%s", *s, **s ? ", " : "", name);

	free(*s);
	*s = n;
}

static int resolve_bare(const char *name, const struct rt_opts *opts, struct rt_target *out,
			struct dhi_err **err)
{
	struct rt_list found = { 0 };
	dhi_autofree char *searched = xstrdup(""), *absent = xstrdup(""), *none = NULL;
	int ret = -1;

	for (int i = 0; adapters[i]; i++) {
		const struct rt_adapter *a = adapters[i];
		int r;

		if (!a->in_bare)
			continue;
		r = a->probe(opts, err);
		if (r < 0) {
			dhi_err_prefix(err, "cannot search %s for `%s`", a->scheme, name);
			goto out;
		}
		if (r == 0) {
			append_name(&absent, a->scheme);
			continue;
		}
		append_name(&searched, a->scheme);
		if (!a->accepts(name))
			continue;
		if (a->lookup(name, opts, &found, err) < 0) {
			dhi_err_prefix(err, "cannot search %s for `%s`", a->scheme, name);
			goto out;
		}
	}
	check_and_dedup(&found, 0);
	none = xasprintf("in any runtime (searched: %s%s%s)", *searched ? searched : "none",
			 *absent ? "; not on this host: " : "", absent);
	ret = pick(name, &found, none, opts, out, err);
out:
	rt_list_free(&found);
	return ret;
}

int rt_resolve(const char *spec, const struct rt_opts *opts, struct rt_target *out,
	       struct dhi_err **err)
{
	const char *sep = strstr(spec, "://");
	struct rt_list found = { 0 };
	int ret;

	memset(out, 0, sizeof(*out));
	if (!sep)
		return resolve_bare(spec, opts, out, err);
	for (int i = 0; adapters[i]; i++) {
		const struct rt_adapter *a = adapters[i];
		size_t n = strlen(a->scheme);
		dhi_autofree char *none = NULL;

		if ((size_t)(sep - spec) != n || strncmp(spec, a->scheme, n) != 0)
			continue;
		if (!sep[3])
			return dhi_err_set(err, 0, "target `%s` names no container", spec);
		if (a->lookup(sep + 3, opts, &found, err) < 0) {
			rt_list_free(&found);
			return -1;
		}
		check_and_dedup(&found, 0);
		none = xasprintf("in %s", a->scheme);
		ret = pick(sep + 3, &found, none, opts, out, err);
		rt_list_free(&found);
		return ret;
	}
	return dhi_err_set(err, 0, "unknown target `%s` (runtimes: %s)", spec, rt_schemes());
}

int rt_list_all(const struct rt_opts *opts, struct rt_list *out, char **failed)
{
	int nfailed = 0;

	*failed = NULL;
	for (int i = 0; adapters[i]; i++) {
		const struct rt_adapter *a = adapters[i];
		struct dhi_err *err = NULL;
		size_t before = out->n;
		int r;

		if (!a->list)
			continue;
		r = a->probe(opts, &err);
		if (r > 0)
			r = a->list(opts, out, &err) < 0 ? -1 : 1;
		if (r < 0) {
			dhi_autofree char *why = dhi_err_string(err);
			char *s = xasprintf("%s%s%s: %s", *failed ? *failed : "", *failed ? "; " : "",
					    a->scheme, why);

			free(*failed);
			*failed = s;
			nfailed++;
			dhi_err_clear(&err);
		}
		check_and_dedup(out, before);
	}
	return nfailed;
}

// SPDX-License-Identifier: Apache-2.0
/* ls.c - `dhidebug ls [--json]`: list the containers of every runtime found on the host. */
#include "injector/ls.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/cleanup.h"
#include "common/xalloc.h"

/* ISO 8601 UTC start time of the target's process, or NULL when not known. */
static char *started(const struct rt_target *t)
{
	long long at = t->pid > 0 ? rt_process_started(t->start_time) : 0;
	time_t tt = (time_t)at;
	struct tm tm;
	char buf[32];

	if (at <= 0 || !gmtime_r(&tt, &tm) || !strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm))
		return NULL;
	return xstrdup(buf);
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *to_json(const struct rt_target *t)
{
	dhi_autofree char *uri = rt_target_uri(t), *when = started(t);
	json_t *o = json_object(), *labels = json_object();

	json_object_set_new(o, "runtime", json_string(t->runtime));
	json_object_set_new(o, "id", json_string(t->id));
	json_object_set_new(o, "name", str_or_null(t->name));
	json_object_set_new(o, "target", json_string(uri));
	json_object_set_new(o, "image_ref", str_or_null(t->image_ref));
	json_object_set_new(o, "image_digest", str_or_null(t->image_digest));
	json_object_set_new(o, "pid", t->pid > 0 ? json_integer(t->pid) : json_null());
	json_object_set_new(o, "started", str_or_null(when));
	json_object_set_new(o, "state", str_or_null(t->state));
	json_object_set_new(o, "debuggable", json_boolean(!t->unusable));
	json_object_set_new(o, "why_not", str_or_null(t->unusable));
	/* a stopped container whose files a session can still open in fresh namespaces */
	json_object_set_new(o, "files", json_boolean(t->exited && t->fs));
	json_object_set_new(o, "pod_name", str_or_null(t->pod_name));
	json_object_set_new(o, "pod_namespace", str_or_null(t->pod_namespace));
	json_object_set_new(o, "container_name", str_or_null(t->container_name));
	for (char **l = t->labels; l && *l; l++) {
		char *eq = strchr(*l, '=');
		dhi_autofree char *k = xstrndup(*l, (size_t)(eq - *l));

		json_object_set_new(labels, k, json_string(eq + 1));
	}
	json_object_set_new(o, "labels", labels);
	return o;
}

static void print_json(const struct rt_list *l, FILE *out)
{
	json_t *a = json_array();
	char *s;

	for (size_t i = 0; i < l->n; i++)
		json_array_append_new(a, to_json(&l->v[i]));
	s = json_dumps(a, JSON_INDENT(2) | JSON_ENSURE_ASCII);
	fprintf(out, "%s\n", s ? s : "[]");
	free(s);
	json_decref(a);
}

/* 64-hex ids and digests are shortened to 12 hex digits, as docker ps does. */
static const char *shorter(const char *s, char *buf, size_t size)
{
	const char *hex = s && strncmp(s, "sha256:", 7) == 0 ? s + 7 : s;

	if (!s)
		return "-";
	if (strlen(hex) == 64 && strspn(hex, "0123456789abcdef") == 64) {
		snprintf(buf, size, "%.*s%.12s", (int)(hex - s), s, hex);
		return buf;
	}
	return s;
}

static void print_table(const struct rt_list *l, FILE *out)
{
	fprintf(out, "%-10s  %-19s  %-24s  %-30s  %-19s  %7s  %-20s  %s\n", "RUNTIME", "ID",
		"NAME", "IMAGE", "DIGEST", "PID", "STARTED", "DEBUG");
	for (size_t i = 0; i < l->n; i++) {
		const struct rt_target *t = &l->v[i];
		dhi_autofree char *when = started(t), *name = NULL, *debug = NULL;
		dhi_autofree char *line = NULL, *shown = NULL;
		char idb[80], digb[80], nameb[80], pid[16] = "-";

		if (t->pod_name)
			name = xasprintf("%s/%s/%s", t->pod_namespace ? t->pod_namespace : "-",
					 t->pod_name, t->name);
		if (t->pid > 0)
			snprintf(pid, sizeof(pid), "%d", (int)t->pid);
		debug = !t->unusable		 ? xstrdup("yes")
			: t->exited && t->fs ? xasprintf("its files: %s", t->unusable)
					     : xasprintf("no: %s", t->unusable);
		line = xasprintf("%-10s  %-19s  %-24s  %-30s  %-19s  %7s  %-20s  %s", t->runtime,
			shorter(t->id, idb, sizeof(idb)), name ? name : shorter(t->name, nameb, sizeof(nameb)),
			t->image_ref ? t->image_ref : "-",
			shorter(t->image_digest, digb, sizeof(digb)), pid, when ? when : "-", debug);
		/* (names, images and reasons are the runtimes' words) */
		shown = dhi_printable(line);
		fprintf(out, "%s\n", shown);
	}
}

int ls_run(const struct rt_opts *opts, bool json, FILE *out, struct dhi_err **err)
{
	struct rt_list l = { 0 };
	dhi_autofree char *failed = NULL;

	rt_list_all(opts, &l, &failed);
	if (json)
		print_json(&l, out);
	else
		print_table(&l, out);
	fflush(out);
	rt_list_free(&l);
	if (failed)
		return dhi_err_set(err, 0, "cannot list every runtime: %s", failed);
	return 0;
}

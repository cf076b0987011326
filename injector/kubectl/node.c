// SPDX-License-Identifier: Apache-2.0
/* node.c - --mode node: the target container's runtime ID, the node pod's manifest and its watch. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/xalloc.h"
#include "injector/kubectl/kube.h"
#include "injector/kubectl/node.h"

/* containerStatuses[].containerID prefixes, and how dhidebug on the node names such a container */
static const struct runtime_form {
	const char *prefix, *runtime, *target_prefix;
} runtime_forms[] = {
	/* the CRI plugin of containerd keeps Kubernetes containers in containerd namespace k8s.io */
	{ "containerd://", "containerd", "containerd://k8s.io/" },
	{ "cri-o://", "crio", "crio://" },
	{ NULL, NULL, NULL },
};

/*
 * What the node pod mounts from the host, at the same paths: the runtime's
 * state (dhidebug reads the container's pid and config there), the host's
 * cgroup tree (a privileged container's own /sys/fs/cgroup is its cgroup
 * namespace's, and dhidebug joins the target's cgroups), and dhidebug's cache
 * and recordings. runtime NULL: for every runtime.
 */
static const struct host_dir {
	const char *runtime, *volume, *path, *type;
	bool read_only;
} host_dirs[] = {
	{ "containerd", "containerd-state", "/run/containerd", "Directory", true },
	{ "crio", "crio-state", "/run/crio", "Directory", true },
	{ "crio", "containers-storage", "/var/lib/containers/storage", "Directory", true },
	{ "crio", "containers-runroot", "/run/containers/storage", "Directory", true },
	{ NULL, "cgroup", "/sys/fs/cgroup", "Directory", false },
	{ NULL, "dhidebug-cache", "/var/lib/dhidebug", "DirectoryOrCreate", false },
	{ NULL, NULL, NULL, NULL, false },
};

static const char *const pull_errors[] = { "ErrImagePull", "ImagePullBackOff", "InvalidImageName",
					   "ErrImageNeverPull", "RegistryUnavailable", NULL };

bool kube_is_pull_error(const char *reason)
{
	for (const char *const *p = pull_errors; reason && *p; p++)
		if (strcmp(reason, *p) == 0)
			return true;
	return false;
}

static const char *str_at(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static bool is_hex64(const char *s)
{
	return strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
}

/* Why a container is not running, from its state (a new string). */
static char *not_running_why(json_t *state)
{
	json_t *w = json_object_get(state, "waiting"), *t = json_object_get(state, "terminated");
	dhi_autofree char *reason = kube_text_at(t ? t : w, "reason", "no reason");

	if (t)
		return xasprintf("terminated, %s, exit code %lld", reason,
				 (long long)json_integer_value(json_object_get(t, "exitCode")));
	if (w)
		return xasprintf("waiting, %s", reason);
	return xstrdup("no state");
}

int kube_node_target(json_t *pod, const char *container, struct kube_node_target *t,
		     struct dhi_err **err)
{
	json_t *st = json_object_get(json_object_get(pod, "status"), "containerStatuses"), *cs;
	json_t *found = NULL;
	const char *node = str_at(json_object_get(pod, "spec"), "nodeName"), *cid;
	size_t i;

	memset(t, 0, sizeof(*t));
	if (!node || !*node)
		return dhi_err_set(err, 0, "the pod is not on a node yet (no spec.nodeName)");
	/* (a DNS subdomain, as the API server validates it; it is printed and sent back) */
	if (strlen(node) > 253 ||
	    strspn(node, "abcdefghijklmnopqrstuvwxyz0123456789.-") != strlen(node))
		return dhi_err_set(err, 0, "the pod's spec.nodeName is not a node name");
	json_array_foreach(st, i, cs) {
		const char *n = str_at(cs, "name");

		if (n && strcmp(n, container) == 0)
			found = cs;
	}
	if (!found)
		return dhi_err_set(err, 0, "container `%s` has no status yet", container);
	if (!json_object_get(json_object_get(found, "state"), "running")) {
		dhi_autofree char *why = not_running_why(json_object_get(found, "state"));

		return dhi_err_set(err, 0, "container `%s` is not running (%s); --mode node needs a "
					   "running container", container, why);
	}
	cid = str_at(found, "containerID");
	if (!cid)
		return dhi_err_set(err, 0, "container `%s` has no containerID", container);
	for (const struct runtime_form *f = runtime_forms; f->prefix; f++) {
		size_t n = strlen(f->prefix);

		if (strncmp(cid, f->prefix, n) != 0)
			continue;
		if (!is_hex64(cid + n))
			return dhi_err_set(err, 0, "container `%s` has a containerID that is not "
						   "%s<64 hex digits>", container, f->prefix);
		t->node = xstrdup(node);
		t->id = xstrdup(cid + n);
		t->runtime = f->runtime;
		t->dhidebug_target = xasprintf("%s%s", f->target_prefix, t->id);
		t->image = str_at(found, "image") ? xstrdup(str_at(found, "image")) : NULL;
		t->image_id = str_at(found, "imageID") ? xstrdup(str_at(found, "imageID")) : NULL;
		return 0;
	}
	/* (only the scheme: the rest comes from the API server, and the message is one line) */
	{
		dhi_autofree char *scheme = xstrndup(cid, strcspn(cid, ":"));
		dhi_autofree char *shown = kube_printable(scheme);

		return dhi_err_set(err, 0, "container `%s` runs on a runtime --mode node does not "
					   "know (`%s`); it knows containerd:// and cri-o://", container,
				   shown);
	}
}

void kube_node_target_free(struct kube_node_target *t)
{
	free(t->node);
	free(t->id);
	free(t->dhidebug_target);
	free(t->image);
	free(t->image_id);
	memset(t, 0, sizeof(*t));
}

/* A label value: at most 63 of [A-Za-z0-9_.-], alphanumeric at both ends (or empty). */
static bool is_label_value(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 63 &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n &&
	       strchr("_.-", s[0]) == NULL && strchr("_.-", s[n - 1]) == NULL;
}

json_t *kube_dhidebug_command(const char *profile, const char *toolbox, const char *target,
			      char *const *program)
{
	json_t *cmd = json_array();

	json_array_append_new(cmd, json_string("dhidebug"));
	json_array_append_new(cmd, json_string("--profile"));
	json_array_append_new(cmd, json_string(profile));
	if (toolbox) {
		json_array_append_new(cmd, json_string("--toolbox"));
		json_array_append_new(cmd, json_string(toolbox));
	}
	json_array_append_new(cmd, json_string(target));
	if (program) {
		json_array_append_new(cmd, json_string("--"));
		for (char *const *a = program; *a; a++)
			json_array_append_new(cmd, json_string(*a));
	}
	return cmd;
}

/* A uid as the API server writes one (a UUID): what goes back in a precondition and a message. */
static bool is_uid(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	return n > 0 && n <= 64 &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") == n;
}

int kube_node_pod_check(json_t *pod, const char *ns, const char *session, const char **name,
			const char **uid, struct dhi_err **err)
{
	json_t *meta = json_object_get(pod, "metadata"), *labels = json_object_get(meta, "labels");
	const char *n = str_at(meta, "name"), *pns = str_at(meta, "namespace");
	const char *u = str_at(meta, "uid"), *sess = str_at(labels, "dhidebug.io/session");
	const char *comp = str_at(labels, "app.kubernetes.io/component");
	size_t plen = strlen(KUBE_NODE_PREFIX);
	dhi_autofree char *shown_n = kube_printable(n ? n : "");
	dhi_autofree char *shown_ns = kube_printable(pns ? pns : "");

	if (!n || strncmp(n, KUBE_NODE_PREFIX, plen) != 0 || strlen(n) == plen ||
	    strlen(n) > 63 ||
	    strspn(n + plen, "abcdefghijklmnopqrstuvwxyz0123456789") != strlen(n + plen))
		return dhi_err_set(err, 0, "it names pod `%s`, not one of generateName `%s`",
				   shown_n, KUBE_NODE_PREFIX);
	if (!pns || strcmp(pns, ns) != 0)
		return dhi_err_set(err, 0, "it names pod `%s` in namespace `%s`, not `%s`", shown_n,
				   shown_ns, ns);
	if (!sess || strcmp(sess, session) != 0 || !comp || strcmp(comp, "node-session") != 0)
		return dhi_err_set(err, 0, "pod `%s` does not carry this session's labels "
					   "(dhidebug.io/session=%s)", n, session);
	if (!is_uid(u))
		return dhi_err_set(err, 0, "pod `%s` has no uid", n);
	*name = n;
	*uid = u;
	return 0;
}

char *kube_delete_options(const char *uid)
{
	json_auto_t *o = json_pack("{s:s, s:s, s:i, s:{s:s}}", "apiVersion", "v1", "kind",
				   "DeleteOptions", "gracePeriodSeconds", 0, "preconditions",
				   "uid", uid);

	return json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
}

json_t *kube_node_pod(const struct kube_node_spec *s)
{
	json_t *labels, *annotations, *volumes = json_array(), *mounts = json_array(), *ctr, *cmd;
	dhi_autofree char *target = xasprintf("%s/%s/%s", s->target_namespace, s->target_pod,
					      s->target_container);

	labels = json_pack("{s:s, s:s, s:s}", "app.kubernetes.io/name", "dhidebug",
			   "app.kubernetes.io/component", "node-session", "dhidebug.io/session",
			   s->session);
	/* pod names may be longer than a label value can be: the annotation always names it */
	if (is_label_value(s->target_pod))
		json_object_set_new(labels, "dhidebug.io/target-pod", json_string(s->target_pod));
	annotations = json_pack("{s:s, s:s}", "dhidebug.io/target", target,
				"dhidebug.io/target-container-id", s->target->id);
	for (const struct host_dir *d = host_dirs; d->volume; d++) {
		if (d->runtime && strcmp(d->runtime, s->target->runtime) != 0)
			continue;
		json_array_append_new(volumes, json_pack("{s:s, s:{s:s, s:s}}", "name", d->volume,
							 "hostPath", "path", d->path, "type",
							 d->type));
		json_array_append_new(mounts, json_pack("{s:s, s:s, s:b}", "name", d->volume,
							"mountPath", d->path, "readOnly",
							d->read_only));
	}
	cmd = s->command ? s->command
			 : kube_dhidebug_command(s->profile, s->toolbox, s->target->dhidebug_target,
						 s->program);
	ctr = json_pack("{s:s, s:s, s:o, s:b, s:b, s:b, s:{s:b}, s:o}", "name", KUBE_NODE_CONTAINER,
			"image", s->image, "command", cmd, "stdin", 1, "stdinOnce", 1,
			"tty", !s->no_tty, "securityContext", "privileged", 1, "volumeMounts", mounts);
	return json_pack("{s:s, s:s, s:{s:s, s:s, s:o, s:o},"
			 " s:{s:s, s:b, s:s, s:I, s:b, s:[{s:s}], s:[o], s:o}}",
			 "apiVersion", "v1", "kind", "Pod",
			 "metadata", "generateName", KUBE_NODE_PREFIX, "namespace", s->namespace,
			 "labels", labels, "annotations", annotations,
			 "spec", "nodeName", s->target->node, "hostPID", 1, "restartPolicy", "Never",
			 "activeDeadlineSeconds", (json_int_t)s->deadline,
			 "automountServiceAccountToken", 0, "tolerations", "operator", "Exists",
			 "containers", ctr, "volumes", volumes);
}

/* A PodScheduled condition that says the pod cannot be placed, or NULL. */
static json_t *unschedulable(json_t *status)
{
	json_t *conds = json_object_get(status, "conditions"), *c;
	size_t i;

	json_array_foreach(conds, i, c) {
		const char *type = str_at(c, "type"), *st = str_at(c, "status");
		const char *reason = str_at(c, "reason");

		if (type && st && reason && strcmp(type, "PodScheduled") == 0 &&
		    strcmp(st, "False") == 0 && strcmp(reason, "Unschedulable") == 0)
			return c;
	}
	return NULL;
}

int kube_node_on_event(const char *line, void *arg, struct dhi_err **err)
{
	struct kube_node_wait *w = arg;
	dhi_autofree char *what = xasprintf("pod `%s`", w->name);
	json_auto_t *ev = NULL;
	const char *type, *phase;
	json_t *obj, *status, *cs, *c, *u;
	size_t i;

	/* (every text of the API server goes through kube_text_at: it reaches the terminal) */
	if (kube_watch_event(line, what, &ev, &type, &obj, err) < 0)
		return -1;
	/* (the watch selects our pod by name: an event of another object says nothing of it) */
	{
		const char *n = str_at(json_object_get(obj, "metadata"), "name");
		const char *id = str_at(json_object_get(obj, "metadata"), "uid");

		if ((n && strcmp(n, w->name) != 0) || (w->uid && id && strcmp(id, w->uid) != 0))
			return 0;
	}
	status = json_object_get(obj, "status");
	if ((u = unschedulable(status))) {
		dhi_autofree char *m = kube_text_at(u, "message", "no message");

		return dhi_err_set(err, 0, "pod `%s` cannot be scheduled on node `%s`: %s", w->name,
				   w->node, m);
	}
	cs = json_object_get(status, "containerStatuses");
	json_array_foreach(cs, i, c) {
		json_t *state = json_object_get(c, "state"), *wt, *tm;
		dhi_autofree char *reason = NULL, *msg = NULL;

		if (!str_at(c, "name") || strcmp(str_at(c, "name"), KUBE_NODE_CONTAINER) != 0)
			continue;
		if (json_object_get(state, "running"))
			return 1;
		if ((tm = json_object_get(state, "terminated"))) {
			reason = kube_text_at(tm, "reason", "?");
			msg = kube_text_at(tm, "message", "");
			return dhi_err_set(err, 0, "dhidebug in pod `%s` exited before the attach "
						   "(code %lld, %s): %s", w->name,
					   (long long)json_integer_value(json_object_get(tm, "exitCode")),
					   reason, msg);
		}
		wt = json_object_get(state, "waiting");
		if (!str_at(wt, "reason"))
			continue;
		reason = kube_text_at(wt, "reason", "");
		msg = str_at(wt, "message") ? kube_text_at(wt, "message", "") : NULL;
		if (kube_is_pull_error(str_at(wt, "reason")))
			return dhi_err_set(err, 0, "cannot pull the dhidebug image `%s` (%s): %s; "
						   "give another with --image", w->image, reason,
					   msg ? msg : "no message");
		if (strcmp(reason, "ContainerCreating") != 0 && strcmp(reason, "PodInitializing") != 0)
			fprintf(stderr, "kubectl-dhidebug: waiting: %s%s%s\n", reason, msg ? ": " : "",
				msg ? msg : "");
	}
	phase = str_at(status, "phase");
	/* a pod the kubelet refused (node affinity, resources) fails without a container status */
	if (phase && (strcmp(phase, "Failed") == 0 || strcmp(phase, "Succeeded") == 0)) {
		dhi_autofree char *reason = kube_text_at(status, "reason", "no reason");
		dhi_autofree char *msg = kube_text_at(status, "message", "no message");

		return dhi_err_set(err, 0, "pod `%s` ended (%s, %s): %s", w->name, phase, reason,
				   msg);
	}
	return 0;
}

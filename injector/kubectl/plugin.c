// SPDX-License-Identifier: Apache-2.0
/* plugin.c - kubectl-dhidebug: add a dhidebug ephemeral container to a pod and attach to it. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <curl/curl.h>

#include "common/cleanup.h"
#include "common/err.h"
#include "common/xalloc.h"
#include "injector/kubectl/attach.h"
#include "injector/kubectl/kube.h"

#ifndef DHIDEBUG_VERSION
#define DHIDEBUG_VERSION "0.0.0"
#endif
#define DEFAULT_IMAGE "ghcr.io/dhidebug/dhidebug:" DHIDEBUG_VERSION

struct opts {
	const char *pod, *container, *namespace, *profile, *toolbox, *image, *mode;
	const char *kubeconfig, *context, *record_dir;
	long timeout;
	bool no_attach, no_record;
	char **program; /* after `--`, NULL-terminated; NULL for the shell */
};

/*
 * What the ephemeral container itself needs so that dhidebug can enter the
 * target (setns into its mount namespace, ptrace-read /proc/<pid>/ns, build the
 * private view, then drop to the profile), plus what the profile hands on.
 * `sysadmin` gets a privileged container instead: it may need any capability.
 */
static const struct profile_caps {
	const char *name;
	const char *caps[16];
} profile_caps[] = {
	{ "observe", { "DAC_READ_SEARCH", NULL } },
	{ "general", { "KILL", "DAC_OVERRIDE", "CHOWN", "FOWNER", NULL } },
	{ "netadmin", { "KILL", "DAC_OVERRIDE", "CHOWN", "FOWNER", "NET_ADMIN", "NET_RAW", NULL } },
	{ "sysadmin", { NULL } },
	{ NULL, { NULL } },
};
static const char *const entry_caps[] = { "SYS_ADMIN", "SYS_CHROOT", "SYS_PTRACE", "SETPCAP",
					  "SETUID",    "SETGID",     NULL };

static void usage(FILE *f)
{
	fprintf(f,
		"usage: kubectl dhidebug <pod> [-c <container>] [-n <namespace>] [--profile=<p>]\n"
		"                        [--toolbox=<ref>] [--image=<image>] [--mode=ephemeral|node]\n"
		"                        [--kubeconfig=<file>] [--context=<name>] [--timeout=<s>]\n"
		"                        [--record-dir=<dir>] [--no-record] [--no-attach]\n"
		"                        [-- <program> [<arg>...]]\n"
		"\n"
		"Adds an ephemeral container running dhidebug to <pod>, targeting <container>\n"
		"(-c, else the kubectl.kubernetes.io/default-container annotation, else the only\n"
		"container), waits until it runs and attaches to it with `kubectl attach -it`\n"
		"on a pty of its own, recording the session on this side.\n"
		"\n"
		"  -c, --container=<name>   the container to debug\n"
		"  -n, --namespace=<ns>     the pod's namespace (default: the context's)\n"
		"      --profile=<p>        observe, general (default), netadmin or sysadmin\n"
		"      --toolbox=<ref>      the toolbox image dhidebug mounts (default: its rules)\n"
		"      --image=<image>      the dhidebug image (default: " DEFAULT_IMAGE ")\n"
		"      --mode=ephemeral     an ephemeral container (the only mode so far)\n"
		"      --timeout=<s>        how long to wait for the container to run (default 120)\n"
		"      --record-dir=<dir>   where the recording goes (default: for root\n"
		"                           /var/lib/dhidebug/sessions, else\n"
		"                           $XDG_STATE_HOME/dhidebug/sessions)\n"
		"      --no-record          attach without recording\n"
		"      --no-attach          print the attach command instead of running it\n"
		"  -h, --help               this text\n");
}

static int parse_args(int argc, char **argv, struct opts *o, struct dhi_err **err)
{
	enum { O_PROFILE = 256, O_TOOLBOX, O_IMAGE, O_MODE, O_KUBECONFIG, O_CONTEXT, O_TIMEOUT,
	       O_NOATTACH, O_RECORD_DIR, O_NORECORD };
	static const struct option longopts[] = {
		{ "container", required_argument, NULL, 'c' },
		{ "namespace", required_argument, NULL, 'n' },
		{ "profile", required_argument, NULL, O_PROFILE },
		{ "toolbox", required_argument, NULL, O_TOOLBOX },
		{ "image", required_argument, NULL, O_IMAGE },
		{ "mode", required_argument, NULL, O_MODE },
		{ "kubeconfig", required_argument, NULL, O_KUBECONFIG },
		{ "context", required_argument, NULL, O_CONTEXT },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "no-attach", no_argument, NULL, O_NOATTACH },
		{ "record-dir", required_argument, NULL, O_RECORD_DIR },
		{ "no-record", no_argument, NULL, O_NORECORD },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;
	char *end;

	*o = (struct opts){ .profile = "general", .image = DEFAULT_IMAGE, .mode = "ephemeral",
			    .timeout = 120 };
	/* options may come before and after the pod; everything after `--` is the program */
	for (;;) {
		ch = getopt_long(argc, argv, "+c:n:h", longopts, NULL);
		if (ch == -1) {
			if (optind >= argc)
				break;
			if (strcmp(argv[optind - 1], "--") == 0 && optind > 1) {
				o->program = argv + optind;
				break;
			}
			if (o->pod)
				return dhi_err_set_status(err, 2, 0, "unexpected argument `%s` (a "
							  "program goes after `--`)", argv[optind]);
			o->pod = argv[optind++];
			continue;
		}
		switch (ch) {
		case 'c': o->container = optarg; break;
		case 'n': o->namespace = optarg; break;
		case O_PROFILE: o->profile = optarg; break;
		case O_TOOLBOX: o->toolbox = optarg; break;
		case O_IMAGE: o->image = optarg; break;
		case O_MODE: o->mode = optarg; break;
		case O_KUBECONFIG: o->kubeconfig = optarg; break;
		case O_CONTEXT: o->context = optarg; break;
		case O_NOATTACH: o->no_attach = true; break;
		case O_RECORD_DIR: o->record_dir = optarg; break;
		case O_NORECORD: o->no_record = true; break;
		case O_TIMEOUT:
			errno = 0;
			o->timeout = strtol(optarg, &end, 10);
			if (errno || *end || o->timeout <= 0)
				return dhi_err_set_status(err, 2, 0, "invalid --timeout `%s`", optarg);
			break;
		case 'h': usage(stdout); exit(0);
		default: return dhi_err_set_status(err, 2, 0, "see `kubectl dhidebug --help`");
		}
	}
	if (!o->pod)
		return dhi_err_set_status(err, 2, 0, "no pod given (see `kubectl dhidebug --help`)");
	if (strcmp(o->mode, "ephemeral") != 0)
		return dhi_err_set_status(err, 2, 0, "--mode `%s` is not supported (only `ephemeral`)",
					  o->mode);
	for (const struct profile_caps *p = profile_caps; p->name; p++)
		if (strcmp(p->name, o->profile) == 0)
			return 0;
	return dhi_err_set_status(err, 2, 0, "unknown profile `%s`", o->profile);
}

/* Path segments come from the command line: allow only what a DNS name may hold. */
static int check_name(const char *what, const char *s, struct dhi_err **err)
{
	if (!*s || strlen(s) > 253 || strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-.") != strlen(s))
		return dhi_err_set_status(err, 2, 0, "invalid %s `%s`", what, s);
	return 0;
}

static int choose_container(json_t *pod, const char *want, const char **out, struct dhi_err **err)
{
	json_t *ctrs = json_object_get(json_object_get(pod, "spec"), "containers");
	json_t *ann = json_object_get(json_object_get(pod, "metadata"), "annotations");
	json_t *def = json_object_get(ann, "kubectl.kubernetes.io/default-container");
	const char *name = want;
	size_t i;
	json_t *c;

	if (!name && json_is_string(def))
		name = json_string_value(def);
	if (!name) {
		if (json_array_size(ctrs) != 1)
			return dhi_err_set_status(err, 2, 0,
						  "the pod has %zu containers: choose one with -c",
						  json_array_size(ctrs));
		name = json_string_value(json_object_get(json_array_get(ctrs, 0), "name"));
	}
	json_array_foreach(ctrs, i, c) {
		const char *n = json_string_value(json_object_get(c, "name"));
		if (n && name && strcmp(n, name) == 0) {
			*out = n;
			return 0;
		}
	}
	return dhi_err_set_status(err, 2, 0, "the pod has no container `%s`", name ? name : "?");
}

/* The strategic-merge patch: spec.ephemeralContainers with our one container (merged by name). */
static json_t *ephemeral_patch(const struct opts *o, const char *name, const char *target)
{
	json_t *cmd = json_array(), *add = json_array(), *sc = json_object(), *ec;
	const struct profile_caps *p = profile_caps;

	json_array_append_new(cmd, json_string("dhidebug"));
	json_array_append_new(cmd, json_string("--profile"));
	json_array_append_new(cmd, json_string(o->profile));
	if (o->toolbox) {
		json_array_append_new(cmd, json_string("--toolbox"));
		json_array_append_new(cmd, json_string(o->toolbox));
	}
	/* targetContainerName puts us in the target's pid namespace, where its first process is 1 */
	json_array_append_new(cmd, json_string("pid://1"));
	if (o->program) {
		json_array_append_new(cmd, json_string("--"));
		for (char **a = o->program; *a; a++)
			json_array_append_new(cmd, json_string(*a));
	}
	while (strcmp(p->name, o->profile) != 0)
		p++;
	if (strcmp(o->profile, "sysadmin") == 0) {
		json_object_set_new(sc, "privileged", json_true());
	} else {
		for (const char *const *c = entry_caps; *c; c++)
			json_array_append_new(add, json_string(*c));
		for (const char *const *c = p->caps; *c; c++)
			json_array_append_new(add, json_string(*c));
		json_object_set_new(sc, "capabilities", json_pack("{s:o}", "add", add));
		add = NULL;
	}
	json_decref(add);
	ec = json_pack("{s:s, s:s, s:s, s:o, s:b, s:b, s:s, s:o}", "name", name, "image", o->image,
		       "targetContainerName", target, "command", cmd, "stdin", 1, "tty", 1,
		       "terminationMessagePolicy", "File", "securityContext", sc);
	return json_pack("{s:{s:[o]}}", "spec", "ephemeralContainers", ec);
}

/* An HTTP error of the API server, told as what the user can do about it. */
static int api_error(const char *what, long status, const char *body, bool is_subresource,
		     struct dhi_err **err)
{
	dhi_autofree char *msg = kube_status_message(body);

	if (status == 401)
		return dhi_err_set(err, 0, "%s: the API server does not accept the credentials (401): %s",
				   what, msg);
	if (status == 403 && (strstr(msg, "PodSecurity") || strstr(msg, "admission")))
		return dhi_err_set(err, 0, "%s: rejected by admission (403), e.g. the namespace's "
					   "PodSecurity level forbids the capabilities of profile; try a "
					   "smaller --profile or ask for an exemption: %s", what, msg);
	if (status == 403)
		return dhi_err_set(err, 0, "%s: RBAC denies it (403); kubectl dhidebug needs `get` on "
					   "`pods` and `patch` on `pods/ephemeralcontainers`: %s", what, msg);
	if (status == 404 && is_subresource)
		return dhi_err_set(err, 0, "%s: the cluster has no ephemeral containers (404 on "
					   "`pods/ephemeralcontainers`; they need Kubernetes 1.23 or later)",
				   what);
	if (status == 422)
		return dhi_err_set(err, 0, "%s: the API server rejected the ephemeral container "
					   "(422, invalid or refused by admission): %s", what, msg);
	return dhi_err_set(err, 0, "%s: HTTP %ld: %s", what, status, msg);
}

struct wait_ctx {
	const char *name, *image;
};

static const char *const pull_errors[] = { "ErrImagePull", "ImagePullBackOff", "InvalidImageName",
					   "ErrImageNeverPull", "RegistryUnavailable", NULL };

/* One watch event: 1 when our container runs, 0 to keep waiting, -1 on an error. */
static int on_event(const char *line, void *arg, struct dhi_err **err)
{
	struct wait_ctx *w = arg;
	json_auto_t *ev = json_loads(line, 0, NULL);
	const char *type = json_string_value(json_object_get(ev, "type"));
	json_t *obj = json_object_get(ev, "object"), *st, *s;
	size_t i;

	if (!type)
		return dhi_err_set(err, 0, "the API server sent a watch event that is not JSON");
	if (strcmp(type, "ERROR") == 0)
		return dhi_err_set(err, 0, "watch error: %s",
				   json_string_value(json_object_get(obj, "message")) ?: "?");
	if (strcmp(type, "DELETED") == 0)
		return dhi_err_set(err, 0, "the pod was deleted");
	st = json_object_get(json_object_get(obj, "status"), "ephemeralContainerStatuses");
	json_array_foreach(st, i, s) {
		json_t *state = json_object_get(s, "state"), *wt, *tm;
		const char *reason, *msg;

		if (!json_is_string(json_object_get(s, "name")) ||
		    strcmp(json_string_value(json_object_get(s, "name")), w->name) != 0)
			continue;
		if (json_object_get(state, "running"))
			return 1;
		if ((tm = json_object_get(state, "terminated")))
			return dhi_err_set(err, 0, "ephemeral container `%s` exited (code %lld, %s): %s",
					   w->name,
					   (long long)json_integer_value(json_object_get(tm, "exitCode")),
					   json_string_value(json_object_get(tm, "reason")) ?: "?",
					   json_string_value(json_object_get(tm, "message")) ?: "");
		wt = json_object_get(state, "waiting");
		reason = json_string_value(json_object_get(wt, "reason"));
		msg = json_string_value(json_object_get(wt, "message"));
		for (const char *const *p = pull_errors; reason && *p; p++)
			if (strcmp(reason, *p) == 0)
				return dhi_err_set(err, 0, "cannot pull the dhidebug image `%s` (%s): %s; "
							   "give another with --image", w->image,
						   reason, msg ? msg : "no message");
		if (reason && strcmp(reason, "ContainerCreating") != 0 &&
		    strcmp(reason, "PodInitializing") != 0)
			fprintf(stderr, "kubectl-dhidebug: waiting: %s%s%s\n", reason,
				msg ? ": " : "", msg ? msg : "");
	}
	return 0;
}

static void random_suffix(char *out, size_t n)
{
	static const char alnum[] = "bcdfghjklmnpqrstvwxz2456789";
	unsigned char r[16];

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		memset(r, (int)getpid(), sizeof(r));
	for (size_t i = 0; i + 1 < n && i < sizeof(r); i++)
		out[i] = alnum[r[i] % (sizeof(alnum) - 1)];
	out[n - 1] = '\0';
}

static int run(const struct opts *o, struct dhi_err **err)
{
	struct kube_conn c;
	const char *ns, *target = NULL;
	dhi_autofree char *path = NULL, *resp = NULL, *body = NULL, *wpath = NULL;
	json_auto_t *pod = NULL, *patch = NULL;
	char suffix[6], name[32];
	long status = 0;
	int r = -1;

	if (kube_conn_load(o->kubeconfig, o->context, &c, err) < 0)
		return -1;
	ns = o->namespace ? o->namespace : c.namespace;
	if (check_name("namespace", ns, err) < 0 || check_name("pod name", o->pod, err) < 0)
		goto out;
	path = xasprintf("/api/v1/namespaces/%s/pods/%s", ns, o->pod);
	if (kube_request(&c, "GET", path, NULL, NULL, &status, &resp, err) < 0)
		goto out;
	if (status == 404) {
		dhi_err_set_status(err, 2, 0, "pod `%s` not found in namespace `%s`", o->pod, ns);
		goto out;
	}
	if (status != 200) {
		api_error("cannot get the pod", status, resp, false, err);
		goto out;
	}
	pod = json_loads(resp, 0, NULL);
	if (!json_is_object(pod)) {
		dhi_err_set(err, 0, "the API server's pod is not JSON");
		goto out;
	}
	if (choose_container(pod, o->container, &target, err) < 0)
		goto out;
	random_suffix(suffix, sizeof(suffix));
	snprintf(name, sizeof(name), "dhidebug-%s", suffix);
	patch = ephemeral_patch(o, name, target);
	body = json_dumps(patch, JSON_COMPACT);
	free(path);
	free(resp);
	resp = NULL;
	path = xasprintf("/api/v1/namespaces/%s/pods/%s/ephemeralcontainers", ns, o->pod);
	if (kube_request(&c, "PATCH", path, "application/strategic-merge-patch+json", body, &status,
			 &resp, err) < 0)
		goto out;
	if (status != 200 && status != 201) {
		api_error("cannot add the ephemeral container", status, resp, true, err);
		goto out;
	}
	fprintf(stderr, "kubectl-dhidebug: added ephemeral container `%s` targeting `%s`, waiting "
			"for it to run\n", name, target);
	wpath = xasprintf("/api/v1/namespaces/%s/pods?watch=true&fieldSelector=metadata.name%%3D%s",
			  ns, o->pod);
	{
		struct wait_ctx w = { .name = name, .image = o->image };

		if (kube_watch(&c, wpath, o->timeout, on_event, &w, &status, err) < 0) {
			if (status == 403)
				dhi_err_prefix(err, "RBAC: kubectl dhidebug needs `watch` on `pods`");
			else
				dhi_err_prefix(err, "ephemeral container `%s`", name);
			goto out;
		}
	}
	if (o->no_attach) {
		printf("ephemeral container %s is running; attach with:\n"
		       "kubectl attach -it %s -c %s -n %s\n", name, o->pod, name, ns);
		r = 0;
		goto out;
	}
	{
		const char *argv[16];
		int n = 0;

		argv[n++] = "kubectl";
		argv[n++] = "attach";
		argv[n++] = "-it";
		argv[n++] = o->pod;
		argv[n++] = "-c";
		argv[n++] = name;
		argv[n++] = "-n";
		argv[n++] = ns;
		if (o->kubeconfig) {
			argv[n++] = "--kubeconfig";
			argv[n++] = o->kubeconfig;
		}
		if (o->context) {
			argv[n++] = "--context";
			argv[n++] = o->context;
		}
		argv[n] = NULL;
		dhi_autofree char *dir = NULL;
		json_t *start, *cmd;
		int st = 0;

		if (!o->no_record)
			dir = o->record_dir ? xstrdup(o->record_dir) : kube_attach_default_dir();
		cmd = json_object_get(json_array_get(json_object_get(json_object_get(patch, "spec"),
								     "ephemeralContainers"), 0),
				      "command");
		/* the toolbox is chosen in the pod (ref null: by dhidebug's rules there) */
		start = json_pack("{s:{s:s, s:s, s:s, s:s, s:s, s:s, s:s}, s:{s:s, s:n}, s:{s:s},"
				  " s:s, s:O}", "target", "runtime", "kubernetes", "id", name,
				  "name", o->pod, "namespace", ns, "container", target, "image",
				  o->image, "server", c.server, "toolbox", "ref",
				  o->toolbox ? o->toolbox : "", "digest", "profile", "name",
				  o->profile, "view", "ephemeral-container", "command", cmd);
		if (kube_attach_recorded((char *const *)argv, dir, start, &st, err) < 0)
			goto out;
		r = st == 0 ? 0 : -1;
		if (st != 0)
			dhi_err_set_status(err, st, 0, "`kubectl attach` exited with status %d", st);
		goto out;
	}
out:
	kube_conn_free(&c);
	return r;
}

int main(int argc, char **argv)
{
	struct dhi_err *err = NULL;
	struct opts o;
	int code;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (parse_args(argc, argv, &o, &err) < 0 || run(&o, &err) < 0) {
		code = dhi_err_print(err, "kubectl-dhidebug");
		dhi_err_clear(&err);
		return code;
	}
	return 0;
}

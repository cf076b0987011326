// SPDX-License-Identifier: Apache-2.0
/* plugin.c - kubectl-dhidebug: debug a pod's container from an ephemeral container or a node pod. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "common/cleanup.h"
#include "common/err.h"
#include "common/xalloc.h"
#include "injector/kubectl/attach.h"
#include "injector/kubectl/kcp.h"
#include "injector/kubectl/kube.h"
#include "injector/kubectl/node.h"

#ifndef DHIDEBUG_VERSION
#define DHIDEBUG_VERSION "0.0.0"
#endif
#define DEFAULT_IMAGE "ghcr.io/dhidebug/dhidebug:" DHIDEBUG_VERSION
/* a node pod nobody deleted (the plugin was SIGKILLed) dies after this long */
#define DEFAULT_NODE_DEADLINE 14400

struct opts {
	const char *pod, *container, *namespace, *profile, *toolbox, *image, *mode;
	const char *kubeconfig, *context, *record_dir, *node_namespace;
	long timeout, node_deadline;
	bool is_node;
	bool no_attach, no_record;
	char **program; /* after `--`, NULL-terminated; NULL for the shell */
	/* `kubectl dhidebug cp` */
	bool is_cp;
	struct kube_cp_spec cp;
	struct kube_cp_opts cp_opts;
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
		"                        [--node-namespace=<ns>] [--node-deadline=<s>]\n"
		"                        [--kubeconfig=<file>] [--context=<name>] [--timeout=<s>]\n"
		"                        [--record-dir=<dir>] [--no-record] [--no-attach]\n"
		"                        [-- <program> [<arg>...]]\n"
		"       kubectl dhidebug cp [<options>] [<ns>/]<pod>:<path> <dest>\n"
		"       kubectl dhidebug cp [<options>] <src> [<ns>/]<pod>:<path>\n"
		"                        (copies over the attach, recorded here: cp --help)\n"
		"\n"
		"Debugs <container> of <pod> (-c, else the kubectl.kubernetes.io/default-container\n"
		"annotation, else the only container) with dhidebug: waits until dhidebug runs\n"
		"and attaches to it with `kubectl attach -it` on a pty of its own, recording the\n"
		"session on this side.\n"
		"\n"
		"  --mode=ephemeral (default) adds an ephemeral container running dhidebug to\n"
		"  the pod, in the target container's pid namespace.\n"
		"  --mode=node, for clusters that refuse the capabilities that needs, creates a\n"
		"  short-lived privileged pod (hostPID, the runtime's state mounted) on the\n"
		"  pod's node running `dhidebug containerd://k8s.io/<id>` (or crio://<id>), and\n"
		"  deletes it when the session ends, on Ctrl-C, SIGTERM, SIGHUP and on errors.\n"
		"  It needs a namespace whose PodSecurity level is `privileged`.\n"
		"\n"
		"  -c, --container=<name>   the container to debug\n"
		"  -n, --namespace=<ns>     the pod's namespace (default: the context's)\n"
		"      --profile=<p>        observe, general (default), netadmin or sysadmin\n"
		"      --toolbox=<ref>      the toolbox image dhidebug mounts (default: its rules)\n"
		"      --image=<image>      the dhidebug image (default: " DEFAULT_IMAGE ")\n"
		"      --mode=<mode>        ephemeral (default) or node\n"
		"      --node-namespace=<ns>\n"
		"                           node mode: where the node pod goes (default: the\n"
		"                           pod's namespace)\n"
		"      --node-deadline=<s>  node mode: the node pod's activeDeadlineSeconds, in\n"
		"                           case it outlives the plugin (default 14400)\n"
		"      --timeout=<s>        how long to wait for the container to run (default 120)\n"
		"      --record-dir=<dir>   where the recording goes (default: for root\n"
		"                           /var/lib/dhidebug/sessions, else\n"
		"                           $XDG_STATE_HOME/dhidebug/sessions)\n"
		"      --no-record          attach without recording\n"
		"      --no-attach          print the attach command instead of running it (node\n"
		"                           mode: the node pod stays until deleted or its deadline)\n"
		"  -h, --help               this text\n"
		"\n"
		"Credentials come from kubectl's configuration, exec credential plugins included.\n"
		"Exit status: the session's; 125 for an error of the plugin, 2 for a usage error,\n"
		"128+N after signal N.\n");
}

/*
 * What goes into a JSON string (the pod's command, names, the image) must be
 * UTF-8: jansson refuses anything else, and a value it refuses would be left
 * out of the request without a word. (--kubeconfig and --record-dir are file
 * names, which need not be.)
 */
static int check_utf8(const struct opts *o, struct dhi_err **err)
{
	const struct {
		const char *what, *value;
	} args[] = {
		{ "<pod>", o->pod },		 { "-c/--container", o->container },
		{ "-n/--namespace", o->namespace }, { "--profile", o->profile },
		{ "--toolbox", o->toolbox },	 { "--image", o->image },
		{ "--mode", o->mode },		 { "--node-namespace", o->node_namespace },
		{ "--context", o->context },	 { NULL, NULL },
	};

	for (int i = 0; args[i].what; i++)
		if (args[i].value && !kube_is_utf8(args[i].value))
			return dhi_err_set_status(err, 2, 0, "%s is not valid UTF-8", args[i].what);
	for (int i = 0; o->program && o->program[i]; i++)
		if (!kube_is_utf8(o->program[i]))
			return dhi_err_set_status(err, 2, 0, "argument %d of the program after `--` "
							     "is not valid UTF-8", i + 1);
	return 0;
}

/* --mode, --node-namespace and --profile, for sessions and copies alike. */
static int check_mode_profile(struct opts *o, struct dhi_err **err)
{
	o->is_node = strcmp(o->mode, "node") == 0;
	if (!o->is_node && strcmp(o->mode, "ephemeral") != 0)
		return dhi_err_set_status(err, 2, 0, "unknown --mode `%s` (ephemeral or node)", o->mode);
	if (!o->is_node && o->node_namespace)
		return dhi_err_set_status(err, 2, 0, "--node-namespace goes with --mode node");
	for (const struct profile_caps *p = profile_caps; p->name; p++)
		if (strcmp(p->name, o->profile) == 0)
			return 0;
	return dhi_err_set_status(err, 2, 0, "unknown profile `%s`", o->profile);
}

/* getopt_long's values of the long options past 255, sessions' and copies' alike. */
enum { O_PROFILE = 256, O_TOOLBOX, O_IMAGE, O_MODE, O_KUBECONFIG, O_CONTEXT, O_TIMEOUT,
       O_NOATTACH, O_RECORD_DIR, O_NORECORD, O_NODE_NS, O_NODE_DEADLINE, O_MANIFEST };

static void opts_defaults(struct opts *o)
{
	*o = (struct opts){ .profile = "general", .image = DEFAULT_IMAGE, .mode = "ephemeral",
			    .timeout = 120, .node_deadline = DEFAULT_NODE_DEADLINE };
}

/* An option sessions and copies both take: 1 when `ch` is one, 0 when not, -1 on a bad value. */
static int common_opt(int ch, struct opts *o, struct dhi_err **err)
{
	char *end;
	long v;

	switch (ch) {
	case 'c': o->container = optarg; return 1;
	case 'n': o->namespace = optarg; return 1;
	case O_PROFILE: o->profile = optarg; return 1;
	case O_IMAGE: o->image = optarg; return 1;
	case O_MODE: o->mode = optarg; return 1;
	case O_KUBECONFIG: o->kubeconfig = optarg; return 1;
	case O_CONTEXT: o->context = optarg; return 1;
	case O_RECORD_DIR: o->record_dir = optarg; return 1;
	case O_NORECORD: o->no_record = true; return 1;
	case O_NODE_NS: o->node_namespace = optarg; return 1;
	case O_NODE_DEADLINE:
	case O_TIMEOUT:
		errno = 0;
		v = strtol(optarg, &end, 10);
		if (errno || *end || v <= 0)
			return dhi_err_set_status(err, 2, 0, "invalid --%s `%s`",
						  ch == O_TIMEOUT ? "timeout" : "node-deadline",
						  optarg);
		*(ch == O_TIMEOUT ? &o->timeout : &o->node_deadline) = v;
		return 1;
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct opts *o, struct dhi_err **err)
{
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
		{ "node-namespace", required_argument, NULL, O_NODE_NS },
		{ "node-deadline", required_argument, NULL, O_NODE_DEADLINE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch, r;

	opts_defaults(o);
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
		if ((r = common_opt(ch, o, err)) != 0) {
			if (r < 0)
				return -1;
			continue;
		}
		switch (ch) {
		case O_TOOLBOX: o->toolbox = optarg; break;
		case O_NOATTACH: o->no_attach = true; break;
		case 'h': usage(stdout); exit(0);
		default: return dhi_err_set_status(err, 2, 0, "see `kubectl dhidebug --help`");
		}
	}
	if (!o->pod)
		return dhi_err_set_status(err, 2, 0, "no pod given (see `kubectl dhidebug --help`)");
	if (check_utf8(o, err) < 0)
		return -1;
	return check_mode_profile(o, err);
}

static void usage_cp(FILE *f)
{
	fprintf(f,
		"usage: kubectl dhidebug cp [<options>] [<namespace>/]<pod>:<path> <dest>\n"
		"       kubectl dhidebug cp [<options>] <src> [<namespace>/]<pod>:<path>\n"
		"\n"
		"Copies a file or a directory out of or into <container> of <pod> (-c, else the\n"
		"default container), which needs no tar nor shell: dhidebug cp runs in an\n"
		"ephemeral container (or, with --mode node, a node pod), the tar stream goes\n"
		"over `kubectl attach -i`, and every file is hashed (SHA-256) and recorded on\n"
		"this side as it arrives or leaves. <dest> is taken as cp(1) does; in the pod,\n"
		"a <path> ending in `/` is a directory the source goes into under its own name,\n"
		"any other <path> the source's new name.\n"
		"\n"
		"  -c, --container=<name>   the container\n"
		"  -n, --namespace=<ns>     the pod's namespace (default: the context's)\n"
		"  -a, --archive            keep mode, owner, times and user.* xattrs\n"
		"  -f, --force              replace what exists at the destination\n"
		"      --manifest=<file>    write a `sha256sum -c` list of the files (this side)\n"
		"  -q, --quiet              no notices, no summary line\n"
		"      --profile=<p>        dhidebug's profile in the pod (observe refuses a copy in)\n"
		"      --image=<image>      the dhidebug image (default: " DEFAULT_IMAGE ")\n"
		"      --mode=<mode>        ephemeral (default) or node\n"
		"      --node-namespace=<ns>, --node-deadline=<s>\n"
		"                           node mode: as for a session\n"
		"      --timeout=<s>        how long to wait for the container to run, and for its\n"
		"                           exit status after the copy (default 120)\n"
		"      --record-dir=<dir>   where the copy is recorded (as for a session)\n"
		"      --no-record          copy without recording here\n"
		"      --kubeconfig=<file>, --context=<name>\n"
		"                           as for kubectl\n"
		"  -h, --help               this text\n"
		"\n"
		"Exit status: 0; the pod's dhidebug's status when it failed there; 125 for an\n"
		"error of the plugin, 2 for a usage error, 128+N after signal N.\n");
}

/* `kubectl dhidebug cp [<options>] <src> <dest>`: argv[0] is the plugin, argv[1] `cp`. */
static int parse_cp_args(int argc, char **argv, struct opts *o, struct dhi_err **err)
{
	static const struct option longopts[] = {
		{ "container", required_argument, NULL, 'c' },
		{ "namespace", required_argument, NULL, 'n' },
		{ "archive", no_argument, NULL, 'a' },
		{ "force", no_argument, NULL, 'f' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "manifest", required_argument, NULL, O_MANIFEST },
		{ "profile", required_argument, NULL, O_PROFILE },
		{ "image", required_argument, NULL, O_IMAGE },
		{ "mode", required_argument, NULL, O_MODE },
		{ "kubeconfig", required_argument, NULL, O_KUBECONFIG },
		{ "context", required_argument, NULL, O_CONTEXT },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "record-dir", required_argument, NULL, O_RECORD_DIR },
		{ "no-record", no_argument, NULL, O_NORECORD },
		{ "node-namespace", required_argument, NULL, O_NODE_NS },
		{ "node-deadline", required_argument, NULL, O_NODE_DEADLINE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char **ops;
	int ch, nops, r;

	opts_defaults(o);
	o->is_cp = true;
	optind = 2;
	while ((ch = getopt_long(argc, argv, "c:n:afqh", longopts, NULL)) != -1) {
		if ((r = common_opt(ch, o, err)) != 0) {
			if (r < 0)
				return -1;
			continue;
		}
		switch (ch) {
		case 'a': o->cp_opts.archive = true; break;
		case 'f': o->cp_opts.force = true; break;
		case 'q': o->cp_opts.quiet = true; break;
		case O_MANIFEST: o->cp_opts.manifest = optarg; break;
		case 'h': usage_cp(stdout); exit(0);
		default: return dhi_err_set_status(err, 2, 0, "see `kubectl dhidebug cp --help`");
		}
	}
	ops = argv + optind;
	nops = argc - optind;
	if (nops != 2)
		return dhi_err_set_status(err, 2, 0, "expected a source and a destination, got %d "
					  "operand%s (see `kubectl dhidebug cp --help`)", nops,
					  nops == 1 ? "" : "s");
	if (kube_cp_parse(ops[0], ops[1], &o->cp, err) < 0)
		return -1;
	o->pod = o->cp.pod;
	if (o->cp.namespace) {
		if (o->namespace && strcmp(o->namespace, o->cp.namespace) != 0)
			return dhi_err_set_status(err, 2, 0, "-n `%s` and the operand's namespace `%s` "
						  "differ", o->namespace, o->cp.namespace);
		o->namespace = o->cp.namespace;
	}
	if (check_utf8(o, err) < 0)
		return -1;
	/* (the pod's paths go into the container's command, a JSON string) */
	if (!kube_is_utf8(o->cp.cpath))
		return dhi_err_set_status(err, 2, 0, "the pod's path is not valid UTF-8");
	return check_mode_profile(o, err);
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
	{
		/* (the name may come from the pod's default-container annotation) */
		dhi_autofree char *shown = kube_printable(name ? name : "?");

		return dhi_err_set_status(err, 2, 0, "the pod has no container `%s`", shown);
	}
}

/*
 * The container's command. targetContainerName puts the ephemeral container
 * in the target's pid namespace, where its first process is 1; a node pod
 * names the container by its runtime ID.
 */
static json_t *container_command(const struct opts *o, const char *target)
{
	if (o->is_cp)
		return kube_cp_command(&o->cp, o->profile, target, o->cp_opts.archive,
				       o->cp_opts.force);
	return kube_dhidebug_command(o->profile, o->toolbox, target, o->program);
}

/*
 * The strategic-merge patch: spec.ephemeralContainers with our one container
 * (merged by name). A copy's has no tty: its stdout is the tar stream, byte
 * for byte, and its stdin is closed once the attach has sent what it sends.
 */
static json_t *ephemeral_patch(const struct opts *o, const char *name, const char *target)
{
	json_t *cmd, *add = json_array(), *sc = json_object(), *ec;
	const struct profile_caps *p = profile_caps;

	cmd = container_command(o, "pid://1");
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
		       "targetContainerName", target, "command", cmd, "stdin", 1, "tty", !o->is_cp,
		       "terminationMessagePolicy", "File", "securityContext", sc);
	if (o->is_cp)
		json_object_set_new(ec, "stdinOnce", json_true());
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

/*
 * One watch event: 1 when our container runs, 0 to keep waiting, -1 on an
 * error. (Every text of the API server goes through kube_text_at: it is printed.)
 */
static int on_event(const char *line, void *arg, struct dhi_err **err)
{
	struct wait_ctx *w = arg;
	json_auto_t *ev = NULL;
	const char *type;
	json_t *obj, *st, *s;
	size_t i;

	if (kube_watch_event(line, "the pod", &ev, &type, &obj, err) < 0)
		return -1;
	st = json_object_get(json_object_get(obj, "status"), "ephemeralContainerStatuses");
	json_array_foreach(st, i, s) {
		json_t *state = json_object_get(s, "state"), *wt, *tm;
		const char *raw;
		dhi_autofree char *reason = NULL, *msg = NULL;

		if (!json_is_string(json_object_get(s, "name")) ||
		    strcmp(json_string_value(json_object_get(s, "name")), w->name) != 0)
			continue;
		if (json_object_get(state, "running"))
			return 1;
		if ((tm = json_object_get(state, "terminated"))) {
			/* (its termination message, dhidebug's error, ends with a newline) */
			dhi_autofree char *m = xstrdup(json_is_string(json_object_get(tm, "message")) ?
				json_string_value(json_object_get(tm, "message")) : "no message");
			size_t n = strlen(m);

			while (n > 0 && strchr(" \t\r\n", m[n - 1]))
				m[--n] = '\0';
			reason = kube_text_at(tm, "reason", "?");
			msg = kube_printable(m);
			/* (run_ephemeral names the container) */
			return dhi_err_set(err, 0, "exited before the attach (code %lld, %s): %s",
					   (long long)json_integer_value(json_object_get(tm, "exitCode")),
					   reason, msg);
		}
		wt = json_object_get(state, "waiting");
		raw = json_string_value(json_object_get(wt, "reason"));
		if (!raw)
			continue;
		reason = kube_printable(raw);
		if (json_is_string(json_object_get(wt, "message")))
			msg = kube_text_at(wt, "message", "");
		if (kube_is_pull_error(raw))
			return dhi_err_set(err, 0, "cannot pull the dhidebug image `%s` (%s): %s; "
						   "give another with --image", w->image, reason,
					   msg ? msg : "no message");
		if (strcmp(raw, "ContainerCreating") != 0 && strcmp(raw, "PodInitializing") != 0)
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

/* An HTTP error of creating the node pod, told as what the user can do about it. */
static int node_create_error(const char *ns, long status, const char *body, struct dhi_err **err)
{
	dhi_autofree char *msg = kube_status_message(body);
	const char *what = "cannot create the node pod";

	if (status == 401)
		return dhi_err_set(err, 0, "%s: the API server does not accept the credentials (401): %s",
				   what, msg);
	if (status == 403 && strstr(msg, "PodSecurity"))
		return dhi_err_set(err, 0, "%s: namespace `%s` enforces a PodSecurity level (baseline "
					   "or restricted) that refuses a privileged pod (403); give a "
					   "namespace labelled pod-security.kubernetes.io/enforce=privileged "
					   "with --node-namespace: %s", what, ns, msg);
	if (status == 403 && (strstr(msg, "admission") || strstr(msg, "denied the request")))
		return dhi_err_set(err, 0, "%s: rejected by admission (403): %s", what, msg);
	if (status == 403)
		return dhi_err_set(err, 0, "%s: RBAC denies it (403); kubectl dhidebug --mode node "
					   "needs `create` on `pods` in namespace `%s` (and `get`, `watch`, "
					   "`delete` on `pods`, `create` on `pods/attach`): %s", what, ns, msg);
	if (status == 404)
		return dhi_err_set(err, 0, "%s: namespace `%s` not found (404): %s", what, ns, msg);
	if (status == 422)
		return dhi_err_set(err, 0, "%s: the API server rejected it (422, invalid or refused "
					   "by admission): %s", what, msg);
	return dhi_err_set(err, 0, "%s: HTTP %ld: %s", what, status, msg);
}

/* Whether `o` is pod `ns`/`name` (and, when `uid` is not NULL, has that uid). */
static bool is_pod(json_t *o, const char *ns, const char *name, const char *uid)
{
	json_t *meta = json_object_get(o, "metadata");
	const char *n = json_string_value(json_object_get(meta, "name"));
	const char *pns = json_string_value(json_object_get(meta, "namespace"));
	const char *u = json_string_value(json_object_get(meta, "uid"));
	const char *kind = json_string_value(json_object_get(o, "kind"));

	return (!kind || strcmp(kind, "Pod") == 0) && n && strcmp(n, name) == 0 && pns &&
	       strcmp(pns, ns) == 0 && (!uid || (u && strcmp(u, uid) == 0));
}

/* GET the pod; a missing pod is a usage error (2). */
static int get_pod(const struct kube_conn *c, const char *ns, const char *name, json_t **out,
		   struct dhi_err **err)
{
	dhi_autofree char *path = xasprintf("/api/v1/namespaces/%s/pods/%s", ns, name), *resp = NULL;
	long status = 0;

	if (kube_request(c, "GET", path, NULL, NULL, &status, &resp, err) < 0)
		return -1;
	if (status == 404)
		return dhi_err_set_status(err, 2, 0, "pod `%s` not found in namespace `%s`", name, ns);
	if (status != 200)
		return api_error("cannot get the pod", status, resp, false, err);
	*out = json_loads(resp, 0, NULL);
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		return dhi_err_set(err, 0, "the API server's pod is not JSON");
	}
	/* what it says (node, container ids) picks what is debugged: only the pod asked for */
	if (!is_pod(*out, ns, name, NULL)) {
		json_decref(*out);
		*out = NULL;
		return dhi_err_set(err, 0, "the API server answered the GET of pod `%s` in namespace "
					   "`%s` with another object", name, ns);
	}
	return 0;
}

/* The status of `container` in the pod (NULL when it has none yet). */
static json_t *container_status(json_t *pod, const char *container)
{
	json_t *st = json_object_get(json_object_get(pod, "status"), "containerStatuses"), *cs;
	size_t i;

	json_array_foreach(st, i, cs) {
		const char *n = json_string_value(json_object_get(cs, "name"));

		if (n && strcmp(n, container) == 0)
			return cs;
	}
	return NULL;
}

/*
 * session.start of the recording: the cluster (server), namespace, pod,
 * container, node and the container's image and digest, the mode, what
 * dhidebug runs in (`id`: the ephemeral container or the node pod) and its
 * image; `op` (may be NULL) is what we know of the operator from the API
 * server (operator_kubernetes), to which the attach adds the local fields.
 */
static json_t *audit_start(const struct opts *o, const struct kube_conn *c, json_t *pod,
			   const char *ns, const char *container, const char *id, json_t *cmd,
			   json_t *op)
{
	json_t *start;
	json_t *cs = container_status(pod, container), *target;

	target = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s?, s:s, s:s, s:s?, s:s?}",
			   "runtime", "kubernetes", "mode", o->mode, "id", id, "name", o->pod,
			   "namespace", ns, "container", container, "node",
			   json_string_value(json_object_get(json_object_get(pod, "spec"), "nodeName")),
			   "image", o->image, "server", c->server, "container_image",
			   json_string_value(json_object_get(cs, "image")), "container_image_id",
			   json_string_value(json_object_get(cs, "imageID")));
	/* the toolbox is chosen where dhidebug runs (ref "": by dhidebug's rules there) */
	start = json_pack("{s:o, s:{s:s, s:n}, s:{s:s}, s:s, s:O}", "target", target, "toolbox",
			  "ref", o->toolbox ? o->toolbox : "", "digest", "profile", "name",
			  o->profile, "view", o->is_node ? "node-pod" : "ephemeral-container",
			  "command", cmd);
	if (op)
		json_object_set(start, "operator", op);
	return start;
}

/*
 * What the API server says of the operator, for the recording's `operator`:
 * {"kubernetes": {username, uid, groups}} as a SelfSubjectReview answers it
 * (THREATS #40: the user it authenticated, never the kubeconfig's user name,
 * which is the client's to choose). Not knowing it does not stop the session:
 * then "kubernetes" is null, "kubernetes_error" says why, and so does one
 * line on stderr.
 */
static json_t *operator_kubernetes(const struct kube_conn *c)
{
	struct dhi_err *e = NULL;
	json_t *user = kube_whoami(c, &e);
	dhi_autofree char *m = NULL, *why = NULL;

	if (user)
		return json_pack("{s:o}", "kubernetes", user);
	m = dhi_err_string(e);
	dhi_err_clear(&e);
	why = kube_printable(m);
	fprintf(stderr, "kubectl-dhidebug: notice: the recording names no Kubernetes user: %s\n",
		why);
	return json_pack("{s:n, s:s}", "kubernetes", "kubernetes_error", why);
}

/* `kubectl attach MODE POD -c CONTAINER -n NS` and the plugin's --kubeconfig and --context. */
static void attach_argv(const char *argv[16], const char *mode, const struct opts *o,
			const char *pod, const char *container, const char *ns)
{
	int n = 0;

	argv[n++] = "kubectl";
	argv[n++] = "attach";
	argv[n++] = mode;
	argv[n++] = pod;
	argv[n++] = "-c";
	argv[n++] = container;
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
}

/*
 * `kubectl attach -it POD -c CONTAINER -n NS` on the plugin's pty, recorded
 * unless --no-record (`start` is consumed). *st: its exit status; *stopped_by:
 * a stop signal that came meanwhile.
 */
static int attach(const struct opts *o, const char *pod, const char *container, const char *ns,
		  json_t *start, int *st, int *stopped_by, struct dhi_err **err)
{
	const char *argv[16];
	dhi_autofree char *dir = NULL;

	attach_argv(argv, "-it", o, pod, container, ns);
	if (!o->no_record)
		dir = o->record_dir ? xstrdup(o->record_dir) : kube_attach_default_dir();
	return kube_attach_recorded((char *const *)argv, dir, start, st, stopped_by, err);
}

/* The end of an attached session as the plugin's exit: its status, or 128+N after signal N. */
static int session_result(int st, int sig, struct dhi_err **err)
{
	if (sig)
		return dhi_err_set_status(err, 128 + sig, 0, "stopped by SIG%s", sigabbrev_np(sig));
	if (st != 0)
		return dhi_err_set_status(err, st, 0, "`kubectl attach` exited with status %d", st);
	return 0;
}

/* What the watch after a copy waits for: the exit of dhidebug in the pod. */
struct exit_wait {
	const char *container;	/* the ephemeral container, or the node pod's */
	const char *node_pod;	/* node mode: the node pod; NULL: the target pod's ephemeral one */
	long long code;
	char *message;		/* its termination message, printable */
};

/* One watch event: 1 when the container has terminated (its exit code kept), 0 to go on. */
static int on_exit_event(const char *line, void *arg, struct dhi_err **err)
{
	struct exit_wait *w = arg;
	json_auto_t *ev = NULL;
	const char *type, *n;
	json_t *obj, *st, *s;
	size_t i;

	if (kube_watch_event(line, w->node_pod ? "the node pod" : "the pod", &ev, &type, &obj,
			     err) < 0)
		return -1;
	n = json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));
	if (w->node_pod && n && strcmp(n, w->node_pod) != 0)
		return 0;
	st = json_object_get(json_object_get(obj, "status"),
			     w->node_pod ? "containerStatuses" : "ephemeralContainerStatuses");
	json_array_foreach(st, i, s) {
		json_t *tm = json_object_get(json_object_get(s, "state"), "terminated");
		const char *cn = json_string_value(json_object_get(s, "name"));

		if (!cn || strcmp(cn, w->container) != 0 || !tm)
			continue;
		if (!json_is_integer(json_object_get(tm, "exitCode")))
			return dhi_err_set(err, 0, "container `%s` terminated without an exit code",
					   w->container);
		w->code = json_integer_value(json_object_get(tm, "exitCode"));
		w->message = kube_text_at(tm, "message", "");
		return 1;
	}
	return 0;
}

/*
 * The copy, once dhidebug runs in the pod: recorded (unless --no-record),
 * carried over `kubectl attach -i POD -c CONTAINER -n NS` (no tty: the stream
 * is bytes), then the pod's dhidebug's exit status from the pod's status
 * (`wpath` watches it): kubectl attach says nothing of it. A copy that
 * failed in the pod fails here with its status, whatever arrived. `start`
 * is consumed; *stopped_by: a stop signal that ended the copy.
 */
static int run_copy(const struct opts *o, const struct kube_conn *c, struct kube_cp **kp,
		    const char *tns, const char *ns, const char *pod, const char *container,
		    const char *wpath, const char *target, json_t *start, int *stopped_by,
		    struct dhi_err **err)
{
	struct kube_cp *k = *kp;
	const char *argv[16];
	dhi_autofree char *dir = NULL, *failure = NULL, *uri = NULL;
	struct exit_wait w = { .container = container,
			       .node_pod = o->is_node ? pod : NULL };
	long hstatus = 0;
	int kst = 0, r;

	attach_argv(argv, "-i", o, pod, container, ns);
	*stopped_by = 0;
	if (!o->no_record)
		dir = o->record_dir ? xstrdup(o->record_dir) : kube_attach_default_dir();
	uri = xasprintf("kubernetes://%s/%s/%s", tns, o->pod, target);
	*kp = NULL; /* (kube_cp_end frees it) */
	json_object_set_new(start, "toolbox", json_null());
	if (kube_cp_record(k, dir, start, uri, err) < 0) {
		failure = dhi_err_string(*err);
		kube_cp_end(k, failure, 125);
		return -1;
	}
	r = kube_cp_stream(k, (char *const *)argv, &kst, stopped_by, err);
	if (r == 0 && kst != 0)
		r = dhi_err_set(err, 0, "`kubectl attach` exited with status %d", kst);
	/*
	 * Whatever this side saw, the pod's status says how the copy ended there:
	 * a copy that failed in the pod (its dhidebug said why, on the attach's
	 * stderr) is that failure, not the cut stream it left here.
	 */
	if (!*stopped_by && kst == 0) {
		struct dhi_err *e = NULL;

		if (kube_watch(c, wpath, o->timeout, on_exit_event, &w, &hstatus, &e) < 0) {
			if (r == 0) {
				*err = e;
				e = NULL;
				r = dhi_err_prefix(err, "the status of dhidebug in the pod is not "
							"known");
			}
		} else if (w.code != 0) {
			dhi_err_clear(err);
			r = dhi_err_set_status(err, w.code > 0 && w.code < 126 ? (int)w.code : 125,
					       0, "dhidebug in the pod exited with status %lld%s%s",
					       w.code, w.message && *w.message ? ": " : "",
					       w.message ? w.message : "");
		}
		dhi_err_clear(&e);
	}
	free(w.message);
	if (r < 0)
		failure = dhi_err_string(*err);
	kube_cp_end(k, failure, *stopped_by ? 128 + *stopped_by
			  : r < 0 ? ((*err)->status ? (*err)->status : 125) : 0);
	if (*stopped_by) {
		dhi_err_clear(err);
		return dhi_err_set_status(err, 128 + *stopped_by, 0, "stopped by SIG%s",
					  sigabbrev_np(*stopped_by));
	}
	return r;
}

/* A 422 that names our container: its name is taken (changed or a duplicate, it says which). */
static bool name_refused(const char *resp, const char *name)
{
	dhi_autofree char *msg = kube_status_message(resp);
	dhi_autofree char *quoted = xasprintf("\"%s\"", name);

	return strstr(msg, quoted) != NULL;
}

static int run_ephemeral(const struct opts *o, const struct kube_conn *c, const char *ns,
			 json_t *pod, const char *target, json_t *op, struct kube_cp **k,
			 struct dhi_err **err)
{
	dhi_autofree char *path = NULL, *resp = NULL, *body = NULL, *wpath = NULL;
	json_auto_t *patch = NULL;
	json_t *cmd;
	const char *uid;
	char suffix[6], name[32];
	long status = 0;
	int st = 0, sig = 0;

	/*
	 * metadata.uid of the pod read: the API server refuses to change a pod's uid
	 * (422), so the patch applies to that pod only, not to one recreated under its name
	 */
	uid = json_string_value(json_object_get(json_object_get(pod, "metadata"), "uid"));
	path = xasprintf("/api/v1/namespaces/%s/pods/%s/ephemeralcontainers", ns, o->pod);
	/*
	 * The patch merges by name: a container of our name added since (a name
	 * taken, however unlikely) would be changed, which the API server refuses
	 * (422: existing ephemeral containers may not be changed); then another name.
	 */
	for (int tries = 0;; tries++) {
		random_suffix(suffix, sizeof(suffix));
		snprintf(name, sizeof(name), "dhidebug-%s", suffix);
		json_decref(patch);
		free(body);
		free(resp);
		resp = NULL;
		patch = ephemeral_patch(o, name, target);
		if (uid)
			json_object_set_new(patch, "metadata", json_pack("{s:s}", "uid", uid));
		body = json_dumps(patch, JSON_COMPACT);
		if (kube_request(c, "PATCH", path, "application/strategic-merge-patch+json", body,
				 &status, &resp, err) < 0)
			return -1;
		if (status == 422 && tries < 2 && name_refused(resp, name)) {
			fprintf(stderr, "kubectl-dhidebug: the pod has an ephemeral container `%s` "
					"already; trying another name\n", name);
			continue;
		}
		break;
	}
	if (status != 200 && status != 201)
		return api_error("cannot add the ephemeral container", status, resp, true, err);
	{
		json_auto_t *answer = json_loads(resp, 0, NULL);

		if (json_is_object(answer) && !is_pod(answer, ns, o->pod, uid))
			return dhi_err_set(err, 0, "the API server answered the PATCH of pod `%s` in "
						   "namespace `%s` with another object", o->pod, ns);
	}
	fprintf(stderr, "kubectl-dhidebug: added ephemeral container `%s` targeting `%s`, waiting "
			"for it to run\n", name, target);
	wpath = xasprintf("/api/v1/namespaces/%s/pods?watch=true&fieldSelector=metadata.name%%3D%s",
			  ns, o->pod);
	{
		struct wait_ctx w = { .name = name, .image = o->image };

		if (kube_watch(c, wpath, o->timeout, on_event, &w, &status, err) < 0) {
			if (status == 403)
				return dhi_err_prefix(err, "RBAC: kubectl dhidebug needs `watch` on `pods`");
			return dhi_err_prefix(err, "ephemeral container `%s`", name);
		}
	}
	if (o->no_attach) {
		printf("ephemeral container %s is running; attach with:\n"
		       "kubectl attach -it %s -c %s -n %s\n", name, o->pod, name, ns);
		return 0;
	}
	cmd = json_object_get(json_array_get(json_object_get(json_object_get(patch, "spec"),
							     "ephemeralContainers"), 0), "command");
	if (*k)
		return run_copy(o, c, k, ns, ns, o->pod, name, wpath, target,
				audit_start(o, c, pod, ns, target, name, cmd, op), &sig, err);
	if (attach(o, o->pod, name, ns, audit_start(o, c, pod, ns, target, name, cmd, op), &st,
		   &sig, err) < 0)
		return -1;
	return session_result(st, sig, err);
}

/* A stop signal that is pending (blocked by run_node), taken; 0 when there is none. */
static int take_signal(const sigset_t *set)
{
	static const struct timespec now = { 0, 0 };
	int s = sigtimedwait(set, NULL, &now);

	return s > 0 ? s : 0;
}

/*
 * DELETE the node pod now (gracePeriodSeconds 0: nothing in it needs to shut
 * down), with the uid of the pod the session created as its precondition. A
 * failure is reported at once, with the command that deletes it by hand. True
 * when the pod is gone (deleted, or not found).
 */
static bool node_delete(struct kube_conn *c, const char *ns, const char *name, const char *uid)
{
	/* (only the pod this session created: not one recreated under its name, nor another) */
	dhi_autofree char *body = kube_delete_options(uid);
	dhi_autofree char *path = xasprintf("/api/v1/namespaces/%s/pods/%s", ns, name);
	dhi_autofree char *resp = NULL, *msg = NULL;
	struct dhi_err *e = NULL;
	long status = 0;
	int r;

	/* an exec plugin's token may have expired during the session: a new one first */
	if (kube_conn_refresh(c, false, &e) < 0) {
		dhi_autofree char *m = dhi_err_string(e);

		fprintf(stderr, "kubectl-dhidebug: %s\n", m);
		dhi_err_clear(&e);
	}
	r = kube_request(c, "DELETE", path, "application/json", body, &status, &resp, &e);
	if (r == 0 && status == 401 && c->exec && kube_conn_refresh(c, true, &e) == 0) {
		free(resp);
		resp = NULL;
		r = kube_request(c, "DELETE", path, "application/json", body, &status, &resp, &e);
	}
	if (r < 0 || e) {
		msg = dhi_err_string(e);
		dhi_err_clear(&e);
	} else if (status == 200 || status == 202 || status == 404) {
		/* (404: gone already, e.g. its deadline passed) */
		fprintf(stderr, "kubectl-dhidebug: deleted pod `%s`\n", name);
		return true;
	} else if (status == 409) {
		dhi_autofree char *m = kube_status_message(resp);

		msg = xasprintf("HTTP 409: the pod of that name is not the one this session created "
				"(uid %s): %s", uid, m);
	} else {
		dhi_autofree char *m = kube_status_message(resp);

		msg = xasprintf("HTTP %ld%s: %s", status,
				status == 403 ? " (RBAC: needs `delete` on `pods`)" : "", m);
	}
	fprintf(stderr, "kubectl-dhidebug: cannot delete pod `%s` in namespace `%s`: %s; delete it "
			"by hand: kubectl delete pod %s -n %s\n", name, ns, msg, name, ns);
	return false;
}

/*
 * The POST may have created the pod though no answer named it (the connection
 * dropped or timed out after the server took it, a 5xx from a proxy, a body
 * that is not a Pod): list the pods of the session's label and DELETE each
 * (`list` on `pods`). A failure is reported at once, with the command that
 * deletes them by hand.
 */
static void node_delete_session(struct kube_conn *c, const char *ns, const char *session)
{
	dhi_autofree char *path = xasprintf("/api/v1/namespaces/%s/pods?labelSelector="
					    "dhidebug.io%%2Fsession%%3D%s", ns, session);
	dhi_autofree char *resp = NULL, *msg = NULL;
	json_auto_t *list = NULL;
	struct dhi_err *e = NULL;
	long status = 0;
	json_t *items, *it;
	size_t i;

	if (kube_conn_refresh(c, false, &e) < 0)
		dhi_err_clear(&e); /* (the request says whether the old credential still works) */
	if (kube_request(c, "GET", path, NULL, NULL, &status, &resp, &e) < 0) {
		msg = dhi_err_string(e);
		dhi_err_clear(&e);
	} else if (status != 200) {
		dhi_autofree char *m = kube_status_message(resp);

		msg = xasprintf("HTTP %ld%s: %s", status,
				status == 403 ? " (RBAC: needs `list` on `pods`)" : "", m);
	} else {
		list = json_loads(resp, 0, NULL);
		items = json_object_get(list, "items");
		if (!json_is_array(items))
			msg = xstrdup("the API server's answer is not a PodList");
	}
	if (msg) {
		fprintf(stderr, "kubectl-dhidebug: cannot look for the node pod (labelled "
				"dhidebug.io/session=%s in namespace `%s`): %s; delete it by hand: "
				"kubectl delete pods -l dhidebug.io/session=%s -n %s\n", session, ns,
			msg, session, ns);
		return;
	}
	json_array_foreach(items, i, it) {
		const char *n = NULL, *uid = NULL;

		/* (a list is the API server's word too: only a pod that is this session's) */
		if (kube_node_pod_check(it, ns, session, &n, &uid, &e) < 0) {
			dhi_autofree char *m = dhi_err_string(e);

			fprintf(stderr, "kubectl-dhidebug: not deleting what the pod list returned: "
					"%s\n", m);
			dhi_err_clear(&e);
			continue;
		}
		node_delete(c, ns, n, uid);
	}
}

/*
 * --mode node: a privileged pod on the target's node runs dhidebug against the
 * container by its runtime ID; we attach to it and delete it on every way out.
 * From the POST on, SIGINT, SIGTERM, SIGHUP and SIGQUIT are blocked so that
 * none skips the DELETE: the watch gives up when one is pending, the attach
 * takes them through its signalfd, and we exit 128+N after the DELETE. (A
 * signal the caller set to be ignored stays ignored.) SIGKILL cannot be
 * caught: activeDeadlineSeconds ends a pod left that way.
 */
static int run_node(const struct opts *o, struct kube_conn *c, const char *ns, json_t *pod,
		    const char *target, json_t *op, struct kube_cp **k, struct dhi_err **err)
{
	const char *pns = o->node_namespace ? o->node_namespace : ns, *nm = NULL, *uid = NULL;
	struct kube_node_target t;
	struct kube_node_spec spec;
	json_auto_t *manifest = NULL, *created = NULL;
	dhi_autofree char *body = NULL, *path = NULL, *resp = NULL, *wpath = NULL, *name = NULL;
	char session[12];
	sigset_t stop;
	long status = 0;
	int r = -1, st = 0, sig = 0;
	/* what became of the node pod, for the last message */
	enum { POD_NONE, POD_DELETED, POD_LEFT, POD_KEPT } fate = POD_NONE;

	if (check_name("namespace", pns, err) < 0)
		return -1;
	if (kube_node_target(pod, target, &t, err) < 0)
		return dhi_err_prefix(err, "pod `%s`", o->pod);
	random_suffix(session, sizeof(session));
	spec = (struct kube_node_spec){ .namespace = pns, .image = o->image, .profile = o->profile,
					.toolbox = o->toolbox, .program = o->program,
					.target_namespace = ns, .target_pod = o->pod,
					.target_container = target, .target = &t, .session = session,
					.deadline = o->node_deadline };
	if (*k) {
		spec.command = container_command(o, t.dhidebug_target);
		spec.no_tty = true;
	}
	manifest = kube_node_pod(&spec);
	body = json_dumps(manifest, JSON_COMPACT);
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGHUP);
	sigaddset(&stop, SIGQUIT);
	sigprocmask(SIG_BLOCK, &stop, NULL);
	c->abort_on = &stop;
	path = xasprintf("/api/v1/namespaces/%s/pods", pns);
	if (kube_request(c, "POST", path, "application/json", body, &status, &resp, err) < 0) {
		dhi_err_prefix(err, "creating the node pod");
		goto delete_session;
	}
	if (status != 201 && status != 200 && status != 202) {
		node_create_error(pns, status, resp, err);
		/* (a 5xx may come from a proxy or a timeout after the pod was made) */
		if (status >= 500)
			goto delete_session;
		goto out;
	}
	created = json_loads(resp, 0, NULL);
	/* the name the answer gives is deleted later: only the pod asked for is taken */
	if (!json_is_object(created)) {
		dhi_err_set(err, 0, "the API server's answer to the create (HTTP %ld) names no pod",
			    status);
		goto delete_session;
	}
	if (kube_node_pod_check(created, pns, session, &nm, &uid, err) < 0) {
		dhi_err_prefix(err, "the API server's answer to the create (HTTP %ld) is not the "
				    "pod asked for", status);
		goto delete_session;
	}
	name = xstrdup(nm);
	fprintf(stderr, "kubectl-dhidebug: created pod `%s` in namespace `%s` on node `%s` for %s, "
			"waiting for it to run\n", name, pns, t.node, t.dhidebug_target);
	if ((sig = take_signal(&stop)))
		goto delete;
	wpath = xasprintf("/api/v1/namespaces/%s/pods?watch=true&fieldSelector=metadata.name%%3D%s",
			  pns, name);
	{
		struct kube_node_wait w = { .name = name, .image = o->image, .node = t.node,
					    .uid = uid };

		if (kube_watch(c, wpath, o->timeout, kube_node_on_event, &w, &status, err) < 0) {
			if ((sig = take_signal(&stop)))
				goto delete;
			if (status == 403)
				dhi_err_prefix(err, "RBAC: kubectl dhidebug --mode node needs `watch` "
						    "on `pods`");
			else
				dhi_err_prefix(err, "pod `%s`", name);
			goto delete;
		}
	}
	if ((sig = take_signal(&stop)))
		goto delete;
	if (o->no_attach) {
		printf("pod %s is running on node %s; attach with:\n"
		       "kubectl attach -it %s -c %s -n %s\n"
		       "and delete it afterwards (else its deadline does, in %ld s):\n"
		       "kubectl delete pod %s -n %s\n", name, t.node, name, KUBE_NODE_CONTAINER,
		       pns, o->node_deadline, name, pns);
		fate = POD_KEPT;
		r = 0;
		goto out;
	}
	{
		json_t *cmd = json_object_get(json_array_get(json_object_get(json_object_get(
			manifest, "spec"), "containers"), 0), "command");
		json_t *start = audit_start(o, c, pod, ns, target, name, cmd, op);

		json_object_set_new(json_object_get(start, "target"), "node_pod_namespace",
				    json_string(pns));
		json_object_set_new(json_object_get(start, "target"), "container_id",
				    json_string(t.dhidebug_target));
		if (*k) {
			r = run_copy(o, c, k, ns, pns, name, KUBE_NODE_CONTAINER, wpath, target,
				     start, &sig, err);
			/* (stopped: the message comes after the DELETE, below) */
			if (sig)
				dhi_err_clear(err);
			goto delete;
		}
		if (attach(o, name, KUBE_NODE_CONTAINER, pns, start, &st, &sig, err) < 0)
			goto delete;
		r = session_result(st, sig, err);
	}
delete:
	fate = node_delete(c, pns, name, uid) ? POD_DELETED : POD_LEFT;
	goto out;
delete_session:
	node_delete_session(c, pns, session);
out:
	if (!sig && (sig = take_signal(&stop)) && r < 0)
		sig = 0; /* came during the cleanup of an error: the error is the news */
	if (sig) {
		static const char *const told[] = {
			[POD_NONE] = "", [POD_DELETED] = "` deleted",
			[POD_LEFT] = "` was not deleted (see above)",
			[POD_KEPT] = "` kept (--no-attach)",
		};

		r = dhi_err_set_status(err, 128 + sig, 0, "stopped by SIG%s%s%s%s", sigabbrev_np(sig),
				       fate != POD_NONE ? "; pod `" : "",
				       fate != POD_NONE ? name : "", told[fate]);
	}
	c->abort_on = NULL;
	kube_node_target_free(&t);
	return r;
}

static int run(const struct opts *o, struct dhi_err **err)
{
	struct kube_conn c;
	const char *ns, *target = NULL;
	json_auto_t *pod = NULL, *op = NULL;
	struct kube_cp *k = NULL;
	int r = -1;

	if (kube_conn_load(o->kubeconfig, o->context, &c, err) < 0)
		return -1;
	ns = o->namespace ? o->namespace : c.namespace;
	if (check_name("namespace", ns, err) < 0 || check_name("pod name", o->pod, err) < 0)
		goto out;
	if (get_pod(&c, ns, o->pod, &pod, err) < 0)
		goto out;
	if (choose_container(pod, o->container, &target, err) < 0)
		goto out;
	/* (only the recording needs it; asked before anything is created in the cluster) */
	if (!o->no_attach && !o->no_record)
		op = operator_kubernetes(&c);
	/* a copy's side here first: nothing is created in the cluster for a copy that cannot be */
	if (o->is_cp && !(k = kube_cp_prepare(&o->cp, &o->cp_opts, err)))
		goto out;
	if (o->is_node)
		r = run_node(o, &c, ns, pod, target, op, &k, err);
	else
		r = run_ephemeral(o, &c, ns, pod, target, op, &k, err);
	/* a copy that never began: its manifest goes */
	if (k)
		kube_cp_end(k, "not started", 125);
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
	if ((argc > 1 && strcmp(argv[1], "cp") == 0 ? parse_cp_args(argc, argv, &o, &err)
						     : parse_args(argc, argv, &o, &err)) < 0 ||
	    run(&o, &err) < 0) {
		/* the last guard: whatever reached the message, the terminal gets text */
		char *m = kube_printable(err->msg);

		free(err->msg);
		err->msg = m;
		code = dhi_err_print(err, "kubectl-dhidebug");
		dhi_err_clear(&err);
		return code;
	}
	return 0;
}

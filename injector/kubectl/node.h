/* SPDX-License-Identifier: Apache-2.0 */
/* node.h - `kubectl dhidebug --mode node`: the target's runtime ID and the privileged pod on its node. */
#ifndef DHI_KUBE_NODE_H
#define DHI_KUBE_NODE_H

#include <jansson.h>
#include <stdbool.h>

#include "common/err.h"

/* Where the target container runs, as dhidebug on its node names it. */
struct kube_node_target {
	char *node;		/* spec.nodeName */
	char *id;		/* the 64 hex digits of status.containerStatuses[].containerID */
	char *dhidebug_target;	/* containerd://k8s.io/<id> or crio://<id> */
	const char *runtime;	/* "containerd" or "crio" (static) */
	char *image, *image_id;	/* the container's image and imageID (may be NULL) */
};

/*
 * Reads the node and the runtime ID of `container` from `pod` (a Pod object).
 * The container must be running and its containerID `containerd://<64 hex>`
 * or `cri-o://<64 hex>`; anything else is an error that says why. Fills *t
 * (free with kube_node_target_free).
 */
int kube_node_target(json_t *pod, const char *container, struct kube_node_target *t,
		     struct dhi_err **err);

void kube_node_target_free(struct kube_node_target *t);

/* What goes into the node pod. */
struct kube_node_spec {
	const char *namespace;	/* where the node pod is created */
	const char *image, *profile, *toolbox; /* toolbox may be NULL */
	char *const *program;	/* after `--`, NULL-terminated; NULL: the shell */
	const char *target_namespace, *target_pod, *target_container;
	const struct kube_node_target *target;
	const char *session;	/* a random label value that finds the pod again */
	long deadline;		/* activeDeadlineSeconds */
	json_t *command;	/* NULL: a session's (kube_dhidebug_command); else consumed */
	bool no_tty;		/* a copy's: its stdout is a tar stream, not a terminal */
};

/* The container's name in the node pod. */
#define KUBE_NODE_CONTAINER "dhidebug"

/*
 * The container command of both modes: ["dhidebug", "--profile", P,
 * ["--toolbox", T,] TARGET[, "--", PROGRAM...]]. Every string must be UTF-8
 * (kube_is_utf8; the plugin checks its arguments): jansson refuses others.
 */
json_t *kube_dhidebug_command(const char *profile, const char *toolbox, const char *target,
			      char *const *program);

/*
 * The Pod (core/v1) to POST: generateName dhidebug-node-, on the target's node,
 * hostPID, privileged, stdin/tty (stdin only with no_tty), tolerating every
 * taint, restartPolicy Never,
 * activeDeadlineSeconds, the runtime's state directories, /sys/fs/cgroup and
 * /var/lib/dhidebug from the host at the same paths, and dhidebug's command.
 */
json_t *kube_node_pod(const struct kube_node_spec *s);

/* The generateName of the node pod: the API server appends a few characters. */
#define KUBE_NODE_PREFIX "dhidebug-node-"

/*
 * Whether `pod` (an API server's answer: to the create, or an item of the
 * session's list) is the node pod this session asked for: named
 * KUBE_NODE_PREFIX<suffix of [a-z0-9]>, in namespace `ns`, labelled
 * dhidebug.io/session=`session` and app.kubernetes.io/component=node-session,
 * with a uid. *name and *uid point into `pod`. -1 with *err saying what
 * differs (printable) otherwise: a name the server returned is deleted only
 * when it passes, and then with the uid as the DELETE's precondition.
 */
int kube_node_pod_check(json_t *pod, const char *ns, const char *session, const char **name,
			const char **uid, struct dhi_err **err);

/*
 * A DeleteOptions that deletes now (gracePeriodSeconds 0) and only the object
 * whose uid is `uid` (preconditions.uid: a pod recreated under the name, or
 * another pod, answers 409 and stays). The caller frees the string.
 */
char *kube_delete_options(const char *uid);

/* What kube_node_on_event waits for. */
struct kube_node_wait {
	const char *name, *image, *node;
	const char *uid;	/* the created pod's: events of another object are not ours */
};

/*
 * One watch event of the node pod (a kube_watch callback; arg is a struct
 * kube_node_wait): 1 when its container runs, 0 to keep waiting, -1 with *err
 * on an image pull error, an unschedulable or failed pod, a container that
 * ended, the pod's deletion, or a watch error.
 */
int kube_node_on_event(const char *line, void *arg, struct dhi_err **err);

/* True for the waiting reasons of a container whose image cannot be pulled. */
bool kube_is_pull_error(const char *reason);

#endif

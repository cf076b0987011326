/* SPDX-License-Identifier: Apache-2.0 */
/* kube.h - the Kubernetes API client of kubectl-dhidebug: kubeconfig via kubectl, libcurl. */
#ifndef DHI_KUBE_H
#define DHI_KUBE_H

#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"

/*
 * A kubeconfig user's `exec` credential plugin (client.authentication.k8s.io
 * v1 or v1beta1): what to run, and what to tell it in KUBERNETES_EXEC_INFO.
 */
struct kube_exec {
	char *command;
	char **args;		/* NULL-terminated (the command itself not included) */
	char **env;		/* NULL-terminated "NAME=value" */
	char *api_version;	/* client.authentication.k8s.io/v1 or /v1beta1 */
	char *install_hint;	/* shown when the command is not found; may be NULL */
	char *interactive_mode;	/* Never, IfAvailable or Always */
	char *cluster_json;	/* spec.cluster when provideClusterInfo, else NULL */
	char *dir;		/* the kubeconfig's folder (relative commands), or NULL */
	int timeout;		/* seconds it may run before SIGKILL; 0: 60, 300 if interactive */
};

/* What an exec credential plugin answered (never logged). */
struct kube_cred {
	char *token;
	char *cert_pem, *key_pem; /* clientCertificateData, clientKeyData: PEM text */
	double expires;		  /* expirationTimestamp, seconds since the epoch; 0: none */
};

/* Where and how to reach the API server (what `kubectl config view --minify` says). */
struct kube_conn {
	char *server;		/* https://host:port, no trailing slash */
	char *namespace;	/* the context's namespace, or "default" */
	char *ca_pem;		/* certificate-authority-data, decoded (NULL: system CAs) */
	size_t ca_len;
	char *ca_file;		/* certificate-authority */
	char *cert_pem, *key_pem; /* client-certificate-data, client-key-data, decoded */
	size_t cert_len, key_len;
	char *cert_file, *key_file;
	char *token;		/* token or the contents of tokenFile */
	bool insecure;		/* insecure-skip-tls-verify */
	struct kube_exec *exec;	/* the user's exec credential plugin, or NULL */
	double expires;		/* when the exec plugin's credential expires (0: not known) */
	/* kube_watch gives up when one of these signals is pending (NULL: none) */
	const sigset_t *abort_on;
};

/*
 * Runs `kubectl config view --raw --minify -o json` (with --kubeconfig and
 * --context when not NULL) by fork/execvp and fills *c. A user with an exec
 * credential plugin gets its token or client certificate (kube_exec_run);
 * auth providers are refused with an error naming them.
 */
int kube_conn_load(const char *kubeconfig, const char *context, struct kube_conn *c,
		   struct dhi_err **err);

/*
 * Parses the JSON of `kubectl config view --raw --minify -o json` (ptr, len)
 * into *c. An exec plugin is parsed into c->exec (checked: command, args, env,
 * apiVersion v1 or v1beta1, interactiveMode), not run.
 */
int kube_conn_parse(const char *json, size_t len, struct kube_conn *c, struct dhi_err **err);

/*
 * The value of KUBERNETES_EXEC_INFO for `x` (a new string): an ExecCredential
 * of x's apiVersion whose spec has `interactive` and, when the kubeconfig set
 * provideClusterInfo, the cluster.
 */
char *kube_exec_info(const struct kube_exec *x, bool interactive);

/*
 * Parses what an exec plugin printed (ptr, len; hostile: it is checked, and no
 * part of it appears in an error) into *cred: kind ExecCredential, apiVersion
 * `api_version`, status.token and/or status.clientCertificateData with
 * clientKeyData (PEM), and an expirationTimestamp that has not passed at `now`.
 */
int kube_exec_parse(const char *out, size_t len, const char *api_version, double now,
		    struct kube_cred *cred, struct dhi_err **err);

void kube_cred_free(struct kube_cred *cred);

/*
 * Runs c->exec (fork/execvp, no shell): its args, our environment plus its env
 * and KUBERNETES_EXEC_INFO, stdin /dev/null unless interactiveMode lets it have
 * our terminal, stderr ours, stdout read up to 1 MiB. It is killed (SIGKILL)
 * when it has not printed its answer and exited within x->timeout: one that
 * closes its stdout and goes on running does not hang us.
 * A relative command with a `/` is taken relative to `kubeconfig_dir` (when
 * not NULL), as kubectl does. The credential replaces c's token or client
 * certificate. Errors name the command; the installHint is added when it is
 * not found.
 */
int kube_exec_run(struct kube_conn *c, const char *kubeconfig_dir, struct dhi_err **err);

/*
 * Runs c's exec credential plugin again when it has one and `force` is set or
 * its credential expires within a minute (a long session outlives a token
 * that lasts 15 minutes; the cleanup after it still needs the API). 0 when
 * there is nothing to do.
 */
int kube_conn_refresh(struct kube_conn *c, bool force, struct dhi_err **err);

void kube_conn_free(struct kube_conn *c);

/*
 * One request: METHOD server+path, with `body` (NULL: none) sent as `ctype`.
 * On a transport success returns 0 with the HTTP status in *status and the
 * response body (NUL-terminated, caller frees) in *resp; a failure to connect or
 * to verify TLS is an error.
 */
int kube_request(const struct kube_conn *c, const char *method, const char *path,
		 const char *ctype, const char *body, long *status, char **resp,
		 struct dhi_err **err);

/*
 * A watch: GET server+path and call `on_line(line, arg)` for every line (one
 * JSON event each) as it arrives. on_line returns 1 to stop, 0 to go on, -1
 * (with *err set) to fail. Gives up after `timeout` seconds.
 */
int kube_watch(const struct kube_conn *c, const char *path, long timeout,
	       int (*on_line)(const char *line, void *arg, struct dhi_err **err), void *arg,
	       long *status, struct dhi_err **err);

/*
 * The `message` of a Kubernetes Status body, or the body's first 300 bytes, as
 * kube_printable() makes it (a new string).
 */
char *kube_status_message(const char *body);

/*
 * `s` as text that is safe on a terminal, in one line (a new string): dhi_printable()
 * (common/err.h), the one sanitiser of both programs. For whatever the API server
 * says before it is printed.
 */
char *kube_printable(const char *s);

/* o[key] as kube_printable() makes it, or `dflt` when it is not a string (a new string). */
char *kube_text_at(json_t *o, const char *key, const char *dflt);

/*
 * The part of a pod watch event both modes read alike: *ev (the caller
 * json_decref()s it), its type and object. -1 with *err for an event that is
 * not JSON, an ERROR (its message, printable) or DELETED (`deleted` says what).
 */
int kube_watch_event(const char *line, const char *deleted, json_t **ev, const char **type,
		     json_t **obj, struct dhi_err **err);

/* The most groups of the API server's user that are kept (the rest are counted). */
#define KUBE_USER_GROUPS_MAX 64
/* The longest username, uid or group name taken, in bytes. */
#define KUBE_USER_TEXT_MAX 512

/*
 * Parses the API server's answer to a SelfSubjectReview of `api_version`
 * (authentication.k8s.io/v1 or /v1beta1; ptr, len; hostile: it is checked, and
 * none of it appears in an error) into a new object {"username", "uid",
 * "groups"} from status.userInfo: each string as kube_printable() makes it,
 * uid null when absent or empty, groups [] when absent, and at most
 * KUBE_USER_GROUPS_MAX groups ("groups_omitted": the count of the others).
 * Refused: not JSON, duplicate keys, another kind or apiVersion, no userInfo,
 * an empty username, a field of the wrong type, a string over
 * KUBE_USER_TEXT_MAX bytes (a cut name could be another user's).
 */
json_t *kube_user_parse(const char *body, size_t len, const char *api_version,
			struct dhi_err **err);

/*
 * Who the API server says c's credentials are (never what the kubeconfig
 * names): POSTs a SelfSubjectReview to authentication.k8s.io/v1, and to
 * v1beta1 (Kubernetes 1.27) when v1 is 404, and returns kube_user_parse()'s
 * object. Errors say why in one line: neither exists (404), RBAC denies
 * `create` on `selfsubjectreviews` (403), another status, a transport error,
 * an answer that does not parse.
 */
json_t *kube_whoami(const struct kube_conn *c, struct dhi_err **err);

/* True when `s` is valid UTF-8 (what a JSON string may hold). */
bool kube_is_utf8(const char *s);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* kube.h - the Kubernetes API client of kubectl-dhidebug: kubeconfig via kubectl, libcurl. */
#ifndef DHI_KUBE_H
#define DHI_KUBE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"

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
};

/*
 * Runs `kubectl config view --raw --minify -o json` (with --kubeconfig and
 * --context when not NULL) by fork/execvp and fills *c. Exec credential plugins
 * and auth providers are refused with an error naming them.
 */
int kube_conn_load(const char *kubeconfig, const char *context, struct kube_conn *c,
		   struct dhi_err **err);

/* Parses the JSON of `kubectl config view --raw --minify -o json` (ptr, len) into *c. */
int kube_conn_parse(const char *json, size_t len, struct kube_conn *c, struct dhi_err **err);

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

/* The `message` of a Kubernetes Status body, or the body itself (a new string). */
char *kube_status_message(const char *body);

#endif

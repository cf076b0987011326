// SPDX-License-Identifier: Apache-2.0
/*
 * test_kube.c - kubectl-dhidebug's kubeconfig parsing, exec credential plugins' output,
 * KUBERNETES_EXEC_INFO, the node mode's container IDs and pod, Status messages and the
 * SelfSubjectReview answer; hostile input too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/xalloc.h"
#include "injector/kubectl/kcp.h"
#include "injector/kubectl/kube.h"
#include "injector/kubectl/node.h"

static int parse(const char *json, struct kube_conn *c, struct dhi_err **err)
{
	return kube_conn_parse(json, strlen(json), c, err);
}

/* "-----BEGIN X-----\n" in base64 is what kubeconfigs hold */
#define PEM_B64 "LS0tLS1CRUdJTiBYLS0tLS0K"

static void test_kube_conn_parse_token_and_ca_data(void **state)
{
	struct kube_conn c;
	struct dhi_err *err = NULL;

	assert_int_equal(parse("{\"clusters\":[{\"name\":\"a\",\"cluster\":{\"server\":"
			       "\"https://10.0.0.1:6443/\",\"certificate-authority-data\":\"" PEM_B64
			       "\"}}],\"users\":[{\"name\":\"u\",\"user\":{\"token\":\"abc\"}}],"
			       "\"contexts\":[{\"name\":\"x\",\"context\":{\"namespace\":\"shop\"}}]}",
			       &c, &err), 0);
	assert_null(err);
	assert_string_equal(c.server, "https://10.0.0.1:6443");
	assert_string_equal(c.namespace, "shop");
	assert_string_equal(c.token, "abc");
	assert_int_equal(c.ca_len, strlen("-----BEGIN X-----\n"));
	assert_memory_equal(c.ca_pem, "-----BEGIN X-----\n", c.ca_len);
	assert_null(c.cert_pem);
	assert_false(c.insecure);
	kube_conn_free(&c);
}

static void test_kube_conn_parse_client_cert_and_default_namespace(void **state)
{
	struct kube_conn c;
	struct dhi_err *err = NULL;

	assert_int_equal(parse("{\"clusters\":[{\"cluster\":{\"server\":\"https://k\","
			       "\"insecure-skip-tls-verify\":true}}],\"users\":[{\"user\":{"
			       "\"client-certificate-data\":\"" PEM_B64 "\",\"client-key-data\":\""
			       PEM_B64 "\"}}],\"contexts\":[{\"context\":{}}]}", &c, &err), 0);
	assert_string_equal(c.namespace, "default");
	assert_true(c.insecure);
	assert_non_null(c.cert_pem);
	assert_non_null(c.key_pem);
	assert_null(c.token);
	kube_conn_free(&c);
}

static void test_kube_conn_parse_exec_plugin(void **state)
{
	struct kube_conn c;
	struct dhi_err *err = NULL;
	char *info;
	json_t *o;

	assert_int_equal(parse("{\"clusters\":[{\"cluster\":{\"server\":\"https://k:6443\","
			       "\"certificate-authority-data\":\"" PEM_B64 "\",\"extensions\":[{\"name\":"
			       "\"client.authentication.k8s.io/exec\",\"extension\":{\"audience\":\"a\"}}]}}],"
			       "\"users\":[{\"user\":{\"exec\":{\"command\":\"aws\",\"args\":[\"eks\","
			       "\"get-token\"],\"env\":[{\"name\":\"AWS_PROFILE\",\"value\":\"prod\"}],"
			       "\"apiVersion\":\"client.authentication.k8s.io/v1\",\"interactiveMode\":"
			       "\"Never\",\"provideClusterInfo\":true,\"installHint\":\"get aws\"}}}]}",
			       &c, &err), 0);
	assert_null(err);
	assert_non_null(c.exec);
	assert_string_equal(c.exec->command, "aws");
	assert_string_equal(c.exec->args[0], "eks");
	assert_string_equal(c.exec->args[1], "get-token");
	assert_null(c.exec->args[2]);
	assert_string_equal(c.exec->env[0], "AWS_PROFILE=prod");
	assert_null(c.exec->env[1]);
	assert_string_equal(c.exec->install_hint, "get aws");
	info = kube_exec_info(c.exec, false);
	o = json_loads(info, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(o, "kind")), "ExecCredential");
	assert_string_equal(json_string_value(json_object_get(o, "apiVersion")),
			    "client.authentication.k8s.io/v1");
	assert_true(json_is_false(json_object_get(json_object_get(o, "spec"), "interactive")));
	/* provideClusterInfo: the server, the CA as data, and the exec extension as config */
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(o,
			    "spec"), "cluster"), "server")), "https://k:6443");
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(o,
			    "spec"), "cluster"), "certificate-authority-data")), PEM_B64);
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(
			    json_object_get(o, "spec"), "cluster"), "config"), "audience")), "a");
	json_decref(o);
	free(info);
	kube_conn_free(&c);
}

static void test_kube_exec_info_without_cluster_info(void **state)
{
	struct kube_conn c;
	struct dhi_err *err = NULL;
	char *info;

	/* v1beta1: interactiveMode may be left out (IfAvailable) */
	assert_int_equal(parse("{\"clusters\":[{\"cluster\":{\"server\":\"https://k\"}}],"
			       "\"users\":[{\"user\":{\"exec\":{\"command\":\"gke-gcloud-auth-plugin\","
			       "\"apiVersion\":\"client.authentication.k8s.io/v1beta1\"}}}]}", &c, &err),
			 0);
	assert_string_equal(c.exec->interactive_mode, "IfAvailable");
	info = kube_exec_info(c.exec, true);
	assert_string_equal(info, "{\"apiVersion\":\"client.authentication.k8s.io/v1beta1\","
				  "\"kind\":\"ExecCredential\",\"spec\":{\"interactive\":true}}");
	free(info);
	kube_conn_free(&c);
}

static void test_kube_conn_parse_exec_refused(void **state)
{
	static const char *const bad[] = {
		/* no command; v1alpha1 (gone from Kubernetes); v1 without interactiveMode */
		"{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"interactiveMode\":\"Never\"}",
		"{\"command\":\"x\",\"apiVersion\":\"client.authentication.k8s.io/v1alpha1\"}",
		"{\"command\":\"x\",\"apiVersion\":\"client.authentication.k8s.io/v1\"}",
		"{\"command\":\"x\",\"apiVersion\":\"client.authentication.k8s.io/v1\","
		"\"interactiveMode\":\"Sometimes\"}",
		"{\"command\":\"x\",\"apiVersion\":\"client.authentication.k8s.io/v1beta1\","
		"\"args\":[\"a\",7]}",
		"{\"command\":\"x\",\"apiVersion\":\"client.authentication.k8s.io/v1beta1\","
		"\"args\":\"a b\"}",
		"{\"command\":\"x\",\"apiVersion\":\"client.authentication.k8s.io/v1beta1\","
		"\"env\":[{\"name\":\"A=B\",\"value\":\"c\"}]}",
		"{\"command\":\"x\",\"apiVersion\":\"client.authentication.k8s.io/v1beta1\","
		"\"env\":[{\"name\":\"A\"}]}",
		"{\"command\":7}", "\"aws\"",
		NULL,
	};
	struct kube_conn c;
	struct dhi_err *err = NULL;

	for (const char *const *b = bad; *b; b++) {
		char *json = NULL;

		assert_true(asprintf(&json, "{\"clusters\":[{\"cluster\":{\"server\":\"https://k\"}}],"
					    "\"users\":[{\"user\":{\"exec\":%s}}]}", *b) > 0);
		assert_int_equal(parse(json, &c, &err), -1);
		assert_non_null(err);
		assert_null(c.server);
		dhi_err_clear(&err);
		free(json);
	}
}

#define API_V1 "client.authentication.k8s.io/v1"

static int exec_parse(const char *out, struct kube_cred *cred, struct dhi_err **err)
{
	/* now: 2026-01-01T00:00:00Z */
	return kube_exec_parse(out, strlen(out), API_V1, 1767225600.0, cred, err);
}

static void test_kube_exec_parse_token_and_cert(void **state)
{
	struct kube_cred cred;
	struct dhi_err *err = NULL;

	assert_int_equal(exec_parse("{\"apiVersion\":\"" API_V1 "\",\"kind\":\"ExecCredential\","
				    "\"status\":{\"token\":\"t0k\",\"expirationTimestamp\":"
				    "\"2026-01-01T01:00:00Z\"}}", &cred, &err), 0);
	assert_string_equal(cred.token, "t0k");
	assert_null(cred.cert_pem);
	assert_true(cred.expires == 1767225600.0 + 3600);
	kube_cred_free(&cred);
	assert_int_equal(exec_parse("{\"apiVersion\":\"" API_V1 "\",\"kind\":\"ExecCredential\","
				    "\"spec\":{},\"status\":{\"clientCertificateData\":\"-----BEGIN "
				    "CERTIFICATE-----\\nMII\\n-----END CERTIFICATE-----\\n\","
				    "\"clientKeyData\":\"-----BEGIN EC PRIVATE KEY-----\\nMHc\\n-----END EC "
				    "PRIVATE KEY-----\\n\",\"token\":null}}", &cred, &err), 0);
	assert_null(cred.token);
	assert_non_null(strstr(cred.cert_pem, "BEGIN CERTIFICATE"));
	assert_non_null(strstr(cred.key_pem, "PRIVATE KEY"));
	assert_true(cred.expires == 0);
	kube_cred_free(&cred);
}

static void test_kube_exec_parse_hostile(void **state)
{
	static const char *const bad[] = {
		"", "   \n", "null", "[]", "\"t0k\"", "t0k", "{\"apiVersion\":",
		"{\"apiVersion\":\"" API_V1 "\",\"kind\":\"ExecCredential\"}",
		"{\"apiVersion\":\"" API_V1 "\",\"kind\":\"ExecCredential\",\"status\":\"t0k\"}",
		"{\"apiVersion\":\"" API_V1 "\",\"kind\":\"ExecCredential\",\"status\":{}}",
		"{\"apiVersion\":\"" API_V1 "\",\"kind\":\"Secret\",\"status\":{\"token\":\"t0k\"}}",
		"{\"kind\":\"ExecCredential\",\"status\":{\"token\":\"t0k\"}}",
		"{\"apiVersion\":\"client.authentication.k8s.io/v1beta1\",\"kind\":\"ExecCredential\","
		"\"status\":{\"token\":\"t0k\"}}",
		"{\"apiVersion\":\"" API_V1 "\",\"kind\":\"ExecCredential\",\"status\":{\"token\":7}}",
		"{\"apiVersion\":\"" API_V1 "\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"\"}}",
		/* a header smuggled into the Authorization line */
		"{\"apiVersion\":\"" API_V1 "\",\"kind\":\"ExecCredential\",\"status\":{\"token\":"
		"\"t0k\\r\\nX-Evil: 1\"}}",
		"{\"apiVersion\":\"" API_V1 "\",\"kind\":\"ExecCredential\",\"status\":{\"token\":"
		"\"t0k\\u0000x\"}}",
		/* a certificate without its key, and not PEM */
		"{\"apiVersion\":\"" API_V1 "\",\"kind\":\"ExecCredential\",\"status\":{"
		"\"clientCertificateData\":\"-----BEGIN X-----\\n-----END X-----\"}}",
		"{\"apiVersion\":\"" API_V1 "\",\"kind\":\"ExecCredential\",\"status\":{"
		"\"clientCertificateData\":\"MIIB\",\"clientKeyData\":\"MIIE\"}}",
		/* expired, or not a time */
		"{\"apiVersion\":\"" API_V1 "\",\"kind\":\"ExecCredential\",\"status\":{\"token\":"
		"\"t0k\",\"expirationTimestamp\":\"2025-12-31T23:59:59Z\"}}",
		"{\"apiVersion\":\"" API_V1 "\",\"kind\":\"ExecCredential\",\"status\":{\"token\":"
		"\"t0k\",\"expirationTimestamp\":\"tomorrow\"}}",
		"{\"apiVersion\":\"" API_V1 "\",\"kind\":\"ExecCredential\",\"status\":{\"token\":"
		"\"t0k\",\"expirationTimestamp\":1767229200}}",
		/* the same key twice: which one counts would be up to the parser */
		"{\"apiVersion\":\"" API_V1 "\",\"kind\":\"ExecCredential\",\"status\":{\"token\":"
		"\"t0k\",\"token\":\"other\"}}",
		NULL,
	};
	struct kube_cred cred;
	struct dhi_err *err = NULL;

	for (const char *const *b = bad; *b; b++) {
		assert_int_equal(exec_parse(*b, &cred, &err), -1);
		assert_non_null(err);
		/* the error never repeats what the plugin printed (it may hold a secret) */
		assert_null(strstr(err->msg, "t0k"));
		assert_null(cred.token);
		dhi_err_clear(&err);
	}
	/* output is (ptr, len): nothing past len is read, a NUL inside is not the end */
	assert_int_equal(kube_exec_parse("{}garbage", 2, API_V1, 0, &cred, &err), -1);
	dhi_err_clear(&err);
	assert_int_equal(kube_exec_parse("\0{}", 3, API_V1, 0, &cred, &err), -1);
	dhi_err_clear(&err);
}

/*
 * A kubeconfig whose user runs `/bin/sh -c SCRIPT` as its exec plugin (v1,
 * interactiveMode Never), with `env` (a JSON list, or NULL) and a timeout.
 */
static void exec_conn(const char *script, const char *env, struct kube_conn *c)
{
	json_t *root = json_pack("{s:[{s:{s:s}}], s:[{s:{s:{s:s, s:[s, s], s:s, s:s}}}]}",
				 "clusters", "cluster", "server", "https://k", "users", "user",
				 "exec", "command", "/bin/sh", "args", "-c", script, "apiVersion",
				 API_V1, "interactiveMode", "Never");
	struct dhi_err *err = NULL;
	char *json;

	if (env)
		json_object_set_new(json_object_get(json_object_get(json_array_get(
			json_object_get(root, "users"), 0), "user"), "exec"), "env",
			json_loads(env, 0, NULL));
	json = json_dumps(root, JSON_COMPACT);
	assert_int_equal(parse(json, c, &err), 0);
	assert_null(err);
	free(json);
	json_decref(root);
}

#define CRED(tok) "{\"apiVersion\":\"" API_V1 "\",\"kind\":\"ExecCredential\",\"status\":" \
		  "{\"token\":\"" tok "\"}}"

static void test_kube_exec_run_exec_info_from_env_is_replaced(void **state)
{
	struct kube_conn c;
	struct dhi_err *err = NULL;

	/* the kubeconfig sets KUBERNETES_EXEC_INFO itself: ours wins, and theirs is freed once */
	exec_conn("case \"$KUBERNETES_EXEC_INFO\" in *ExecCredential*) printf '%s' '" CRED("ours")
		  "' ;; *) printf '%s' '" CRED("theirs") "' ;; esac",
		  "[{\"name\":\"KUBERNETES_EXEC_INFO\",\"value\":\"theirs\"},"
		  "{\"name\":\"OTHER\",\"value\":\"x\"}]", &c);
	assert_int_equal(kube_exec_run(&c, NULL, &err), 0);
	assert_null(err);
	assert_string_equal(c.token, "ours");
	/* run again, as before a DELETE: the kubeconfig's env is still intact */
	assert_int_equal(kube_conn_refresh(&c, true, &err), 0);
	assert_string_equal(c.token, "ours");
	assert_string_equal(c.exec->env[0], "KUBERNETES_EXEC_INFO=theirs");
	kube_conn_free(&c);
}

static void test_kube_exec_run_killed_after_timeout(void **state)
{
	struct kube_conn c;
	struct dhi_err *err = NULL;
	time_t t0 = time(NULL);

	/* it answers, closes its stdout and goes on running: EOF is not the end of it */
	exec_conn("printf '%s' '" CRED("t0k") "'; exec >&-; exec sleep 30", NULL, &c);
	c.exec->timeout = 1;
	assert_int_equal(kube_exec_run(&c, NULL, &err), -1);
	assert_true(time(NULL) - t0 < 10);
	assert_non_null(strstr(err->msg, "did not exit within 1 s; killed it (SIGKILL)"));
	assert_null(strchr(err->msg, '\n'));
	assert_null(c.token);
	dhi_err_clear(&err);
	/* and one that never answers */
	free(c.exec->args[1]);
	c.exec->args[1] = strdup("exec sleep 30");
	assert_int_equal(kube_exec_run(&c, NULL, &err), -1);
	assert_non_null(strstr(err->msg, "did not answer within 1 s; killed it"));
	dhi_err_clear(&err);
	kube_conn_free(&c);
}

static void test_kube_exec_run_pipe_fails(void **state)
{
	struct kube_conn c;
	struct dhi_err *err = NULL;
	struct rlimit old, rl;
	int lowest = dup(0);

	/* pipe2 fails (EMFILE): an error, and nothing leaks (ASan's leak check looks) */
	exec_conn("printf '%s' '" CRED("t0k") "'", NULL, &c);
	assert_true(lowest >= 0);
	close(lowest);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	rl = old;
	rl.rlim_cur = (rlim_t)lowest;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
	assert_int_equal(kube_exec_run(&c, NULL, &err), -1);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	assert_non_null(strstr(err->msg, "cannot create a pipe"));
	dhi_err_clear(&err);
	kube_conn_free(&c);
}

/* a pod whose container `web` has the given containerID and state */
static json_t *pod_with(const char *cid, const char *state)
{
	char *json = NULL;
	json_t *p;

	assert_true(asprintf(&json, "{\"spec\":{\"nodeName\":\"n1\",\"containers\":[{\"name\":"
				    "\"web\"}]},\"status\":{\"containerStatuses\":[{\"name\":\"web\","
				    "\"containerID\":\"%s\",\"state\":%s}]}}", cid, state) > 0);
	p = json_loads(json, 0, NULL);
	free(json);
	assert_non_null(p);
	return p;
}

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void test_kube_node_target_runtimes(void **state)
{
	struct kube_node_target t;
	struct dhi_err *err = NULL;
	json_t *p = pod_with("containerd://" HEX64, "{\"running\":{}}");

	assert_int_equal(kube_node_target(p, "web", &t, &err), 0);
	assert_string_equal(t.node, "n1");
	assert_string_equal(t.runtime, "containerd");
	assert_string_equal(t.dhidebug_target, "containerd://k8s.io/" HEX64);
	kube_node_target_free(&t);
	json_decref(p);
	p = pod_with("cri-o://" HEX64, "{\"running\":{}}");
	assert_int_equal(kube_node_target(p, "web", &t, &err), 0);
	assert_string_equal(t.runtime, "crio");
	assert_string_equal(t.dhidebug_target, "crio://" HEX64);
	kube_node_target_free(&t);
	json_decref(p);
}

static void test_kube_node_target_refused(void **state)
{
	static const struct {
		const char *cid, *state, *why;
	} bad[] = {
		{ "docker://" HEX64, "{\"running\":{}}", "does not know (`docker`)" },
		{ "containerd://" HEX64 "0", "{\"running\":{}}", "64 hex" },
		{ "containerd://../../etc", "{\"running\":{}}", "64 hex" },
		{ "containerd://" HEX64, "{\"waiting\":{\"reason\":\"CrashLoopBackOff\"}}",
		  "not running (waiting, CrashLoopBackOff)" },
		{ "containerd://" HEX64, "{\"terminated\":{\"exitCode\":2}}", "not running" },
		{ "containerd:/\\n/evil", "{\"running\":{}}", "does not know (`containerd`)" },
		{ NULL, NULL, NULL },
	};
	struct kube_node_target t;
	struct dhi_err *err = NULL;

	for (int i = 0; bad[i].cid; i++) {
		json_t *p = pod_with(bad[i].cid, bad[i].state);

		assert_int_equal(kube_node_target(p, "web", &t, &err), -1);
		assert_non_null(strstr(err->msg, bad[i].why));
		assert_null(strchr(err->msg, '\n'));
		dhi_err_clear(&err);
		json_decref(p);
	}
	/* no container status, no node */
	{
		json_t *p = json_loads("{\"spec\":{\"nodeName\":\"n1\"},\"status\":{}}", 0, NULL);

		assert_int_equal(kube_node_target(p, "web", &t, &err), -1);
		dhi_err_clear(&err);
		json_decref(p);
		p = json_loads("{\"spec\":{}}", 0, NULL);
		assert_int_equal(kube_node_target(p, "web", &t, &err), -1);
		dhi_err_clear(&err);
		json_decref(p);
	}
}

static void test_kube_node_pod_manifest(void **state)
{
	struct kube_node_target t = { .node = "n1", .id = HEX64, .runtime = "crio",
				      .dhidebug_target = "crio://" HEX64 };
	char *prog[] = { "ss", "-tlnp", NULL };
	struct kube_node_spec s = { .namespace = "ops", .image = "img:1", .profile = "observe",
				    .program = prog, .target_namespace = "shop",
				    .target_pod = "cart-7d9f", .target_container = "web",
				    .target = &t, .session = "abcde", .deadline = 600 };
	json_t *p = kube_node_pod(&s), *spec = json_object_get(p, "spec");
	json_t *c = json_array_get(json_object_get(spec, "containers"), 0);
	char *cmd = json_dumps(json_object_get(c, "command"), JSON_COMPACT);
	char *tol = json_dumps(json_object_get(spec, "tolerations"), JSON_COMPACT);
	json_t *v;
	size_t i;
	int host_dirs = 0;

	assert_string_equal(cmd, "[\"dhidebug\",\"--profile\",\"observe\",\"crio://" HEX64
				 "\",\"--\",\"ss\",\"-tlnp\"]");
	assert_string_equal(tol, "[{\"operator\":\"Exists\"}]");
	assert_string_equal(json_string_value(json_object_get(spec, "nodeName")), "n1");
	assert_true(json_is_true(json_object_get(spec, "hostPID")));
	assert_int_equal(json_integer_value(json_object_get(spec, "activeDeadlineSeconds")), 600);
	assert_true(json_is_true(json_object_get(json_object_get(c, "securityContext"),
						 "privileged")));
	json_array_foreach(json_object_get(spec, "volumes"), i, v) {
		const char *path = json_string_value(json_object_get(json_object_get(v, "hostPath"),
								     "path"));
		assert_string_not_equal(path, "/run/containerd");
		host_dirs++;
	}
	assert_int_equal(host_dirs, 5); /* 3 of CRI-O's, the cgroups, dhidebug's cache */
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(p,
			    "metadata"), "labels"), "dhidebug.io/target-pod")), "cart-7d9f");
	free(cmd);
	free(tol);
	json_decref(p);
}

static void test_kube_conn_parse_hostile(void **state)
{
	static const char *const bad[] = {
		"", "null", "[]", "{\"clusters\":{}}", "{\"clusters\":[{\"cluster\":{\"server\":7}}]}",
		"{\"clusters\":[{\"cluster\":{\"server\":\"\"}}]}",
		"{\"clusters\":[{\"cluster\":{\"server\":\"https://k\","
		"\"certificate-authority-data\":\"***not base64***\"}}]}",
		NULL,
	};
	struct kube_conn c;
	struct dhi_err *err = NULL;

	for (const char *const *b = bad; *b; b++) {
		assert_int_equal(parse(*b, &c, &err), -1);
		assert_non_null(err);
		dhi_err_clear(&err);
	}
}

static void test_kube_status_message(void **state)
{
	char *m = kube_status_message("{\"kind\":\"Status\",\"message\":\"pods \\\"x\\\" is forbidden\"}");

	assert_string_equal(m, "pods \"x\" is forbidden");
	free(m);
	m = kube_status_message("<html>bad gateway</html>");
	assert_string_equal(m, "<html>bad gateway</html>");
	free(m);
}

static void test_kube_status_message_control_bytes(void **state)
{
	/* an ESC sequence (set the title, clear the screen), CR/LF forging a line, a C1 CSI */
	char *m = kube_status_message("{\"kind\":\"Status\",\"message\":\"denied\\u001b]0;pwned"
				      "\\u0007\\u001b[2J\\r\\nkubectl-dhidebug: ok\\u009b31m\"}");

	assert_string_equal(m, "denied?]0;pwned??[2J??kubectl-dhidebug: ok?31m");
	free(m);
	/* not JSON: the body itself, cut at 300 bytes, and bytes that are not UTF-8 too */
	m = kube_status_message("<html>\x1b[31mbad\xff\xc0\xaf gateway\r\n</html>");
	assert_string_equal(m, "<html>?[31mbad??? gateway?" "?</html>");
	free(m);
}

static void test_kube_printable(void **state)
{
	char *m = kube_printable("caf\xc3\xa9 \xe2\x80\xae" "evil \xe2\x80\xa8 ok\t\x7f");

	/* UTF-8 text stays; a bidi override, a line separator, TAB and DEL do not */
	assert_string_equal(m, "caf\xc3\xa9 ?evil ? ok??");
	free(m);
	assert_true(kube_is_utf8("caf\xc3\xa9 \xf0\x9f\x90\xb3"));
	assert_false(kube_is_utf8("\xff"));
	assert_false(kube_is_utf8("a\xc3"));
	assert_false(kube_is_utf8("\xc0\xaf"));       /* overlong '/' */
	assert_false(kube_is_utf8("\xed\xa0\x80"));   /* a surrogate */
}

static void test_kube_node_on_event_control_bytes(void **state)
{
	struct kube_node_wait w = { .name = "dhidebug-node-x", .image = "img", .node = "n1" };
	struct dhi_err *err = NULL;

	assert_int_equal(kube_node_on_event("{\"type\":\"MODIFIED\",\"object\":{\"status\":{"
					    "\"containerStatuses\":[{\"name\":\"dhidebug\",\"state\":{"
					    "\"terminated\":{\"exitCode\":1,\"reason\":\"E\\u001b[1m\","
					    "\"message\":\"x\\r\\n\\u001b]0;t\\u0007\"}}}]}}}", &w, &err),
			 -1);
	assert_null(strchr(err->msg, '\x1b'));
	assert_null(strchr(err->msg, '\n'));
	assert_null(strchr(err->msg, '\r'));
	assert_non_null(strstr(err->msg, "(code 1, E?[1m): x???]0;t?"));
	dhi_err_clear(&err);
	assert_int_equal(kube_node_on_event("{\"type\":\"MODIFIED\",\"object\":{\"status\":{"
					    "\"conditions\":[{\"type\":\"PodScheduled\",\"status\":"
					    "\"False\",\"reason\":\"Unschedulable\",\"message\":"
					    "\"no\\u001b[2J\\nnodes\"}]}}}", &w, &err), -1);
	assert_non_null(strstr(err->msg, ": no?[2J?nodes"));
	dhi_err_clear(&err);
}

#define SSR_V1 "authentication.k8s.io/v1"
#define SSR_HEAD "{\"apiVersion\":\"" SSR_V1 "\",\"kind\":\"SelfSubjectReview\",\"metadata\":{}," \
		 "\"status\":{\"userInfo\":"

static json_t *user_parse(const char *body, struct dhi_err **err)
{
	return kube_user_parse(body, strlen(body), SSR_V1, err);
}

static void test_kube_user_parse_answer(void **state)
{
	struct dhi_err *err = NULL;
	json_auto_t *u = user_parse(SSR_HEAD "{\"username\":\"oidc:jane@example.com\",\"uid\":\"u-1\","
				    "\"groups\":[\"sre\",\"system:authenticated\"],\"extra\":{\"k\":"
				    "[\"v\"]}}}}", &err);
	json_auto_t *bare = NULL, *beta = NULL;
	dhi_autofree char *dump = NULL;

	assert_null(err);
	dump = json_dumps(u, JSON_COMPACT | JSON_SORT_KEYS);
	/* extra is not kept */
	assert_string_equal(dump, "{\"groups\":[\"sre\",\"system:authenticated\"],\"uid\":\"u-1\","
				  "\"username\":\"oidc:jane@example.com\"}");
	/* uid empty or absent: null; groups absent: [] */
	bare = user_parse(SSR_HEAD "{\"username\":\"admin\",\"uid\":\"\"}}}", &err);
	assert_null(err);
	assert_true(json_is_null(json_object_get(bare, "uid")));
	assert_int_equal(json_array_size(json_object_get(bare, "groups")), 0);
	assert_null(json_object_get(bare, "groups_omitted"));
	/* the version asked is the version answered */
	beta = kube_user_parse("{\"apiVersion\":\"authentication.k8s.io/v1beta1\",\"kind\":"
			       "\"SelfSubjectReview\",\"status\":{\"userInfo\":{\"username\":\"b\"}}}",
			       strlen("{\"apiVersion\":\"authentication.k8s.io/v1beta1\",\"kind\":"
				      "\"SelfSubjectReview\",\"status\":{\"userInfo\":{\"username\":"
				      "\"b\"}}}"), "authentication.k8s.io/v1beta1", &err);
	assert_null(err);
	assert_string_equal(json_string_value(json_object_get(beta, "username")), "b");
}

static void test_kube_user_parse_control_bytes(void **state)
{
	struct dhi_err *err = NULL;
	json_auto_t *u = user_parse(SSR_HEAD "{\"username\":\"eve\\u001b]0;x\\u0007\\r\\nroot\\u009b1m"
				    "\\u202e\",\"uid\":\"\\u001b[2J\",\"groups\":[\"a\\nb\",\"\\u2028\"]}}}",
				    &err);

	assert_null(err);
	assert_string_equal(json_string_value(json_object_get(u, "username")), "eve?]0;x???root?1m?");
	assert_string_equal(json_string_value(json_object_get(u, "uid")), "?[2J");
	assert_string_equal(json_string_value(json_array_get(json_object_get(u, "groups"), 0)), "a?b");
	assert_string_equal(json_string_value(json_array_get(json_object_get(u, "groups"), 1)), "?");
}

static void test_kube_user_parse_bounded(void **state)
{
	struct dhi_err *err = NULL;
	char name[KUBE_USER_TEXT_MAX + 2];
	dhi_autofree char *groups = xstrdup(""), *body = NULL;
	json_auto_t *u = NULL, *fits = NULL, *over = NULL;

	for (int i = 0; i < 100; i++) {
		char *g = xasprintf("%s%s\"g%d\"", groups, i ? "," : "", i);

		free(groups);
		groups = g;
	}
	body = xasprintf(SSR_HEAD "{\"username\":\"u\",\"groups\":[%s]}}}", groups);
	u = user_parse(body, &err);
	assert_null(err);
	assert_int_equal(json_array_size(json_object_get(u, "groups")), KUBE_USER_GROUPS_MAX);
	assert_string_equal(json_string_value(json_array_get(json_object_get(u, "groups"), 63)), "g63");
	assert_int_equal(json_integer_value(json_object_get(u, "groups_omitted")), 100 - 64);

	/* KUBE_USER_TEXT_MAX bytes fit; one more is refused, not cut (a cut name may be another's) */
	memset(name, 'a', sizeof(name) - 2);
	name[sizeof(name) - 2] = '\0';
	free(body);
	body = xasprintf(SSR_HEAD "{\"username\":\"%s\"}}}", name);
	fits = user_parse(body, &err);
	assert_null(err);
	assert_int_equal(strlen(json_string_value(json_object_get(fits, "username"))),
			 KUBE_USER_TEXT_MAX);
	strcat(name, "a");
	free(body);
	body = xasprintf(SSR_HEAD "{\"username\":\"%s\"}}}", name);
	over = user_parse(body, &err);
	assert_null(over);
	assert_non_null(err);
	assert_null(strstr(err->msg, "aaaa"));
	dhi_err_clear(&err);
	free(body);
	body = xasprintf(SSR_HEAD "{\"username\":\"u\",\"groups\":[\"%s\"]}}}", name);
	assert_null(user_parse(body, &err));
	dhi_err_clear(&err);
}

static void test_kube_user_parse_hostile(void **state)
{
	static const char *const bad[] = {
		"",
		"SECRET",
		"[]",
		"null",
		SSR_HEAD "{\"username\":\"SECRET\"}}} trailing",
		/* a NUL would end the name early in C */
		SSR_HEAD "{\"username\":\"SECRET\\u0000admin\"}}}",
		/* which username? */
		SSR_HEAD "{\"username\":\"SECRET\",\"username\":\"admin\"}}}",
		"{\"apiVersion\":\"" SSR_V1 "\",\"kind\":\"SelfSubjectReview\",\"kind\":\"Status\","
		"\"status\":{\"userInfo\":{\"username\":\"SECRET\"}}}",
		/* another kind or apiVersion */
		"{\"apiVersion\":\"v1\",\"kind\":\"Status\",\"message\":\"SECRET\"}",
		"{\"apiVersion\":\"authentication.k8s.io/v1beta1\",\"kind\":\"SelfSubjectReview\","
		"\"status\":{\"userInfo\":{\"username\":\"SECRET\"}}}",
		"{\"kind\":\"SelfSubjectReview\",\"status\":{\"userInfo\":{\"username\":\"SECRET\"}}}",
		"{\"apiVersion\":\"" SSR_V1 "\",\"kind\":\"TokenReview\",\"status\":{\"user\":"
		"{\"username\":\"SECRET\"}}}",
		/* no userInfo */
		"{\"apiVersion\":\"" SSR_V1 "\",\"kind\":\"SelfSubjectReview\"}",
		"{\"apiVersion\":\"" SSR_V1 "\",\"kind\":\"SelfSubjectReview\",\"status\":[]}",
		SSR_HEAD "\"SECRET\"}}",
		SSR_HEAD "null}}",
		/* no username, or not a string */
		SSR_HEAD "{}}}",
		SSR_HEAD "{\"username\":\"\",\"groups\":[\"SECRET\"]}}}",
		SSR_HEAD "{\"username\":null}}}",
		SSR_HEAD "{\"username\":42}}}",
		SSR_HEAD "{\"username\":[\"SECRET\"]}}}",
		SSR_HEAD "{\"username\":{\"name\":\"SECRET\"}}}}",
		/* uid or groups of the wrong type */
		SSR_HEAD "{\"username\":\"SECRET\",\"uid\":7}}}",
		SSR_HEAD "{\"username\":\"SECRET\",\"groups\":\"admins\"}}}",
		SSR_HEAD "{\"username\":\"SECRET\",\"groups\":{\"0\":\"admins\"}}}}",
		SSR_HEAD "{\"username\":\"SECRET\",\"groups\":[\"a\",null]}}}",
		SSR_HEAD "{\"username\":\"SECRET\",\"groups\":[\"a\",[\"b\"]]}}}",
		NULL,
	};

	for (int i = 0; bad[i]; i++) {
		struct dhi_err *err = NULL;
		json_t *u = user_parse(bad[i], &err);

		if (u) {
			char *d = json_dumps(u, 0);

			fail_msg("accepted #%d `%s` as %s", i, bad[i], d);
		}
		assert_non_null(err);
		/* none of the answer appears in the error */
		if (strstr(err->msg, "SECRET") || strchr(err->msg, '\n'))
			fail_msg("#%d: the error quotes the answer: %s", i, err->msg);
		dhi_err_clear(&err);
	}
	/* the length given ends the body, not a NUL: what lies after it is not read */
	{
		struct dhi_err *err = NULL;
		static const char ok[] = SSR_HEAD "{\"username\":\"a\"}}}";
		static const char more[] = SSR_HEAD "{\"username\":\"a\"}}}{\"x\":";
		json_auto_t *u = kube_user_parse(more, sizeof(ok) - 1, SSR_V1, &err);

		assert_null(err);
		assert_string_equal(json_string_value(json_object_get(u, "username")), "a");
		assert_null(kube_user_parse(ok, sizeof(ok) - 3, SSR_V1, &err));
		dhi_err_clear(&err);
	}
}

static void test_kube_conn_parse_insecure_with_ca_refused(void **state)
{
	struct kube_conn c;
	struct dhi_err *err = NULL;

	(void)state;
	assert_int_equal(parse("{\"clusters\":[{\"cluster\":{\"server\":\"https://k\","
			       "\"insecure-skip-tls-verify\":true,\"certificate-authority-data\":\""
			       PEM_B64 "\"}}],\"users\":[{\"user\":{}}],\"contexts\":[{}]}",
			       &c, &err), -1);
	assert_non_null(strstr(err->msg, "insecure-skip-tls-verify and a certificate-authority"));
	dhi_err_clear(&err);
	assert_int_equal(parse("{\"clusters\":[{\"cluster\":{\"server\":\"https://k\","
			       "\"insecure-skip-tls-verify\":true,\"certificate-authority\":"
			       "\"/etc/ca.crt\"}}],\"users\":[{\"user\":{}}],\"contexts\":[{}]}",
			       &c, &err), -1);
	dhi_err_clear(&err);
	/* (false with a CA is simply verified) */
	assert_int_equal(parse("{\"clusters\":[{\"cluster\":{\"server\":\"https://k\","
			       "\"insecure-skip-tls-verify\":false,\"certificate-authority\":"
			       "\"/etc/ca.crt\"}}],\"users\":[{\"user\":{}}],\"contexts\":[{}]}",
			       &c, &err), 0);
	kube_conn_free(&c);
}

static json_t *node_pod_answer(const char *name, const char *ns, const char *session,
			       const char *uid)
{
	return json_pack("{s:s, s:{s:s, s:s, s:s?, s:{s:s, s:s}}}", "kind", "Pod", "metadata",
			 "name", name, "namespace", ns, "uid", uid, "labels", "dhidebug.io/session",
			 session, "app.kubernetes.io/component", "node-session");
}

static void test_kube_node_pod_check(void **state)
{
	struct {
		const char *name, *ns, *session, *uid, *want;
	} cases[] = {
		{ "dhidebug-node-x7k2p", "dbg", "s3ss10n", "0f3c-11aa", NULL },
		{ "victim-db-0", "dbg", "s3ss10n", "0f3c-11aa", "generateName" },
		{ "dhidebug-node-", "dbg", "s3ss10n", "0f3c-11aa", "generateName" },
		{ "dhidebug-node-../x", "dbg", "s3ss10n", "0f3c-11aa", "generateName" },
		{ "dhidebug-node-x7k2p", "default", "s3ss10n", "0f3c-11aa", "namespace `default`" },
		{ "dhidebug-node-x7k2p", "dbg", "other", "0f3c-11aa", "labels" },
		{ "dhidebug-node-x7k2p", "dbg", "s3ss10n", NULL, "no uid" },
		{ "dhidebug-node-x7k2p", "dbg", "s3ss10n", "\"}, \"x", "no uid" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_auto_t *p = node_pod_answer(cases[i].name, cases[i].ns, cases[i].session,
						 cases[i].uid);
		struct dhi_err *err = NULL;
		const char *n = NULL, *u = NULL;
		int r = kube_node_pod_check(p, "dbg", "s3ss10n", &n, &u, &err);

		if (!cases[i].want) {
			assert_int_equal(r, 0);
			assert_string_equal(n, cases[i].name);
			assert_string_equal(u, cases[i].uid);
			continue;
		}
		assert_int_equal(r, -1);
		if (!strstr(err->msg, cases[i].want))
			fail_msg("case %zu: `%s` lacks `%s`", i, err->msg, cases[i].want);
		dhi_err_clear(&err);
	}
}

static void test_kube_delete_options_precondition(void **state)
{
	char *s = kube_delete_options("0f3c-11aa");
	json_auto_t *o = json_loads(s, 0, NULL);

	(void)state;
	assert_string_equal(json_string_value(json_object_get(o, "kind")), "DeleteOptions");
	assert_int_equal(json_integer_value(json_object_get(o, "gracePeriodSeconds")), 0);
	assert_string_equal(json_string_value(json_object_get(json_object_get(o, "preconditions"),
							      "uid")), "0f3c-11aa");
	free(s);
}

/* kubectl dhidebug cp's operands: which is the pod's, and where a copy in lands there. */
static void test_kube_cp_parse(void **st)
{
	static const struct {
		const char *src, *dst;
		bool out;
		const char *ns, *pod, *cpath, *in_dir, *in_name;
	} ok[] = {
		{ "app:/var/log", "./logs", true, NULL, "app", "/var/log", NULL, NULL },
		{ "shop/web-0:tmp/core", "/x", true, "shop", "web-0", "/tmp/core", NULL, NULL },
		{ "./fix.conf", "web-0:/etc/app/", false, NULL, "web-0", "/etc/app/", "/etc/app",
		  "fix.conf" },
		{ "/a/fix.conf", "web-0:/etc/app/app.conf", false, NULL, "web-0",
		  "/etc/app/app.conf", "/etc/app", "app.conf" },
		{ "dir/", "p:/", false, NULL, "p", "/", "/", "dir" },
		/* a `:` in a path of this side: not a pod */
		{ "./a:b", "p:/x/", false, NULL, "p", "/x/", "/x", "a:b" },
		{ "p:/x", "/tmp/a:b", true, NULL, "p", "/x", NULL, NULL },
	};
	static const struct {
		const char *src, *dst;
	} bad[] = {
		{ "a:/x", "b:/y" },		/* both */
		{ "./a", "./b" },		/* neither */
		{ "Web:/x", "./y" },		/* not a DNS name: a path, so neither */
		{ "p:/", "./out" },		/* out of / */
		{ "p:/x/..", "./out" },
		{ "..", "p:/x/" },		/* no name to go under */
		{ "./a", "p:/x/.." },
		{ "", "p:/x" },
	};
	struct dhi_err *err = NULL;
	struct kube_cp_spec s;

	(void)st;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(kube_cp_parse(ok[i].src, ok[i].dst, &s, &err), 0);
		assert_true(s.out == ok[i].out);
		if (ok[i].ns)
			assert_string_equal(s.namespace, ok[i].ns);
		else
			assert_null(s.namespace);
		assert_string_equal(s.pod, ok[i].pod);
		assert_string_equal(s.cpath, ok[i].cpath);
		if (ok[i].in_dir) {
			assert_string_equal(s.in_dir, ok[i].in_dir);
			assert_string_equal(s.in_name, ok[i].in_name);
		}
		kube_cp_spec_free(&s);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(kube_cp_parse(bad[i].src, bad[i].dst, &s, &err), -1);
		assert_int_equal(err->status, 2);
		dhi_err_clear(&err);
		kube_cp_spec_free(&s);
	}
}

/* The container's command: out waits for the plugin's byte before it writes its stream. */
static void test_kube_cp_command(void **st)
{
	struct dhi_err *err = NULL;
	struct kube_cp_spec s;
	json_t *cmd;
	char *j;

	(void)st;
	assert_int_equal(kube_cp_parse("app:/data", "./d", &s, &err), 0);
	cmd = kube_cp_command(&s, "general", "pid://1", true, false);
	j = json_dumps(cmd, JSON_COMPACT);
	assert_string_equal(j, "[\"dhidebug\",\"cp\",\"--profile\",\"general\",\"-a\","
			       "\"--wait-stdin\",\"pid://1:/data\",\"-\"]");
	free(j);
	json_decref(cmd);
	kube_cp_spec_free(&s);
	assert_int_equal(kube_cp_parse("./x", "app:/etc/y", &s, &err), 0);
	cmd = kube_cp_command(&s, "observe", "containerd://k8s.io/ab", false, true);
	j = json_dumps(cmd, JSON_COMPACT);
	assert_string_equal(j, "[\"dhidebug\",\"cp\",\"--profile\",\"observe\",\"--force\","
			       "\"-\",\"containerd://k8s.io/ab:/etc\"]");
	free(j);
	json_decref(cmd);
	kube_cp_spec_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kube_conn_parse_insecure_with_ca_refused),
		cmocka_unit_test(test_kube_cp_parse),
		cmocka_unit_test(test_kube_cp_command),
		cmocka_unit_test(test_kube_node_pod_check),
		cmocka_unit_test(test_kube_delete_options_precondition),
		cmocka_unit_test(test_kube_conn_parse_token_and_ca_data),
		cmocka_unit_test(test_kube_conn_parse_client_cert_and_default_namespace),
		cmocka_unit_test(test_kube_conn_parse_exec_plugin),
		cmocka_unit_test(test_kube_exec_info_without_cluster_info),
		cmocka_unit_test(test_kube_conn_parse_exec_refused),
		cmocka_unit_test(test_kube_exec_parse_token_and_cert),
		cmocka_unit_test(test_kube_exec_parse_hostile),
		cmocka_unit_test(test_kube_exec_run_exec_info_from_env_is_replaced),
		cmocka_unit_test(test_kube_exec_run_killed_after_timeout),
		cmocka_unit_test(test_kube_exec_run_pipe_fails),
		cmocka_unit_test(test_kube_node_target_runtimes),
		cmocka_unit_test(test_kube_node_target_refused),
		cmocka_unit_test(test_kube_node_pod_manifest),
		cmocka_unit_test(test_kube_conn_parse_hostile),
		cmocka_unit_test(test_kube_status_message),
		cmocka_unit_test(test_kube_status_message_control_bytes),
		cmocka_unit_test(test_kube_printable),
		cmocka_unit_test(test_kube_node_on_event_control_bytes),
		cmocka_unit_test(test_kube_user_parse_answer),
		cmocka_unit_test(test_kube_user_parse_control_bytes),
		cmocka_unit_test(test_kube_user_parse_bounded),
		cmocka_unit_test(test_kube_user_parse_hostile),
	};

	return cmocka_run_group_tests_name("kube", tests, NULL, NULL);
}

// SPDX-License-Identifier: Apache-2.0
/* kube.c - kubeconfig through `kubectl config view`, and API requests and watches with libcurl. */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <openssl/evp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fdio.h"
#include "common/rfc3339.h"
#include "common/membuf.h"
#include "common/xalloc.h"
#include "injector/kubectl/kube.h"

extern char **environ;

static char *kubeconfig_dir(const char *kubeconfig);

/* what an exec credential plugin may print, and how long it may take */
#define EXEC_OUT_MAX (1u << 20)
#define EXEC_TIMEOUT_S 60
#define EXEC_INTERACTIVE_TIMEOUT_S 300
#define EXEC_API_V1 "client.authentication.k8s.io/v1"
#define EXEC_API_V1BETA1 "client.authentication.k8s.io/v1beta1"

static void curl_cleanupp(CURL **h)
{
	if (*h)
		curl_easy_cleanup(*h);
}
#define autocurl __attribute__((cleanup(curl_cleanupp)))

/* (the Authorization header holds the token: wiped before it is freed) */
static void slist_freep(struct curl_slist **l)
{
	for (struct curl_slist *p = *l; p; p = p->next)
		if (strncasecmp(p->data, "Authorization:", 14) == 0)
			explicit_bzero(p->data, strlen(p->data));
	if (*l)
		curl_slist_free_all(*l);
}
#define autoslist __attribute__((cleanup(slist_freep)))

/* kubeconfig keeps certificates base64-encoded; decode into a new buffer. */
static int b64_decode(const char *in, char **out, size_t *outlen, const char *what,
		      struct dhi_err **err)
{
	size_t n = strlen(in);
	dhi_autofree char *buf = xmalloc(n / 4 * 3 + 4);
	EVP_ENCODE_CTX *ctx = EVP_ENCODE_CTX_new();
	int len = 0, fin = 0, r;

	if (!ctx)
		abort();
	EVP_DecodeInit(ctx);
	r = EVP_DecodeUpdate(ctx, (unsigned char *)buf, &len, (const unsigned char *)in, (int)n);
	if (r >= 0)
		r = EVP_DecodeFinal(ctx, (unsigned char *)buf + len, &fin);
	EVP_ENCODE_CTX_free(ctx);
	if (r < 0)
		return dhi_err_set(err, 0, "invalid base64 in `%s`", what);
	buf[len + fin] = '\0';
	*outlen = (size_t)(len + fin);
	*out = dhi_steal_ptr(&buf);
	return 0;
}

static const char *str_at(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static int read_small_file(const char *path, char **out, struct dhi_err **err)
{
	dhi_autoclose int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t n = 0;

	if (fd < 0)
		return dhi_err_set(err, errno, "cannot open `%s`", path);
	if (fd_read_file(fd, 16384, out, &n, err) < 0)
		return dhi_err_prefix(err, "`%s`", path);
	while (n > 0 && ((*out)[n - 1] == '\n' || (*out)[n - 1] == '\r'))
		(*out)[--n] = '\0';
	return 0;
}

/* A string that may hold a credential: wiped, then freed. */
static void free_secret(char *s)
{
	if (s)
		explicit_bzero(s, strlen(s));
	free(s);
}

static void strv_free(char **v)
{
	for (char **p = v; p && *p; p++)
		free(*p);
	free(v);
}

static void exec_free(struct kube_exec *x)
{
	if (!x)
		return;
	free(x->command);
	strv_free(x->args);
	strv_free(x->env);
	free(x->api_version);
	free(x->install_hint);
	free(x->interactive_mode);
	free(x->cluster_json);
	free(x->dir);
	free(x);
}

static char *b64_encode(const char *in, size_t len)
{
	char *out = xmalloc((len + 2) / 3 * 4 + 1);

	EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)in, (int)len);
	return out;
}

/*
 * spec.cluster of KUBERNETES_EXEC_INFO: the kubeconfig's cluster fields that
 * the Cluster type of client.authentication.k8s.io shadows, the CA always as
 * data, and `config` from the cluster's client.authentication.k8s.io/exec
 * extension.
 */
static int exec_cluster_json(json_t *cluster, char **out, struct dhi_err **err)
{
	static const char *const copied[] = { "server", "tls-server-name", "insecure-skip-tls-verify",
					      "certificate-authority-data", "proxy-url",
					      "disable-compression", NULL };
	json_auto_t *o = json_object();
	json_t *ext, *e;
	const char *caf;
	size_t i;

	for (const char *const *k = copied; *k; k++)
		if (json_object_get(cluster, *k))
			json_object_set(o, *k, json_object_get(cluster, *k));
	caf = str_at(cluster, "certificate-authority");
	if (caf && !json_object_get(o, "certificate-authority-data")) {
		dhi_autofree char *pem = NULL, *b64 = NULL;

		if (read_small_file(caf, &pem, err) < 0)
			return dhi_err_prefix(err, "certificate-authority for the exec plugin");
		b64 = b64_encode(pem, strlen(pem));
		json_object_set_new(o, "certificate-authority-data", json_string(b64));
	}
	ext = json_object_get(cluster, "extensions");
	json_array_foreach(ext, i, e) {
		const char *n = str_at(e, "name");

		if (n && strcmp(n, "client.authentication.k8s.io/exec") == 0 &&
		    json_object_get(e, "extension"))
			json_object_set(o, "config", json_object_get(e, "extension"));
	}
	*out = json_dumps(o, JSON_COMPACT);
	return *out ? 0 : dhi_err_set(err, ENOMEM, "cannot encode the cluster for the exec plugin");
}

/* users[].user.exec of the kubeconfig, checked as client-go checks it. */
static int parse_exec(json_t *e, json_t *cluster, struct kube_exec **out, struct dhi_err **err)
{
	struct kube_exec *x = xzalloc(sizeof(*x));
	json_t *args = json_object_get(e, "args"), *env = json_object_get(e, "env"), *v;
	const char *api = str_at(e, "apiVersion"), *mode = str_at(e, "interactiveMode");
	const char *cmd = str_at(e, "command");
	size_t i, n = 0;

	if (!json_is_object(e) || !cmd || !*cmd) {
		exec_free(x);
		return dhi_err_set(err, 0, "the kubeconfig's exec credential plugin has no `command`");
	}
	x->command = xstrdup(cmd);
	if (!api || (strcmp(api, EXEC_API_V1) != 0 && strcmp(api, EXEC_API_V1BETA1) != 0)) {
		dhi_err_set(err, 0, "exec credential plugin `%s`: apiVersion `%s` is not supported "
				    "(" EXEC_API_V1 " or " EXEC_API_V1BETA1 ")", cmd, api ? api : "");
		goto fail;
	}
	x->api_version = xstrdup(api);
	/* v1 makes interactiveMode required; v1beta1 defaults to IfAvailable */
	if (!mode && strcmp(api, EXEC_API_V1BETA1) == 0)
		mode = "IfAvailable";
	if (!mode || (strcmp(mode, "Never") != 0 && strcmp(mode, "IfAvailable") != 0 &&
		      strcmp(mode, "Always") != 0)) {
		dhi_err_set(err, 0, "exec credential plugin `%s`: interactiveMode must be Never, "
				    "IfAvailable or Always", cmd);
		goto fail;
	}
	x->interactive_mode = xstrdup(mode);
	if (str_at(e, "installHint"))
		x->install_hint = xstrdup(str_at(e, "installHint"));
	if ((args && !json_is_array(args) && !json_is_null(args)) ||
	    (env && !json_is_array(env) && !json_is_null(env))) {
		dhi_err_set(err, 0, "exec credential plugin `%s`: args and env must be lists", cmd);
		goto fail;
	}
	x->args = xzalloc((json_array_size(args) + 1) * sizeof(char *));
	json_array_foreach(args, i, v) {
		if (!json_is_string(v)) {
			dhi_err_set(err, 0, "exec credential plugin `%s`: args[%zu] is not a string",
				    cmd, i);
			goto fail;
		}
		x->args[i] = xstrdup(json_string_value(v));
	}
	x->env = xzalloc((json_array_size(env) + 1) * sizeof(char *));
	json_array_foreach(env, i, v) {
		const char *name = str_at(v, "name"), *val = str_at(v, "value");

		if (!name || !*name || strchr(name, '=') || !val) {
			dhi_err_set(err, 0, "exec credential plugin `%s`: env[%zu] needs a `name` "
					    "(without `=`) and a `value`", cmd, i);
			goto fail;
		}
		x->env[n++] = xasprintf("%s=%s", name, val);
	}
	if (json_is_true(json_object_get(e, "provideClusterInfo")) &&
	    exec_cluster_json(cluster, &x->cluster_json, err) < 0)
		goto fail;
	*out = x;
	return 0;
fail:
	exec_free(x);
	return -1;
}

int kube_conn_parse(const char *json, size_t len, struct kube_conn *c, struct dhi_err **err)
{
	json_error_t jerr;
	json_auto_t *root = json_loadb(json, len, 0, &jerr);
	json_t *cluster, *user, *ctx;
	const char *s, *srv;

	memset(c, 0, sizeof(*c));
	if (!json_is_object(root))
		return dhi_err_set(err, 0, "kubeconfig is not JSON: %s", jerr.text);
	cluster = json_object_get(json_array_get(json_object_get(root, "clusters"), 0), "cluster");
	user = json_object_get(json_array_get(json_object_get(root, "users"), 0), "user");
	ctx = json_object_get(json_array_get(json_object_get(root, "contexts"), 0), "context");
	srv = str_at(cluster, "server");
	if (!srv || !*srv)
		return dhi_err_set(err, 0, "kubeconfig has no current cluster with a `server`");
	c->server = xstrdup(srv);
	while (strlen(c->server) > 0 && c->server[strlen(c->server) - 1] == '/')
		c->server[strlen(c->server) - 1] = '\0';
	s = str_at(ctx, "namespace");
	c->namespace = xstrdup(s && *s ? s : "default");
	c->insecure = json_is_true(json_object_get(cluster, "insecure-skip-tls-verify"));
	/* (client-go refuses the pair: which of the two was meant cannot be known) */
	if (c->insecure && (str_at(cluster, "certificate-authority-data") ||
			    str_at(cluster, "certificate-authority"))) {
		kube_conn_free(c);
		return dhi_err_set(err, 0, "the kubeconfig's cluster sets insecure-skip-tls-verify "
					   "and a certificate-authority: specifying a root "
					   "certificate with the insecure flag is not allowed");
	}
	if ((s = str_at(cluster, "certificate-authority-data")) &&
	    b64_decode(s, &c->ca_pem, &c->ca_len, "certificate-authority-data", err) < 0)
		goto fail;
	c->ca_file = dup_or_null(str_at(cluster, "certificate-authority"));
	if (json_object_get(user, "exec") && !json_is_null(json_object_get(user, "exec")) &&
	    parse_exec(json_object_get(user, "exec"), cluster, &c->exec, err) < 0)
		goto fail;
	if (json_object_get(user, "auth-provider"))
		return kube_conn_free(c),
		       dhi_err_set(err, 0, "the kubeconfig user uses an auth-provider, which "
					   "kubectl-dhidebug does not support");
	if ((s = str_at(user, "client-certificate-data")) &&
	    b64_decode(s, &c->cert_pem, &c->cert_len, "client-certificate-data", err) < 0)
		goto fail;
	if ((s = str_at(user, "client-key-data")) &&
	    b64_decode(s, &c->key_pem, &c->key_len, "client-key-data", err) < 0)
		goto fail;
	c->cert_file = dup_or_null(str_at(user, "client-certificate"));
	c->key_file = dup_or_null(str_at(user, "client-key"));
	c->token = dup_or_null(str_at(user, "token"));
	if (!c->token && (s = str_at(user, "tokenFile")) && read_small_file(s, &c->token, err) < 0)
		goto fail;
	return 0;
fail:
	kube_conn_free(c);
	return -1;
}

void kube_conn_free(struct kube_conn *c)
{
	free(c->server);
	free(c->namespace);
	free(c->ca_pem);
	free(c->ca_file);
	free(c->cert_pem);
	if (c->key_pem)
		explicit_bzero(c->key_pem, c->key_len);
	free(c->key_pem);
	free(c->cert_file);
	free(c->key_file);
	free_secret(c->token);
	exec_free(c->exec);
	memset(c, 0, sizeof(*c));
}

/* Runs `kubectl config view --raw -o json [--minify] [--kubeconfig K] [--context C]`. */
static int kubectl_config_view(bool minify, const char *kubeconfig, const char *context,
			       char **outp, size_t *lenp, struct dhi_err **err)
{
	const char *argv[12];
	int n = 0, pipefd[2], status;
	dhi_autoclose int rfd = -1;
	dhi_autofree char *out = NULL;
	size_t len = 0, cap = 0;
	pid_t pid;

	argv[n++] = "kubectl";
	argv[n++] = "config";
	argv[n++] = "view";
	argv[n++] = "--raw";
	if (minify)
		argv[n++] = "--minify";
	argv[n++] = "-o";
	argv[n++] = "json";
	if (kubeconfig) {
		argv[n++] = "--kubeconfig";
		argv[n++] = kubeconfig;
	}
	if (context) {
		argv[n++] = "--context";
		argv[n++] = context;
	}
	argv[n] = NULL;
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return dhi_err_set(err, errno, "cannot create a pipe");
	rfd = pipefd[0];
	pid = fork();
	if (pid < 0) {
		close(pipefd[1]);
		return dhi_err_set(err, errno, "cannot fork");
	}
	if (pid == 0) {
		if (dup2(pipefd[1], STDOUT_FILENO) < 0)
			_exit(127);
		execvp("kubectl", (char *const *)argv);
		fprintf(stderr, "kubectl-dhidebug: cannot run `kubectl`: %s\n", strerror(errno));
		_exit(127);
	}
	close(pipefd[1]);
	for (;;) {
		ssize_t r;

		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 16384;
			out = xrealloc(out, cap);
		}
		r = read(rfd, out + len, cap - len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return dhi_err_set(err, errno, "cannot wait for kubectl");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return dhi_err_set(err, 0, "`kubectl config view` failed (status %d)",
				   WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	out[len] = '\0';
	*lenp = len;
	*outp = dhi_steal_ptr(&out);
	return 0;
}

/*
 * With a KUBECONFIG of several files, the folder of the first file that names
 * `user` (as client-go merges them, the first file to set a user wins; a
 * relative exec command is taken from the folder of the file that set it), or
 * NULL when none does.
 */
static char *user_kubeconfig_dir(const char *list, const char *user)
{
	dhi_autofree char *files = xstrdup(list);
	char *save = NULL;

	for (char *f = strtok_r(files, ":", &save); f; f = strtok_r(NULL, ":", &save)) {
		dhi_autofree char *out = NULL;
		struct dhi_err *e = NULL;
		json_auto_t *o = NULL;
		json_t *u;
		size_t len = 0, i;

		if (access(f, R_OK) != 0)
			continue; /* (missing files in KUBECONFIG are skipped, as by kubectl) */
		if (kubectl_config_view(false, f, NULL, &out, &len, &e) < 0) {
			dhi_err_clear(&e);
			continue;
		}
		o = json_loadb(out, len, 0, NULL);
		explicit_bzero(out, len);
		json_array_foreach(json_object_get(o, "users"), i, u) {
			const char *n = str_at(u, "name");

			if (n && strcmp(n, user) == 0)
				return xstrdup(dirname(f));
		}
	}
	return NULL;
}

int kube_conn_load(const char *kubeconfig, const char *context, struct kube_conn *c,
		   struct dhi_err **err)
{
	dhi_autofree char *out = NULL;
	size_t len = 0;

	if (kubectl_config_view(true, kubeconfig, context, &out, &len, err) < 0)
		return -1;
	if (kube_conn_parse(out, len, c, err) < 0)
		return -1;
	if (c->insecure) {
		dhi_autofree char *shown = kube_printable(c->server);

		/* (honoured, as kubectl does; but nobody should miss that it is) */
		fprintf(stderr, "kubectl-dhidebug: warning: insecure-skip-tls-verify: the certificate "
				"of `%s` is not checked; its credentials go to whoever answers\n",
			shown);
	}
	if (c->exec) {
		const char *env = getenv("KUBECONFIG");

		c->exec->dir = kubeconfig_dir(kubeconfig);
		if (!c->exec->dir && !kubeconfig && env && strchr(env, ':') &&
		    c->exec->command[0] != '/' && strchr(c->exec->command, '/')) {
			json_auto_t *o = json_loadb(out, len, 0, NULL);
			const char *user = str_at(json_array_get(json_object_get(o, "users"), 0),
						  "name");

			if (user)
				c->exec->dir = user_kubeconfig_dir(env, user);
		}
		explicit_bzero(out, len);
		if (kube_exec_run(c, c->exec->dir, err) < 0) {
			kube_conn_free(c);
			return -1;
		}
	}
	explicit_bzero(out, len);
	return 0;
}

char *kube_exec_info(const struct kube_exec *x, bool interactive)
{
	json_auto_t *spec = json_pack("{s:b}", "interactive", interactive);
	json_auto_t *o = NULL;
	char *s;

	if (x->cluster_json) {
		json_t *cl = json_loads(x->cluster_json, 0, NULL);

		if (cl)
			json_object_set_new(spec, "cluster", cl);
	}
	o = json_pack("{s:s, s:s, s:O}", "apiVersion", x->api_version, "kind", "ExecCredential",
		      "spec", spec);
	s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	if (!s)
		abort(); /* only out of memory */
	return s;
}

/* A token goes into an HTTP header: no control characters (no CR/LF to inject a header). */
static bool header_safe(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

static bool looks_pem(const char *s)
{
	return strstr(s, "-----BEGIN ") && strstr(s, "-----END ");
}

/* status.<key>: a string, absent (NULL, 0), or anything else (-1). Empty counts as absent. */
static int opt_str(json_t *o, const char *key, const char **out)
{
	json_t *v = json_object_get(o, key);

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return -1;
	if (*json_string_value(v))
		*out = json_string_value(v);
	return 0;
}

int kube_exec_parse(const char *out, size_t len, const char *api_version, double now,
		    struct kube_cred *cred, struct dhi_err **err)
{
	json_error_t jerr;
	json_auto_t *o = NULL;
	json_t *st;
	const char *api, *kind, *tok, *cert, *key, *exp;
	double t = 0;
	size_t blank = 0;

	memset(cred, 0, sizeof(*cred));

	while (blank < len && strchr(" \t\r\n", out[blank]) && out[blank])
		blank++;
	if (blank == len)
		return dhi_err_set(err, 0, "printed nothing");
	/* (jansson's error text quotes the input, which may hold a token: only the position) */
	o = json_loadb(out, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!o)
		return dhi_err_set(err, 0, "printed something that is not JSON (line %d, column %d)",
				   jerr.line, jerr.column);
	if (!json_is_object(o))
		return dhi_err_set(err, 0, "printed JSON that is not an object");
	api = str_at(o, "apiVersion");
	kind = str_at(o, "kind");
	if (!kind || strcmp(kind, "ExecCredential") != 0)
		return dhi_err_set(err, 0, "printed an object whose kind is not `ExecCredential`");
	if (!api || strcmp(api, api_version) != 0)
		return dhi_err_set(err, 0, "answered with another apiVersion than the `%s` the "
					   "kubeconfig asks for", api_version);
	st = json_object_get(o, "status");
	if (!json_is_object(st))
		return dhi_err_set(err, 0, "printed an ExecCredential without a status");
	if (opt_str(st, "token", &tok) < 0 || opt_str(st, "clientCertificateData", &cert) < 0 ||
	    opt_str(st, "clientKeyData", &key) < 0 || opt_str(st, "expirationTimestamp", &exp) < 0)
		return dhi_err_set(err, 0, "printed a status whose token, clientCertificateData, "
					   "clientKeyData or expirationTimestamp is not a string");
	if (!cert != !key)
		return dhi_err_set(err, 0, "returned a client certificate without its key, or a key "
					   "without its certificate");
	if (!tok && !cert)
		return dhi_err_set(err, 0, "returned neither a token nor a client certificate and key");
	if (tok && (!header_safe(tok) || strlen(tok) > 65536))
		return dhi_err_set(err, 0, "returned a token with control characters or over 64 KiB");
	if (cert && (!looks_pem(cert) || !looks_pem(key)))
		return dhi_err_set(err, 0, "returned clientCertificateData or clientKeyData that is "
					   "not PEM");
	if (exp && rfc3339_parse(exp, false, &t) < 0)
		return dhi_err_set(err, 0, "returned an expirationTimestamp that is not an RFC 3339 "
					   "time");
	if (exp && t <= now)
		return dhi_err_set(err, 0, "returned a credential that expired already (%s)", exp);
	cred->token = tok ? xstrdup(tok) : NULL;
	cred->cert_pem = cert ? xstrdup(cert) : NULL;
	cred->key_pem = key ? xstrdup(key) : NULL;
	cred->expires = t;
	return 0;
}

void kube_cred_free(struct kube_cred *cred)
{
	/* credentials: not left behind in freed memory */
	if (cred->token)
		explicit_bzero(cred->token, strlen(cred->token));
	if (cred->key_pem)
		explicit_bzero(cred->key_pem, strlen(cred->key_pem));
	free(cred->token);
	free(cred->cert_pem);
	free(cred->key_pem);
	memset(cred, 0, sizeof(*cred));
}

#define EXEC_INFO_NAME "KUBERNETES_EXEC_INFO"

/* True when "NAME=value" `e` names `name`. */
static bool env_names(const char *e, const char *name)
{
	size_t n = strlen(name);

	return strncmp(e, name, n) == 0 && e[n] == '=';
}

/*
 * Our environment without the names `x` sets, then x's env, then `info_env`
 * ("KUBERNETES_EXEC_INFO=..."). A KUBERNETES_EXEC_INFO in x's env is left out:
 * ours wins, as in client-go. The strings stay their owners' (environ, x,
 * the caller): only the array is new.
 */
static char **exec_envp(const struct kube_exec *x, char *info_env)
{
	size_t n = 0, k = 0, xn = 0;
	char **envp;

	while (environ && environ[n])
		n++;
	while (x->env[xn])
		xn++;
	envp = xzalloc((n + xn + 2) * sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		size_t nl = strcspn(environ[i], "=");
		bool overridden = env_names(environ[i], EXEC_INFO_NAME);

		for (size_t j = 0; j < xn && !overridden; j++)
			overridden = strncmp(environ[i], x->env[j], nl + 1) == 0;
		if (!overridden)
			envp[k++] = environ[i];
	}
	for (size_t j = 0; j < xn; j++)
		if (!env_names(x->env[j], EXEC_INFO_NAME))
			envp[k++] = x->env[j];
	envp[k] = info_env;
	return envp;
}

/* The folder a relative exec command is taken from: the kubeconfig's, as kubectl does. */
static char *kubeconfig_dir(const char *kubeconfig)
{
	const char *env = getenv("KUBECONFIG"), *home = getenv("HOME");
	dhi_autofree char *f = NULL;

	if (kubeconfig)
		f = xstrdup(kubeconfig);
	else if (env && *env && !strchr(env, ':'))
		f = xstrdup(env);
	else if (env && *env)
		return NULL; /* several files: user_kubeconfig_dir finds the one that named the user */
	else if (home && *home)
		f = xasprintf("%s/.kube/config", home);
	else
		return NULL;
	return xstrdup(dirname(f));
}

/* In the child: stdin, stdout, a clean signal mask, then the plugin; exec's errno to `errfd`. */
static void __attribute__((noreturn)) exec_child(const char *cmd, char **argv, char **envp,
						  bool interactive, int outfd, int errfd)
{
	sigset_t none;
	int e;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (!interactive) {
		int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

		if (fd < 0 || dup2(fd, STDIN_FILENO) < 0)
			_exit(126);
	}
	if (dup2(outfd, STDOUT_FILENO) < 0)
		_exit(126);
	execvpe(cmd, argv, envp);
	e = errno;
	(void)!write(errfd, &e, sizeof(e));
	_exit(127);
}

/* What an exec plugin printed: it may hold a credential, so it is wiped before it is freed. */
struct secret_buf {
	char *p;
	size_t len, cap;
};

static void secret_buf_wipe(struct secret_buf *b)
{
	if (b->p) {
		explicit_bzero(b->p, b->cap);
		free(b->p);
	}
	memset(b, 0, sizeof(*b));
}
#define autosecret __attribute__((cleanup(secret_buf_wipe)))

static long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Reads the plugin's stdout until EOF, at most EXEC_OUT_MAX bytes and until `deadline` (ms). */
static int read_bounded(int fd, long deadline, int timeout, struct secret_buf *b,
			struct dhi_err **err)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long left = deadline - now_ms();
		ssize_t r;
		int pr;

		if (left <= 0)
			return dhi_err_set_kind(err, ETIMEDOUT, "did not answer within %d s; killed it "
							   "(SIGKILL)", timeout);
		pr = poll(&p, 1, (int)left);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr < 0)
			return dhi_err_set(err, errno, "cannot poll its output");
		if (pr == 0)
			continue;
		if (b->cap - b->len < 4096) {
			size_t cap = b->cap ? b->cap * 2 : 16384;
			char *n;

			if (b->cap >= EXEC_OUT_MAX)
				return dhi_err_set_kind(err, EFBIG, "printed more than %u bytes",
						   EXEC_OUT_MAX);
			/* (not realloc: the old buffer is wiped before it goes back) */
			n = xmalloc(cap + 1);
			if (b->p)
				memcpy(n, b->p, b->len);
			secret_buf_wipe(&(struct secret_buf){ b->p, b->len, b->cap + 1 });
			b->p = n;
			b->cap = cap;
		}
		r = fd_read(fd, b->p + b->len, b->cap - b->len);
		if (r < 0)
			return dhi_err_set(err, errno, "cannot read its output");
		if (r == 0)
			break;
		b->len += (size_t)r;
	}
	if (!b->p) {
		b->p = xstrdup("");
		b->cap = 0;
	}
	b->p[b->len] = '\0';
	return 0;
}

/*
 * Waits for the plugin until `deadline` (ms), then kills it with SIGKILL: one
 * that closed its stdout and goes on running must not hang us. 1 when it had
 * to be killed.
 */
static int wait_bounded(pid_t pid, long deadline, int *status)
{
	for (;;) {
		pid_t w = waitpid(pid, status, WNOHANG);
		long left = deadline - now_ms();

		if (w == pid || (w < 0 && errno != EINTR))
			return 0;
		if (left <= 0)
			break;
		nanosleep(&(struct timespec){ 0, (left < 20 ? left : 20) * 1000000L }, NULL);
	}
	kill(pid, SIGKILL);
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
	return 1;
}

int kube_exec_run(struct kube_conn *c, const char *kubeconfig_dir, struct dhi_err **err)
{
	const struct kube_exec *x = c->exec;
	bool is_tty = isatty(STDIN_FILENO), interactive;
	dhi_autofree char *cmd = NULL, *info = NULL, *info_env = NULL;
	dhi_autofree char **argv = NULL, **envp = NULL;
	dhi_autoclose int rfd = -1, efd = -1;
	autosecret struct secret_buf out = { 0 };
	struct kube_cred cred;
	size_t nargs = 0;
	int outp[2], errp[2], status = 0, e = 0, r, timeout;
	long deadline;
	pid_t pid;

	/* Never: no terminal. IfAvailable: ours when stdin is one. Always: ours, or an error. */
	if (strcmp(x->interactive_mode, "Never") == 0) {
		interactive = false;
	} else if (strcmp(x->interactive_mode, "IfAvailable") == 0) {
		interactive = is_tty;
	} else {
		if (!is_tty)
			return dhi_err_set(err, 0, "exec credential plugin `%s` needs a terminal "
						   "(interactiveMode Always) and stdin is not one",
					   x->command);
		interactive = true;
	}
	if (x->command[0] != '/' && strchr(x->command, '/') && kubeconfig_dir)
		cmd = xasprintf("%s/%s", kubeconfig_dir, x->command);
	else
		cmd = xstrdup(x->command);
	while (x->args[nargs])
		nargs++;
	argv = xzalloc((nargs + 2) * sizeof(char *));
	argv[0] = cmd;
	memcpy(argv + 1, x->args, nargs * sizeof(char *));
	info = kube_exec_info(x, interactive);
	info_env = xasprintf(EXEC_INFO_NAME "=%s", info);
	envp = exec_envp(x, info_env);
	if (pipe2(outp, O_CLOEXEC) < 0)
		return dhi_err_set(err, errno, "cannot create a pipe");
	if (pipe2(errp, O_CLOEXEC) < 0) {
		close(outp[0]);
		close(outp[1]);
		return dhi_err_set(err, errno, "cannot create a pipe");
	}
	rfd = outp[0];
	efd = errp[0];
	timeout = x->timeout > 0 ? x->timeout
				 : interactive ? EXEC_INTERACTIVE_TIMEOUT_S : EXEC_TIMEOUT_S;
	deadline = now_ms() + timeout * 1000L;
	fflush(NULL);
	pid = fork();
	if (pid == 0)
		exec_child(cmd, argv, envp, interactive, outp[1], errp[1]);
	close(outp[1]);
	close(errp[1]);
	if (pid < 0)
		return dhi_err_set(err, errno, "cannot fork");
	r = read_bounded(rfd, deadline, timeout, &out, err);
	if (r < 0)
		kill(pid, SIGKILL);
	/* (the deadline covers the whole run: reading, then waiting for the exit) */
	if (wait_bounded(pid, r < 0 ? 0 : deadline, &status) && r == 0)
		return dhi_err_set_kind(err, ETIMEDOUT, "exec credential plugin `%s` did not exit within "
						   "%d s; killed it (SIGKILL)", x->command, timeout);
	if (r < 0)
		return dhi_err_prefix(err, "exec credential plugin `%s`", x->command);
	if (fd_read(efd, &e, sizeof(e)) == (ssize_t)sizeof(e)) {
		if (e == ENOENT)
			return dhi_err_set(err, 0, "exec credential plugin `%s` not found%s%s",
					   x->command, x->install_hint ? ": " : "",
					   x->install_hint ? x->install_hint : "");
		return dhi_err_set(err, e, "cannot run exec credential plugin `%s`", x->command);
	}
	if (WIFSIGNALED(status))
		return dhi_err_set(err, 0, "exec credential plugin `%s` was killed by signal %d",
				   x->command, WTERMSIG(status));
	if (WEXITSTATUS(status) != 0)
		return dhi_err_set(err, 0, "exec credential plugin `%s` failed (exit status %d)",
				   x->command, WEXITSTATUS(status));
	r = kube_exec_parse(out.p, out.len, x->api_version, (double)time(NULL), &cred, err);
	if (r < 0)
		return dhi_err_prefix(err, "exec credential plugin `%s`", x->command);
	if (cred.token) {
		free_secret(c->token);
		c->token = dhi_steal_ptr(&cred.token);
	}
	if (cred.cert_pem) {
		free(c->cert_pem);
		free_secret(c->key_pem);
		free(c->cert_file);
		free(c->key_file);
		c->cert_file = c->key_file = NULL;
		c->cert_len = strlen(cred.cert_pem);
		c->key_len = strlen(cred.key_pem);
		c->cert_pem = dhi_steal_ptr(&cred.cert_pem);
		c->key_pem = dhi_steal_ptr(&cred.key_pem);
	}
	c->expires = cred.expires;
	kube_cred_free(&cred);
	return 0;
}

int kube_conn_refresh(struct kube_conn *c, bool force, struct dhi_err **err)
{
	if (!c->exec)
		return 0;
	if (!force && (c->expires == 0 || c->expires > (double)time(NULL) + 60))
		return 0;
	return kube_exec_run(c, c->exec->dir, err);
}

/* The most an API server's answer (or one watch event) may hold: the rest is hostile. */
#define KUBE_BODY_MAX (16u << 20)

/* A handle with the connection's TLS and credentials set; the caller adds the rest. */
static CURL *handle_new(const struct kube_conn *c, const char *path, struct curl_slist **hdrs,
			struct dhi_err **err)
{
	CURL *h = curl_easy_init();
	dhi_autofree char *url = xasprintf("%s%s", c->server, path);

	if (!h) {
		dhi_err_set(err, ENOMEM, "cannot initialise libcurl");
		return NULL;
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https,http");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 15L);
	/*
	 * The kubeconfig's CA is the only one trusted, as client-go trusts it: libcurl
	 * would otherwise keep its compiled-in CA file and directory beside it, and any
	 * CA of the host's could vouch for the API server.
	 */
	if (c->ca_pem) {
		struct curl_blob blob = { .data = c->ca_pem, .len = c->ca_len,
					  .flags = CURL_BLOB_COPY };
		curl_easy_setopt(h, CURLOPT_CAINFO, NULL);
		curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
		curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
	} else if (c->ca_file) {
		curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
		curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
	}
	if (c->insecure) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (c->cert_pem) {
		struct curl_blob blob = { .data = c->cert_pem, .len = c->cert_len,
					  .flags = CURL_BLOB_COPY };
		curl_easy_setopt(h, CURLOPT_SSLCERT_BLOB, &blob);
		curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
	} else if (c->cert_file) {
		curl_easy_setopt(h, CURLOPT_SSLCERT, c->cert_file);
	}
	if (c->key_pem) {
		struct curl_blob blob = { .data = c->key_pem, .len = c->key_len,
					  .flags = CURL_BLOB_COPY };
		curl_easy_setopt(h, CURLOPT_SSLKEY_BLOB, &blob);
		curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
	} else if (c->key_file) {
		curl_easy_setopt(h, CURLOPT_SSLKEY, c->key_file);
	}
	*hdrs = curl_slist_append(*hdrs, "Accept: application/json");
	*hdrs = curl_slist_append(*hdrs, "User-Agent: kubectl-dhidebug/" DHIDEBUG_VERSION);
	if (c->token) {
		char *auth = xasprintf("Authorization: Bearer %s", c->token);

		*hdrs = curl_slist_append(*hdrs, auth);
		free_secret(auth);
	}
	return h;
}

int kube_request(const struct kube_conn *c, const char *method, const char *path,
		 const char *ctype, const char *body, long *status, char **resp,
		 struct dhi_err **err)
{
	autoslist struct curl_slist *hdrs = NULL;
	autocurl CURL *h = handle_new(c, path, &hdrs, err);
	struct membuf b = { .max = KUBE_BODY_MAX };
	char ebuf[CURL_ERROR_SIZE] = "";
	CURLcode rc;

	if (!h)
		return -1;
	if (body) {
		dhi_autofree char *ct = xasprintf("Content-Type: %s", ctype);
		hdrs = curl_slist_append(hdrs, ct);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	}
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, membuf_curl_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	rc = curl_easy_perform(h);
	if (rc != CURLE_OK) {
		free(b.p);
		if (b.too_big)
			return dhi_err_set(err, 0, "%s `%s%s`: the answer is larger than %u MiB",
					   method, c->server, path, KUBE_BODY_MAX >> 20);
		return dhi_err_set(err, 0, "%s `%s%s`: %s", method, c->server, path,
				   *ebuf ? ebuf : curl_easy_strerror(rc));
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	*resp = b.p ? b.p : xstrdup("");
	return 0;
}

/* the longest resourceVersion a watch resumes from (they are opaque; etcd's are decimal) */
#define KUBE_RV_MAX 64

struct watch {
	struct membuf b;
	int (*on_line)(const char *line, void *arg, struct dhi_err **err);
	void *arg;
	struct dhi_err **err;
	int result; /* 0 going on, 1 stopped by on_line, -1 failed */
	long status;
	CURL *h;
	const sigset_t *abort_on;
	int aborted_by; /* the pending signal that stopped the watch */
	char rv[KUBE_RV_MAX + 1]; /* the last resourceVersion seen ("": none) */
	bool expired;		  /* an ERROR event with a 410 Status: rv is too old */
	bool progress;		  /* an event (a bookmark too) came on this connection */
};

/* The first signal of `set` that is pending, or 0. */
static int pending_in(const sigset_t *set)
{
	sigset_t pending;

	if (!set || sigpending(&pending) < 0)
		return 0;
	for (int s = 1; s < NSIG; s++)
		if (sigismember(set, s) == 1 && sigismember(&pending, s) == 1)
			return s;
	return 0;
}

/*
 * libcurl calls this about once a second even while the watch is idle: a
 * pending signal of abort_on (blocked by the caller, so that it waits for us)
 * ends the watch; the caller takes the signal and cleans up.
 */
static int watch_progress(void *arg, curl_off_t dlt, curl_off_t dln, curl_off_t ult, curl_off_t uln)
{
	struct watch *w = arg;

	(void)dlt, (void)dln, (void)ult, (void)uln;
	w->aborted_by = pending_in(w->abort_on);
	return w->aborted_by != 0;
}

/*
 * One event, as the watch itself needs it: its resourceVersion is where a
 * next watch resumes; a BOOKMARK is nothing more (the reference: an object
 * with only its resourceVersion set); an ERROR with code 410 (Gone: that
 * version is compacted away) ends this watch and the next starts from the
 * current state. Every other event goes to on_line.
 */
static int watch_event(struct watch *w, const char *line)
{
	json_auto_t *ev = json_loads(line, 0, NULL);
	const char *type = str_at(ev, "type");
	json_t *obj = json_object_get(ev, "object");
	const char *rv = str_at(json_object_get(obj, "metadata"), "resourceVersion");

	if (type && strcmp(type, "ERROR") == 0 &&
	    json_integer_value(json_object_get(obj, "code")) == 410) {
		w->expired = true;
		return 2;
	}
	w->progress = true;
	/* (it goes into a URL: only what a resourceVersion is made of) */
	if (rv && *rv && strlen(rv) <= KUBE_RV_MAX &&
	    strspn(rv, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-._") ==
		    strlen(rv))
		snprintf(w->rv, sizeof(w->rv), "%s", rv);
	if (type && strcmp(type, "BOOKMARK") == 0)
		return 0;
	return w->on_line(line, w->arg, w->err);
}

static size_t watch_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct watch *w = arg;
	size_t n = size * nmemb;
	char *nl;

	if (!membuf_append(&w->b, data, n))
		return 0;	/* one event larger than KUBE_BODY_MAX: aborts the watch */
	curl_easy_getinfo(w->h, CURLINFO_RESPONSE_CODE, &w->status);
	if (w->status != 200)
		return n; /* an error body: kube_watch reports it */
	while ((nl = memchr(w->b.p, '\n', w->b.len))) {
		int r = 0;

		*nl = '\0';
		if (nl > w->b.p)
			r = watch_event(w, w->b.p);
		w->b.len -= (size_t)(nl + 1 - w->b.p);
		memmove(w->b.p, nl + 1, w->b.len);
		w->b.p[w->b.len] = '\0';
		if (r == 2)
			return 0; /* expired: this watch is over */
		w->result = r;
		if (w->result != 0)
			return 0; /* makes curl stop with CURLE_WRITE_ERROR */
	}
	return n;
}

enum { WATCH_DONE = 0, WATCH_AGAIN = 1 };

/*
 * One watch request, for at most `ms` milliseconds, resuming from `rv` (in:
 * "" for the current state; out: the last resourceVersion seen, "" when the
 * next must start over). WATCH_DONE when on_line stopped it, WATCH_AGAIN when
 * the watch ended before that in a way a new one mends (the server ended it:
 * its timeout, a restart; a proxy cut it; 410 Gone), -1 on an error.
 * *progress: an event came.
 */
static int watch_once(const struct kube_conn *c, const char *path, long timeout, long ms,
		      struct watch *w, char *rv, long *status, struct dhi_err **err)
{
	autoslist struct curl_slist *hdrs = NULL;
	dhi_autofree char *full = xasprintf("%s&allowWatchBookmarks=true%s%s", path,
					    *rv ? "&resourceVersion=" : "", rv);
	autocurl CURL *h = handle_new(c, full, &hdrs, err);
	dhi_autofree char *body = NULL;
	char ebuf[CURL_ERROR_SIZE] = "";
	CURLcode rc;

	if (!h)
		return -1;
	*w = (struct watch){ .b = { .max = KUBE_BODY_MAX }, .on_line = w->on_line, .arg = w->arg,
			     .err = err, .abort_on = c->abort_on, .h = h };
	snprintf(w->rv, sizeof(w->rv), "%s", rv);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, ms);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, watch_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, w);
	if (c->abort_on) {
		curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, watch_progress);
		curl_easy_setopt(h, CURLOPT_XFERINFODATA, w);
		curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	}
	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	snprintf(rv, KUBE_RV_MAX + 1, "%s", w->expired || *status == 410 ? "" : w->rv);
	body = w->b.p;

	if (w->aborted_by)
		return dhi_err_set_kind(err, EINTR, "interrupted by signal %d", w->aborted_by);
	if (w->result < 0)
		return -1;
	if (w->result > 0)
		return WATCH_DONE;
	/* 410 Gone: as an ERROR event (from the watch cache) or as the answer (from etcd) */
	if (w->expired || *status == 410)
		return WATCH_AGAIN;
	if (*status != 200 && *status != 0) {
		dhi_autofree char *msg = kube_status_message(body ? body : "");

		return dhi_err_set(err, 0, "watch `%s` failed (HTTP %ld): %s", path, *status, msg);
	}
	if (w->b.too_big)
		return dhi_err_set(err, 0, "watch `%s%s`: an event larger than %u MiB", c->server,
				   path, KUBE_BODY_MAX >> 20);
	if (rc == CURLE_OPERATION_TIMEDOUT)
		return dhi_err_set_kind(err, ETIMEDOUT, "gave up waiting after %ld s", timeout);
	/* the server ended the watch, or the connection was cut after the 200 */
	if (rc == CURLE_OK || (*status == 200 && (rc == CURLE_PARTIAL_FILE ||
						  rc == CURLE_RECV_ERROR)))
		return WATCH_AGAIN;
	return dhi_err_set(err, 0, "watch `%s%s`: %s", c->server, path,
			   *ebuf ? ebuf : curl_easy_strerror(rc));
}

static long ms_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)(now.tv_sec - t0->tv_sec) * 1000 + (now.tv_nsec - t0->tv_nsec) / 1000000;
}

/*
 * A watch ends before what we wait for happens (the API server ends watches
 * at its request timeout and when it restarts; a proxy cuts idle ones): watch
 * again, from the last resourceVersion seen, or from the current state after
 * a 410 Gone, within the same `timeout`. After a watch that brought nothing,
 * a second's pause first.
 */
int kube_watch(const struct kube_conn *c, const char *path, long timeout,
	       int (*on_line)(const char *line, void *arg, struct dhi_err **err), void *arg,
	       long *status, struct dhi_err **err)
{
	struct watch w = { .on_line = on_line, .arg = arg };
	char rv[KUBE_RV_MAX + 1] = "";
	struct timespec t0;
	int r, again = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		long left = timeout * 1000 - ms_since(&t0);

		if (left <= 0)
			return dhi_err_set_kind(err, ETIMEDOUT, "gave up waiting after %ld s (the API server "
						      "ended the watch %d times)", timeout, again);
		r = watch_once(c, path, timeout, left, &w, rv, status, err);
		if (r != WATCH_AGAIN)
			return r;
		again++;
		for (int i = 0; !w.progress && i < 10 && ms_since(&t0) < timeout * 1000; i++) {
			int s = pending_in(c->abort_on);

			if (s)
				return dhi_err_set_kind(err, EINTR, "interrupted by signal %d", s);
			nanosleep(&(struct timespec){ 0, 100000000 }, NULL);
		}
	}
}

/* (one decoder and one idea of "printable" for both programs: common/err.c) */
bool kube_is_utf8(const char *s)
{
	return dhi_is_utf8(s);
}

char *kube_printable(const char *s)
{
	return dhi_printable(s);
}

char *kube_status_message(const char *body)
{
	json_auto_t *o = json_loads(body, 0, NULL);
	const char *m = str_at(o, "message");
	dhi_autofree char *head = NULL;

	if (m)
		return kube_printable(m);
	head = xstrndup(body, 300);
	return kube_printable(head);
}

#define SSR_KIND "SelfSubjectReview"

/*
 * A string of userInfo (hostile) as it goes into the recording: NULL when it
 * is absent or null (and `*bad` untouched), else kube_printable()'s text;
 * *bad is set when it is not a string or longer than KUBE_USER_TEXT_MAX.
 */
static char *user_text(json_t *v, bool *bad)
{
	if (!v || json_is_null(v))
		return NULL;
	if (!json_is_string(v) || json_string_length(v) > KUBE_USER_TEXT_MAX) {
		*bad = true;
		return NULL;
	}
	return kube_printable(json_string_value(v));
}

json_t *kube_user_parse(const char *body, size_t len, const char *api_version,
			struct dhi_err **err)
{
	json_error_t jerr;
	json_auto_t *o = NULL;
	json_t *ui, *groups, *g, *out;
	const char *kind, *api;
	dhi_autofree char *name = NULL, *uid = NULL;
	bool bad = false;
	size_t i, kept = 0;

	/* (jansson's error text quotes the input: only the position) */
	o = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!o) {
		dhi_err_set(err, 0, "not JSON (line %d, column %d)", jerr.line, jerr.column);
		return NULL;
	}
	kind = str_at(o, "kind");
	api = str_at(o, "apiVersion");
	if (!kind || strcmp(kind, SSR_KIND) != 0 || !api || strcmp(api, api_version) != 0) {
		dhi_err_set(err, 0, "not a %s of %s", SSR_KIND, api_version);
		return NULL;
	}
	ui = json_object_get(json_object_get(o, "status"), "userInfo");
	if (!json_is_object(ui)) {
		dhi_err_set(err, 0, "no status.userInfo");
		return NULL;
	}
	name = user_text(json_object_get(ui, "username"), &bad);
	uid = user_text(json_object_get(ui, "uid"), &bad);
	groups = json_object_get(ui, "groups");
	if (groups && !json_is_null(groups) && !json_is_array(groups))
		bad = true;
	json_array_foreach(groups, i, g)
		if (!json_is_string(g) || json_string_length(g) > KUBE_USER_TEXT_MAX)
			bad = true;
	if (bad || !name || !*name) {
		dhi_err_set(err, 0, "status.userInfo has no username, or a username, uid or group "
				    "that is not a string of at most %d bytes", KUBE_USER_TEXT_MAX);
		return NULL;
	}
	out = json_pack("{s:s, s:s?, s:[]}", "username", name, "uid", uid && *uid ? uid : NULL,
			"groups");
	json_array_foreach(groups, i, g) {
		dhi_autofree char *t = NULL;

		if (kept == KUBE_USER_GROUPS_MAX)
			break;
		t = kube_printable(json_string_value(g));
		json_array_append_new(json_object_get(out, "groups"), json_string(t));
		kept++;
	}
	if (json_array_size(groups) > kept)
		json_object_set_new(out, "groups_omitted",
				    json_integer((json_int_t)(json_array_size(groups) - kept)));
	return out;
}

/*
 * SelfSubjectReview went GA (authentication.k8s.io/v1) in Kubernetes 1.28; in
 * 1.27 only v1beta1 is served (on by default). v1alpha1 (1.26, off by
 * default) is not asked.
 */
static const char *const ssr_versions[] = { "authentication.k8s.io/v1",
					    "authentication.k8s.io/v1beta1", NULL };

json_t *kube_whoami(const struct kube_conn *c, struct dhi_err **err)
{
	for (const char *const *v = ssr_versions; *v; v++) {
		dhi_autofree char *path = xasprintf("/apis/%s/selfsubjectreviews", *v);
		dhi_autofree char *body = xasprintf("{\"apiVersion\":\"%s\",\"kind\":\"" SSR_KIND
						    "\"}", *v);
		dhi_autofree char *resp = NULL, *msg = NULL;
		long status = 0;
		json_t *user;

		if (kube_request(c, "POST", path, "application/json", body, &status, &resp, err) < 0)
			return NULL;
		if (status == 404)
			continue; /* not served: the next version */
		if (status == 200 || status == 201 || status == 202) {
			user = kube_user_parse(resp, strlen(resp), *v, err);
			if (!user)
				dhi_err_prefix(err, "the API server's %s (%s)", SSR_KIND, *v);
			return user;
		}
		msg = kube_status_message(resp);
		if (status == 403)
			dhi_err_set(err, 0, "RBAC denies `create` on `selfsubjectreviews` in API group "
					    "`authentication.k8s.io` (403): %s", msg);
		else if (status == 401)
			dhi_err_set(err, 0, "the API server does not accept the credentials (401): %s",
				    msg);
		else
			dhi_err_set(err, 0, "%s (%s): HTTP %ld: %s", SSR_KIND, *v, status, msg);
		return NULL;
	}
	dhi_err_set(err, 0, "the API server serves no %s (404 on authentication.k8s.io v1 and "
			    "v1beta1: Kubernetes before 1.27, or the API turned off)", SSR_KIND);
	return NULL;
}

char *kube_text_at(json_t *o, const char *key, const char *dflt)
{
	const char *s = str_at(o, key);

	return s ? kube_printable(s) : xstrdup(dflt);
}

int kube_watch_event(const char *line, const char *deleted, json_t **ev, const char **type,
		     json_t **obj, struct dhi_err **err)
{
	*ev = json_loads(line, 0, NULL);
	*type = str_at(*ev, "type");
	*obj = json_object_get(*ev, "object");
	if (!*type)
		return dhi_err_set(err, 0, "the API server sent a watch event that is not JSON");
	if (strcmp(*type, "ERROR") == 0) {
		dhi_autofree char *m = kube_text_at(*obj, "message", "?");

		return dhi_err_set(err, 0, "watch error: %s", m);
	}
	if (strcmp(*type, "DELETED") == 0)
		return dhi_err_set(err, 0, "%s was deleted", deleted);
	return 0;
}

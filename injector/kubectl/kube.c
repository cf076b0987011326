// SPDX-License-Identifier: Apache-2.0
/* kube.c - kubeconfig through `kubectl config view`, and API requests and watches with libcurl. */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fdio.h"
#include "common/xalloc.h"
#include "injector/kubectl/kube.h"

static void curl_cleanupp(CURL **h)
{
	if (*h)
		curl_easy_cleanup(*h);
}
#define autocurl __attribute__((cleanup(curl_cleanupp)))

static void slist_freep(struct curl_slist **l)
{
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
	if ((s = str_at(cluster, "certificate-authority-data")) &&
	    b64_decode(s, &c->ca_pem, &c->ca_len, "certificate-authority-data", err) < 0)
		goto fail;
	c->ca_file = dup_or_null(str_at(cluster, "certificate-authority"));
	if (json_object_get(user, "exec"))
		return kube_conn_free(c),
		       dhi_err_set(err, 0, "the kubeconfig user uses an exec credential plugin, "
					   "which kubectl-dhidebug does not run yet");
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
	free(c->key_pem);
	free(c->cert_file);
	free(c->key_file);
	free(c->token);
	memset(c, 0, sizeof(*c));
}

int kube_conn_load(const char *kubeconfig, const char *context, struct kube_conn *c,
		   struct dhi_err **err)
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
	if (kube_conn_parse(out ? out : "", len, c, err) < 0)
		return -1;
	return 0;
}

struct buf {
	char *p;
	size_t len, cap;
};

static size_t buf_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct buf *b = arg;
	size_t n = size * nmemb;

	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
	return n;
}

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
	if (c->ca_pem) {
		struct curl_blob blob = { .data = c->ca_pem, .len = c->ca_len,
					  .flags = CURL_BLOB_COPY };
		curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
	} else if (c->ca_file) {
		curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
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
		dhi_autofree char *auth = xasprintf("Authorization: Bearer %s", c->token);
		*hdrs = curl_slist_append(*hdrs, auth);
	}
	return h;
}

int kube_request(const struct kube_conn *c, const char *method, const char *path,
		 const char *ctype, const char *body, long *status, char **resp,
		 struct dhi_err **err)
{
	autoslist struct curl_slist *hdrs = NULL;
	autocurl CURL *h = handle_new(c, path, &hdrs, err);
	struct buf b = { 0 };
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
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, buf_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	rc = curl_easy_perform(h);
	if (rc != CURLE_OK) {
		free(b.p);
		return dhi_err_set(err, 0, "%s `%s%s`: %s", method, c->server, path,
				   *ebuf ? ebuf : curl_easy_strerror(rc));
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	*resp = b.p ? b.p : xstrdup("");
	return 0;
}

struct watch {
	struct buf b;
	int (*on_line)(const char *line, void *arg, struct dhi_err **err);
	void *arg;
	struct dhi_err **err;
	int result; /* 0 going on, 1 stopped by on_line, -1 failed */
	long status;
	CURL *h;
};

static size_t watch_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct watch *w = arg;
	size_t n = size * nmemb;
	char *nl;

	buf_write(data, size, nmemb, &w->b);
	curl_easy_getinfo(w->h, CURLINFO_RESPONSE_CODE, &w->status);
	if (w->status != 200)
		return n; /* an error body: kube_watch reports it */
	while ((nl = memchr(w->b.p, '\n', w->b.len))) {
		*nl = '\0';
		if (nl > w->b.p)
			w->result = w->on_line(w->b.p, w->arg, w->err);
		w->b.len -= (size_t)(nl + 1 - w->b.p);
		memmove(w->b.p, nl + 1, w->b.len);
		w->b.p[w->b.len] = '\0';
		if (w->result != 0)
			return 0; /* makes curl stop with CURLE_WRITE_ERROR */
	}
	return n;
}

int kube_watch(const struct kube_conn *c, const char *path, long timeout,
	       int (*on_line)(const char *line, void *arg, struct dhi_err **err), void *arg,
	       long *status, struct dhi_err **err)
{
	autoslist struct curl_slist *hdrs = NULL;
	autocurl CURL *h = handle_new(c, path, &hdrs, err);
	struct watch w = { .on_line = on_line, .arg = arg, .err = err };
	char ebuf[CURL_ERROR_SIZE] = "";
	CURLcode rc;

	if (!h)
		return -1;
	w.h = h;
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, timeout);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, watch_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &w);
	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	if (w.result < 0) {
		free(w.b.p);
		return -1;
	}
	if (w.result > 0) {
		free(w.b.p);
		return 0;
	}
	if (*status != 200 && *status != 0) {
		dhi_autofree char *msg = kube_status_message(w.b.p ? w.b.p : "");

		free(w.b.p);
		return dhi_err_set(err, 0, "watch `%s` failed (HTTP %ld): %s", path, *status, msg);
	}
	free(w.b.p);
	if (rc == CURLE_OPERATION_TIMEDOUT)
		return dhi_err_set(err, ETIMEDOUT, "gave up waiting after %ld s", timeout);
	if (rc != CURLE_OK)
		return dhi_err_set(err, 0, "watch `%s%s`: %s", c->server, path,
				   *ebuf ? ebuf : curl_easy_strerror(rc));
	return dhi_err_set(err, 0, "the API server ended the watch before the container ran");
}

char *kube_status_message(const char *body)
{
	json_auto_t *o = json_loads(body, 0, NULL);
	const char *m = str_at(o, "message");

	if (m)
		return xstrdup(m);
	return xstrndup(body, 300);
}

// SPDX-License-Identifier: Apache-2.0
/* registry.c - the OCI distribution API: manifests, indexes, blobs, auth, retries. */
#include "toolbox/registry.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fdio.h"
#include "common/membuf.h"
#include "common/xalloc.h"

#ifndef DHIDEBUG_VERSION
#define DHIDEBUG_VERSION "0"
#endif

#define MANIFEST_MAX (4 << 20)
#define ERRBODY_MAX 512
#define MAX_LAYERS 512
#define MAX_ATTEMPTS 5


/*
 * A registry that closes its side mid-write (one refusing our TLS, say) must
 * be an error, not a death by SIGPIPE: with CURLOPT_NOSIGNAL libcurl leaves
 * SIGPIPE to us, so it is ignored for the transfer and restored after.
 */
static CURLcode perform(CURL *h)
{
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;
	CURLcode rc;

	sigemptyset(&ign.sa_mask);
	sigaction(SIGPIPE, &ign, &old);
	rc = curl_easy_perform(h);
	sigaction(SIGPIPE, &old, NULL);
	return rc;
}

static CURLMcode multi_perform(CURLM *m, int *still)
{
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;
	CURLMcode rc;

	sigemptyset(&ign.sa_mask);
	sigaction(SIGPIPE, &ign, &old);
	rc = curl_multi_perform(m, still);
	sigaction(SIGPIPE, &old, NULL);
	return rc;
}

static const char ACCEPT[] =
	"Accept: application/vnd.oci.image.index.v1+json, "
	"application/vnd.oci.image.manifest.v1+json, "
	"application/vnd.docker.distribution.manifest.list.v2+json, "
	"application/vnd.docker.distribution.manifest.v2+json";

struct reg_client {
	struct tb_ref ref;
	char *scheme;		/* "https" or "http" once a request has connected */
	bool may_http;		/* loopback or --insecure-registry */
	bool no_verify;		/* --insecure-registry: TLS without certificate checks */
	char *ca_file;		/* certs.d/<host>/ca.crt when present */
	char *userpass;		/* "user:pass" from config.json, NULL when none */
	char *authz;		/* "Authorization: ..." once authenticated */
	char *config_path;	/* where credentials were looked for, for messages */
	long timeout;		/* seconds, for messages */
	long long deadline_ms;	/* CLOCK_MONOTONIC: every request ends by then */
};

/* --- small helpers --- */

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* What is left of the client's deadline, in ms (0 when it has passed). */
static long long left_ms(const struct reg_client *c)
{
	long long n = c->deadline_ms - now_ms();

	return n > 0 ? n : 0;
}

static int deadline_error(const struct reg_client *c, struct dhi_err **err)
{
	return dhi_err_set(err, 0,
			   "the pull from `%s` did not end within its deadline of %ld s "
			   "(--pull-timeout, policy `toolbox_pull_timeout`)",
			   c->ref.registry, c->timeout);
}

static bool retryable(long status)
{
	return status == 429 || (status >= 500 && status <= 599);
}

static bool is_loopback(const char *registry)
{
	if (!strncmp(registry, "localhost", 9))
		return registry[9] == '\0' || registry[9] == ':';
	return !strncmp(registry, "127.", 4) || !strncmp(registry, "[::1]", 5);
}

static bool in_list(const char *list, const char *item)
{
	size_t n = strlen(item);

	for (const char *p = list; p && *p;) {
		const char *e = strchr(p, ',');
		size_t m = e ? (size_t)(e - p) : strlen(p);

		if (m == n && !strncmp(p, item, n))
			return true;
		p = e ? e + 1 : NULL;
	}
	return false;
}

const char *reg_host_arch(void)
{
	static const struct {
		const char *uname, *oci;
	} map[] = {
		{ "x86_64", "amd64" }, { "aarch64", "arm64" }, { "armv7l", "arm" },
		{ "i686", "386" },     { "ppc64le", "ppc64le" }, { "s390x", "s390x" },
		{ "riscv64", "riscv64" }, { NULL, NULL },
	};
	static char other[65];
	struct utsname u;

	if (uname(&u) < 0)
		return "unknown";
	for (int i = 0; map[i].uname; i++)
		if (!strcmp(u.machine, map[i].uname))
			return map[i].oci;
	snprintf(other, sizeof(other), "%s", u.machine);
	return other;
}

static char *b64_encode(const char *s)
{
	size_t n = strlen(s);
	char *out = xmalloc(4 * ((n + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s, (int)n);
	return out;
}

static char *b64_decode(const char *s)
{
	size_t n = strlen(s), pad = 0;
	unsigned char *out;
	int m;

	if (n == 0 || n % 4 || n > 16384)
		return NULL;
	out = xmalloc(n / 4 * 3 + 1);
	m = EVP_DecodeBlock(out, (const unsigned char *)s, (int)n);
	if (m < 0) {
		free(out);
		return NULL;
	}
	while (pad < 2 && n > pad && s[n - 1 - pad] == '=')
		pad++;
	m -= (int)pad;
	out[m] = '\0';
	if (memchr(out, '\0', (size_t)m)) {
		free(out);
		return NULL;
	}
	return (char *)out;
}

/* --- credentials: config.json `auths` --- */

static char *config_dir(const struct reg_opts *o)
{
	const char *d = o && o->docker_config ? o->docker_config : getenv("DOCKER_CONFIG");
	const char *home = getenv("HOME");

	if (d && *d)
		return xstrdup(d);
	return xasprintf("%s/.docker", home && *home ? home : "/root");
}

static char *auth_from_entry(json_t *entry)
{
	json_t *a = json_object_get(entry, "auth");
	json_t *u = json_object_get(entry, "username"), *p = json_object_get(entry, "password");

	if (json_is_string(a) && *json_string_value(a)) {
		char *dec = b64_decode(json_string_value(a));

		if (dec && strchr(dec, ':'))
			return dec;
		free(dec);
		return NULL;
	}
	if (json_is_string(u) && json_is_string(p))
		return xasprintf("%s:%s", json_string_value(u), json_string_value(p));
	return NULL;
}

/*
 * `docker-credential-<helper> get`, as docker runs it: the server on stdin, JSON
 * {"Username", "Secret"} on stdout. Run with a minimal environment, no shell,
 * and a bounded, time-limited answer.
 */
static char *cred_helper(const char *helper, const char *server)
{
	dhi_autofree char *prog = NULL, *out = NULL;
	char *envp[3] = { NULL, NULL, NULL };
	const char *path = getenv("PATH"), *home = getenv("HOME");
	int in[2] = { -1, -1 }, outp[2] = { -1, -1 }, status;
	size_t len = 0, cap = 65536;
	json_auto_t *j = NULL;
	pid_t pid;

	if (!*helper || strchr(helper, '/') || strlen(helper) > 64)
		return NULL;
	prog = xasprintf("docker-credential-%s", helper);
	if (pipe2(in, O_CLOEXEC) < 0)
		return NULL;
	if (pipe2(outp, O_CLOEXEC) < 0) {
		close(in[0]);
		close(in[1]);
		return NULL;
	}
	envp[0] = xasprintf("PATH=%s", path ? path : "/usr/local/bin:/usr/bin:/bin");
	envp[1] = xasprintf("HOME=%s", home ? home : "/root");
	pid = fork();
	if (pid == 0) {
		char *argv[] = { prog, "get", NULL };

		if (dup2(in[0], 0) < 0 || dup2(outp[1], 1) < 0)
			_exit(127);
		execvpe(prog, argv, envp);
		_exit(127);
	}
	free(envp[0]);
	free(envp[1]);
	close(in[0]);
	close(outp[1]);
	if (pid > 0) {
		struct sigaction ign = { .sa_handler = SIG_IGN }, old;

		/* a helper that is not there (execvpe failed) has closed its stdin already */
		sigemptyset(&ign.sa_mask);
		sigaction(SIGPIPE, &ign, &old);
		(void)!fd_write_all(in[1], server, strlen(server));
		sigaction(SIGPIPE, &old, NULL);
		close(in[1]);
		out = xmalloc(cap + 1);
		for (ssize_t n; len < cap && (n = fd_read(outp[0], out + len, cap - len)) > 0;)
			len += (size_t)n;
		out[len] = '\0';
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	} else {
		close(in[1]);
	}
	close(outp[0]);
	if (pid <= 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return NULL;
	j = json_loadb(out, len, 0, NULL);
	if (!json_is_string(json_object_get(j, "Username")) ||
	    !json_is_string(json_object_get(j, "Secret")))
		return NULL;
	return xasprintf("%s:%s", json_string_value(json_object_get(j, "Username")),
			 json_string_value(json_object_get(j, "Secret")));
}

static void load_credentials(struct reg_client *c, const struct reg_opts *o)
{
	dhi_autofree char *dir = config_dir(o);
	dhi_autofree char *buf = NULL;
	dhi_autoclose int fd = -1;
	struct dhi_err *e = NULL;
	json_auto_t *root = NULL;
	json_t *auths;
	size_t len;
	const char *reg = c->ref.registry;
	bool hub = !strcmp(reg, "docker.io");
	dhi_autofree char *k1 = xasprintf("https://%s", reg);
	dhi_autofree char *k2 = xasprintf("http://%s", reg);
	dhi_autofree char *k3 = xasprintf("https://%s/v1/", reg);
	const char *keys[] = { reg, k1, k2, k3, hub ? "https://index.docker.io/v1/" : NULL,
			       hub ? "index.docker.io" : NULL, NULL };

	c->config_path = xasprintf("%s/config.json", dir);
	fd = open(c->config_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fd_read_file(fd, 1 << 20, &buf, &len, &e) < 0) {
		dhi_err_clear(&e);
		return;
	}
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL);
	/* a helper for this registry, then the default store, then inline `auths` */
	{
		const char *h = json_string_value(json_object_get(json_object_get(root, "credHelpers"),
								  reg));
		const char *store = json_string_value(json_object_get(root, "credsStore"));

		if (h && (c->userpass = cred_helper(h, reg)))
			return;
		if (store && (c->userpass = cred_helper(store, hub ? "https://index.docker.io/v1/"
								   : reg)))
			return;
	}
	auths = json_object_get(root, "auths");
	if (!json_is_object(auths))
		return;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		json_t *entry;

		if (!keys[i])
			continue;
		entry = json_object_get(auths, keys[i]);
		if (json_is_object(entry) && (c->userpass = auth_from_entry(entry)))
			return;
	}
}

/* --- one HTTP request --- */

struct resp {
	long status;
	struct membuf body;
	char *www_auth;
	char *content_type;
	char *docker_digest;
};

static void resp_free(struct resp *r)
{
	free(r->body.p);
	free(r->www_auth);
	free(r->content_type);
	free(r->docker_digest);
	memset(r, 0, sizeof(*r));
}

/* "Name: value\r\n" → value, when the header is `name` (case-insensitive) */
static char *header_value(const char *line, size_t len, const char *name)
{
	size_t n = strlen(name), e = len;

	if (len <= n + 1 || strncasecmp(line, name, n) != 0 || line[n] != ':')
		return NULL;
	line += n + 1;
	len -= n + 1;
	while (len && (*line == ' ' || *line == '\t'))
		line++, len--;
	e = len;
	while (e && (line[e - 1] == '\r' || line[e - 1] == '\n' || line[e - 1] == ' '))
		e--;
	return xstrndup(line, e);
}

static size_t header_cb(char *p, size_t sz, size_t n, void *arg)
{
	struct resp *r = arg;
	size_t len = sz * n;
	char *v;

	/* a new response (redirect, 100-continue) starts over */
	if (len > 5 && !strncmp(p, "HTTP/", 5)) {
		free(r->www_auth);
		free(r->content_type);
		free(r->docker_digest);
		r->www_auth = r->content_type = r->docker_digest = NULL;
	}
	if ((v = header_value(p, len, "www-authenticate"))) {
		free(r->www_auth);
		r->www_auth = v;
	} else if ((v = header_value(p, len, "content-type"))) {
		free(r->content_type);
		r->content_type = v;
	} else if ((v = header_value(p, len, "docker-content-digest"))) {
		free(r->docker_digest);
		r->docker_digest = v;
	}
	return len;
}

static void setup_easy(struct reg_client *c, CURL *h, const char *url, struct curl_slist *hdrs)
{
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, c->may_http ? "http,https" : "https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, c->may_http ? "http,https" : "https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "dhidebug/" DHIDEBUG_VERSION);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
	/* a server that drips bytes beats any speed limit: the pull's deadline does not bend */
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(left_ms(c) > 0 ? left_ms(c) : 1));
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	if (c->ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
	if (c->no_verify) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
}

static struct curl_slist *headers(struct reg_client *c, const char *accept)
{
	struct curl_slist *l = NULL;

	if (accept)
		l = curl_slist_append(l, accept);
	if (c->authz)
		l = curl_slist_append(l, c->authz);
	return l;
}

/* TLS could not be spoken at all: a plain-HTTP registry (when that is allowed). */
static bool tls_failed(CURLcode rc)
{
	return rc == CURLE_SSL_CONNECT_ERROR || rc == CURLE_RECV_ERROR || rc == CURLE_GOT_NOTHING ||
	       rc == CURLE_WEIRD_SERVER_REPLY;
}

static char *make_url(struct reg_client *c, const char *fmt, const char *what)
{
	return xasprintf("%s://%s/v2/%s/%s/%s", c->scheme ? c->scheme : "https", c->ref.registry,
			 c->ref.repo, fmt, what);
}

/*
 * GET `path` ("manifests/<ref>" or "blobs/<digest>") into r, with the scheme
 * decided on the first request, retries on 429/5xx and connection errors.
 * `url` is rebuilt when the scheme changes. A 401 is returned to the caller.
 */
static int get(struct reg_client *c, const char *kind, const char *what, const char *accept,
	       size_t max, struct resp *r, struct dhi_err **err)
{
	long backoff = 250;

	for (int attempt = 1;; attempt++) {
		dhi_autofree char *url = NULL;
		struct curl_slist *hdrs = NULL;
		CURL *h = NULL;
		CURLcode rc;
		char errbuf[CURL_ERROR_SIZE] = "";

		if (left_ms(c) == 0)
			return deadline_error(c, err);
		url = make_url(c, kind, what);
		hdrs = headers(c, accept);
		h = curl_easy_init();
		if (!h)
			abort();
		resp_free(r);
		r->body.max = max;
		setup_easy(c, h, url, hdrs);
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, membuf_curl_write);
		curl_easy_setopt(h, CURLOPT_WRITEDATA, &r->body);
		curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
		curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
		curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
		rc = perform(h);
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
		curl_easy_cleanup(h);
		curl_slist_free_all(hdrs);
		if (!c->scheme) {
			if (rc != CURLE_OK && tls_failed(rc) && c->may_http) {
				c->scheme = xstrdup("http");
				attempt--;
				continue;
			}
			if (rc == CURLE_OK)
				c->scheme = xstrdup("https");
		}
		if (rc == CURLE_WRITE_ERROR && r->body.too_big)
			return dhi_err_set_kind(err, EFBIG, "`%s` from `%s` is larger than %zu bytes",
					   what, c->ref.registry, max);
		if (rc == CURLE_OPERATION_TIMEDOUT && left_ms(c) == 0)
			return deadline_error(c, err);
		if (rc == CURLE_OK && !retryable(r->status))
			return 0;
		if (attempt >= MAX_ATTEMPTS) {
			if (rc != CURLE_OK)
				return dhi_err_set(err, 0, "cannot reach registry `%s`: %s",
						   c->ref.registry,
						   *errbuf ? errbuf : curl_easy_strerror(rc));
			return dhi_err_set(err, 0, "registry `%s` answered %ld for `%s` (%d attempts)",
					   c->ref.registry, r->status, what, attempt);
		}
		/* a TLS verification failure will not go away by retrying */
		if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE ||
		    rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_UNSUPPORTED_PROTOCOL)
			return dhi_err_set(err, 0, "cannot reach registry `%s`: %s", c->ref.registry,
					   *errbuf ? errbuf : curl_easy_strerror(rc));
		sleep_ms(backoff < left_ms(c) ? backoff : (long)left_ms(c));
		backoff *= 2;
	}
}

/* --- authentication --- */

/* One parameter of a challenge: key="value" (or key=value). */
static char *challenge_param(const char *ch, const char *key)
{
	size_t n = strlen(key);

	for (const char *p = ch; (p = strcasestr(p, key)); p += n) {
		const char *v;

		if (p != ch && p[-1] != ' ' && p[-1] != ',')
			continue;
		if (p[n] != '=')
			continue;
		v = p + n + 1;
		if (*v == '"') {
			const char *e = strchr(++v, '"');

			return e ? xstrndup(v, (size_t)(e - v)) : NULL;
		}
		return xstrndup(v, strcspn(v, ", "));
	}
	return NULL;
}

static char *url_escape(const char *s)
{
	char *e = curl_easy_escape(NULL, s, 0);
	char *out = xstrdup(e ? e : "");

	curl_free(e);
	return out;
}

/* The host of `url` (lowercase, without port or user), or NULL when it has none. */
static char *url_host(const char *url)
{
	CURLU *u = curl_url();
	char *h = NULL, *out = NULL;

	if (!u)
		abort();
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK && h && *h) {
		out = xstrdup(h);
		for (char *p = out; *p; p++)
			*p = (char)tolower((unsigned char)*p);
	}
	curl_free(h);
	curl_url_cleanup(u);
	return out;
}

/*
 * Whether the registry's credentials may go to this token realm: https
 * anywhere (the registry names its token server, as Docker Hub's is
 * auth.docker.io), plain HTTP only to the registry's own host (any port), and
 * only while the registry itself is spoken to in plain HTTP: it has them in
 * clear text already, nobody else may.
 */
static bool realm_ok(const struct reg_client *c, const char *realm)
{
	dhi_autofree char *rh = NULL, *gh = NULL, *reg_url = NULL;

	if (!strncasecmp(realm, "https://", 8))
		return true;
	if (!c->scheme || strcmp(c->scheme, "http") != 0)
		return false;
	reg_url = xasprintf("http://%s/", c->ref.registry);
	rh = url_host(realm);
	gh = url_host(reg_url);
	return rh && gh && strcmp(rh, gh) == 0;
}

static int bearer_token(struct reg_client *c, const char *ch, struct dhi_err **err)
{
	dhi_autofree char *realm = challenge_param(ch, "realm");
	dhi_autofree char *service = challenge_param(ch, "service");
	dhi_autofree char *scope = challenge_param(ch, "scope");
	dhi_autofree char *def_scope = xasprintf("repository:%s:pull", c->ref.repo);
	dhi_autofree char *es = NULL, *esc = NULL, *url = NULL, *basic = NULL, *authz = NULL;
	struct resp r = { .body = { .max = 1 << 20 } };
	struct curl_slist *hdrs = NULL;
	json_auto_t *j = NULL;
	json_t *tok;
	CURL *h;
	CURLcode rc;

	if (!realm || (strncasecmp(realm, "https://", 8) && strncasecmp(realm, "http://", 7)))
		return dhi_err_set(err, 0, "registry `%s` sent a token realm that is not https: `%s`",
				   c->ref.registry, realm ? realm : "");
	if (!realm_ok(c, realm))
		return dhi_err_set(err, 0,
				   "registry `%s` sent a plain-HTTP token realm `%s` on another host: "
				   "credentials go in clear text only to the registry's own host "
				   "(refused; a token server elsewhere must use https)",
				   c->ref.registry, realm);
	es = url_escape(service ? service : c->ref.registry);
	esc = url_escape(scope ? scope : def_scope);
	url = xasprintf("%s%sservice=%s&scope=%s", realm, strchr(realm, '?') ? "&" : "?", es, esc);
	if (c->userpass) {
		basic = b64_encode(c->userpass);
		authz = xasprintf("Authorization: Basic %s", basic);
		hdrs = curl_slist_append(hdrs, authz);
	}
	h = curl_easy_init();
	if (!h)
		abort();
	setup_easy(c, h, url, hdrs);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, membuf_curl_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &r.body);
	rc = perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
	curl_easy_cleanup(h);
	curl_slist_free_all(hdrs);
	if (rc != CURLE_OK || r.status != 200) {
		int ret = dhi_err_set(err, 0, "cannot get a token from `%s` for `%s`: %s", realm,
				      c->ref.registry,
				      rc != CURLE_OK ? curl_easy_strerror(rc)
				      : r.status == 401 || r.status == 403
					      ? "credentials refused"
					      : "unexpected answer");
		resp_free(&r);
		return ret;
	}
	j = json_loadb(r.body.p ? r.body.p : "", r.body.len, 0, NULL);
	resp_free(&r);
	tok = json_object_get(j, "token");
	if (!json_is_string(tok))
		tok = json_object_get(j, "access_token");
	if (!json_is_string(tok) || !*json_string_value(tok) ||
	    strpbrk(json_string_value(tok), "\r\n"))
		return dhi_err_set(err, 0, "token server `%s` answered without a token", realm);
	free(c->authz);
	c->authz = xasprintf("Authorization: Bearer %s", json_string_value(tok));
	return 0;
}

/* Answers a 401: Basic with the stored credentials, or a Bearer token. */
static int authenticate(struct reg_client *c, const struct resp *r, struct dhi_err **err)
{
	const char *ch = r->www_auth;

	if (!ch)
		return dhi_err_set_kind(err, EACCES, "registry `%s` refused access without a challenge",
				   c->ref.registry);
	if (!strncasecmp(ch, "basic", 5)) {
		dhi_autofree char *enc = NULL;

		if (!c->userpass)
			return dhi_err_set_kind(err, EACCES,
					   "registry `%s` requires authentication and `%s` has no "
					   "credentials for it (docker login)",
					   c->ref.registry, c->config_path);
		enc = b64_encode(c->userpass);
		free(c->authz);
		c->authz = xasprintf("Authorization: Basic %s", enc);
		return 0;
	}
	if (!strncasecmp(ch, "bearer", 6))
		return bearer_token(c, ch, err);
	return dhi_err_set_kind(err, EACCES, "registry `%s` asks for unsupported authentication `%.20s`",
			   c->ref.registry, ch);
}

/* get() with one round of authentication on 401 */
static int get_auth(struct reg_client *c, const char *kind, const char *what, const char *accept,
		    size_t max, struct resp *r, struct dhi_err **err)
{
	if (get(c, kind, what, accept, max, r, err) < 0)
		return -1;
	if (r->status == 401) {
		bool had = c->authz != NULL;

		if (had && !strncasecmp(c->authz, "Authorization: Basic", 20))
			return dhi_err_set_kind(err, EACCES,
					   "registry `%s` refused the credentials from `%s` "
					   "(wrong user name or password?)",
					   c->ref.registry, c->config_path);
		if (authenticate(c, r, err) < 0 || get(c, kind, what, accept, max, r, err) < 0)
			return -1;
		if (r->status == 401)
			return dhi_err_set_kind(err, EACCES,
					   "registry `%s` refused the credentials from `%s` "
					   "(wrong user name or password?)",
					   c->ref.registry, c->config_path);
	}
	if (r->status == 404)
		return dhi_err_set_kind(err, ENOENT, "`%s/%s`: %s `%s` not found in the registry",
				   c->ref.registry, c->ref.repo,
				   !strcmp(kind, "blobs") ? "blob" : "manifest", what);
	if (r->status == 403)
		return dhi_err_set_kind(err, EACCES, "registry `%s` denied access to `%s`",
				   c->ref.registry, c->ref.repo);
	if (r->status != 200)
		return dhi_err_set(err, 0, "registry `%s` answered %ld for `%s`", c->ref.registry,
				   r->status, what);
	return 0;
}

/* --- client --- */

static char *find_ca(const struct reg_opts *o, const char *registry)
{
	const char *dirs[] = { o && o->certs_d ? o->certs_d : "/etc/containers/certs.d",
			       o && o->certs_d ? NULL : "/etc/docker/certs.d", NULL };

	for (int i = 0; dirs[i]; i++) {
		char *p = xasprintf("%s/%s/ca.crt", dirs[i], registry);

		if (access(p, R_OK) == 0)
			return p;
		free(p);
	}
	return NULL;
}

struct reg_client *reg_open(const struct tb_ref *ref, const struct reg_opts *o,
			    struct dhi_err **err)
{
	static bool inited;
	struct reg_client *c;

	if (!inited) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return dhi_err_set(err, 0, "cannot initialise libcurl"), NULL;
		inited = true;
	}
	c = xzalloc(sizeof(*c));
	ref_copy(ref, &c->ref);
	c->no_verify = o && in_list(o->insecure, ref->registry);
	c->may_http = c->no_verify || is_loopback(ref->registry);
	c->ca_file = find_ca(o, ref->registry);
	c->timeout = o && o->timeout > 0 ? o->timeout : REG_DEFAULT_TIMEOUT;
	c->deadline_ms = now_ms() + (long long)c->timeout * 1000;
	load_credentials(c, o);
	return c;
}

void reg_close(struct reg_client *c)
{
	if (!c)
		return;
	ref_free(&c->ref);
	free(c->scheme);
	free(c->ca_file);
	free(c->userpass);
	free(c->authz);
	free(c->config_path);
	free(c);
}

/* --- manifests --- */

void reg_manifest_free(struct reg_manifest *m)
{
	free(m->digest);
	free(m->index_digest);
	free(m->body);
	free(m->config_digest);
	for (size_t i = 0; i < m->nlayers; i++) {
		free(m->layers[i].digest);
		free(m->layers[i].media_type);
	}
	free(m->layers);
	memset(m, 0, sizeof(*m));
}

static bool layer_type_ok(const char *t)
{
	static const char *const ok[] = {
		"application/vnd.oci.image.layer.v1.tar",
		"application/vnd.oci.image.layer.v1.tar+gzip",
		"application/vnd.oci.image.layer.v1.tar+zstd",
		"application/vnd.oci.image.layer.nondistributable.v1.tar",
		"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
		"application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
		"application/vnd.docker.image.rootfs.diff.tar.gzip",
		"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
		/* uncompressed: what containerd records for a docker-archive it imported */
		"application/vnd.docker.image.rootfs.diff.tar",
		NULL,
	};

	for (int i = 0; ok[i]; i++)
		if (!strcmp(t, ok[i]))
			return true;
	return false;
}

int reg_manifest_parse(const char *body, size_t len, struct reg_manifest *m, struct dhi_err **err)
{
	json_auto_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
	json_t *cfg, *layers, *l;
	size_t i;

	if (!json_is_object(j))
		return dhi_err_set(err, 0, "manifest is not a JSON object");
	if (json_integer_value(json_object_get(j, "schemaVersion")) != 2)
		return dhi_err_set(err, 0, "manifest schemaVersion is not 2 (schema 1 is not "
					   "supported)");
	cfg = json_object_get(j, "config");
	layers = json_object_get(j, "layers");
	if (!json_is_object(cfg) || !json_is_array(layers))
		return dhi_err_set(err, 0, "manifest has no config or layers");
	if (!ref_is_digest(json_string_value(json_object_get(cfg, "digest"))))
		return dhi_err_set(err, 0, "manifest config has no valid sha256 digest");
	if (json_array_size(layers) > MAX_LAYERS)
		return dhi_err_set(err, 0, "manifest has %zu layers (at most %d)",
				   json_array_size(layers), MAX_LAYERS);
	m->config_digest = xstrdup(json_string_value(json_object_get(cfg, "digest")));
	m->layers = xzalloc((json_array_size(layers) + 1) * sizeof(*m->layers));
	json_array_foreach (layers, i, l) {
		const char *d = json_string_value(json_object_get(l, "digest"));
		const char *t = json_string_value(json_object_get(l, "mediaType"));
		json_t *sz = json_object_get(l, "size");

		if (!ref_is_digest(d))
			return dhi_err_set(err, 0, "layer %zu has no valid sha256 digest", i);
		if (!t || !layer_type_ok(t))
			return dhi_err_set(err, 0, "layer %zu has an unsupported media type `%.80s`",
					   i, t ? t : "");
		if (!json_is_integer(sz) || json_integer_value(sz) < 0)
			return dhi_err_set(err, 0, "layer %zu has no valid size", i);
		m->layers[i].digest = xstrdup(d);
		m->layers[i].media_type = xstrdup(t);
		m->layers[i].size = json_integer_value(sz);
		m->nlayers++;
	}
	return 0;
}

static bool is_index(json_t *j, const char *ctype)
{
	const char *mt = json_string_value(json_object_get(j, "mediaType"));

	if (mt && (!strcmp(mt, "application/vnd.oci.image.index.v1+json") ||
		   !strcmp(mt, "application/vnd.docker.distribution.manifest.list.v2+json")))
		return true;
	if (ctype && (strstr(ctype, "image.index") || strstr(ctype, "manifest.list")))
		return true;
	return !mt && json_is_array(json_object_get(j, "manifests"));
}

/* The digest of the entry for linux/<host arch> in an index. */
static int pick_platform(json_t *j, char **out, struct dhi_err **err)
{
	const char *arch = reg_host_arch();
	json_t *ms = json_object_get(j, "manifests"), *e;
	size_t i;

	json_array_foreach (ms, i, e) {
		json_t *p = json_object_get(e, "platform");
		const char *d = json_string_value(json_object_get(e, "digest"));

		if (!json_is_object(p) ||
		    strcmp(json_string_value(json_object_get(p, "os")) ?: "", "linux") ||
		    strcmp(json_string_value(json_object_get(p, "architecture")) ?: "", arch))
			continue;
		if (!ref_is_digest(d))
			return dhi_err_set(err, 0, "index entry for linux/%s has no valid digest",
					   arch);
		*out = xstrdup(d);
		return 0;
	}
	return dhi_err_set_kind(err, ENOENT, "the image index has no manifest for linux/%s", arch);
}

int reg_fetch_manifest(struct reg_client *c, struct reg_manifest *m, struct dhi_err **err)
{
	struct resp r = { 0 };
	dhi_autofree char *want = c->ref.digest ? xstrdup(c->ref.digest) : NULL;
	const char *what = c->ref.digest ? c->ref.digest : c->ref.tag;

	memset(m, 0, sizeof(*m));
	for (int depth = 0; depth < 2; depth++) {
		json_auto_t *j = NULL;
		dhi_autofree char *got = NULL;

		if (get_auth(c, "manifests", what, ACCEPT, MANIFEST_MAX, &r, err) < 0)
			goto fail;
		got = layer_sha256(r.body.p ? r.body.p : "", r.body.len);
		if (want && strcmp(want, got) != 0) {
			dhi_err_set(err, 0, "digest mismatch for manifest: expected `%s`, got `%s`",
				    want, got);
			goto fail;
		}
		if (!want && r.docker_digest && ref_is_digest(r.docker_digest) &&
		    strcmp(r.docker_digest, got) != 0) {
			dhi_err_set(err, 0,
				    "digest mismatch for manifest `%s`: the registry says `%s`, the "
				    "body is `%s`",
				    what, r.docker_digest, got);
			goto fail;
		}
		j = json_loadb(r.body.p ? r.body.p : "", r.body.len, JSON_REJECT_DUPLICATES, NULL);
		if (!json_is_object(j)) {
			dhi_err_set(err, 0, "manifest `%s` is not JSON", what);
			goto fail;
		}
		if (is_index(j, r.content_type)) {
			if (depth > 0) {
				dhi_err_set(err, 0, "nested image indexes are not supported");
				goto fail;
			}
			free(want);
			want = NULL;
			if (pick_platform(j, &want, err) < 0)
				goto fail;
			m->index_digest = dhi_steal_ptr(&got);
			what = want;
			continue;
		}
		if (reg_manifest_parse(r.body.p, r.body.len, m, err) < 0) {
			dhi_err_prefix(err, "manifest `%s`", what);
			goto fail;
		}
		m->digest = dhi_steal_ptr(&got);
		m->body = dhi_steal_ptr(&r.body.p);
		m->len = r.body.len;
		resp_free(&r);
		return 0;
	}
	dhi_err_set(err, 0, "manifest `%s` could not be resolved", what);
fail:
	resp_free(&r);
	reg_manifest_free(m);
	return -1;
}

int reg_fetch_blob_mem(struct reg_client *c, const char *digest, size_t max, char **out,
		       size_t *len, struct dhi_err **err)
{
	struct resp r = { 0 };
	dhi_autofree char *got = NULL;

	if (get_auth(c, "blobs", digest, NULL, max, &r, err) < 0) {
		resp_free(&r);
		return -1;
	}
	got = layer_sha256(r.body.p ? r.body.p : "", r.body.len);
	if (strcmp(got, digest) != 0) {
		resp_free(&r);
		return dhi_err_set(err, 0, "digest mismatch for blob: expected `%s`, got `%s`",
				   digest, got);
	}
	*out = r.body.p ? dhi_steal_ptr(&r.body.p) : xstrdup("");
	*len = r.body.len;
	resp_free(&r);
	return 0;
}

/* --- streaming blobs: libcurl's multi interface, driven by the reader --- */

struct blob {
	struct reg_client *c;
	char *digest;
	long long size;		/* the descriptor's: a longer body is cut off */
	bool too_long;
	CURLM *multi;
	CURL *easy;
	struct curl_slist *hdrs;
	char *buf;
	size_t len, cap;
	char errbody[ERRBODY_MAX];
	size_t errlen;
	unsigned long long delivered;
	bool running;
	int attempt;
	char errbuf[CURL_ERROR_SIZE];
};

static size_t blob_write(char *p, size_t sz, size_t n, void *arg)
{
	struct blob *b = arg;
	size_t len = sz * n;
	long status = 0;

	curl_easy_getinfo(b->easy, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		size_t k = len < ERRBODY_MAX - 1 - b->errlen ? len : ERRBODY_MAX - 1 - b->errlen;

		memcpy(b->errbody + b->errlen, p, k);
		b->errlen += k;
		return len;
	}
	/* (the bytes of this attempt: a retry starts only while none were delivered) */
	if (b->size >= 0 && b->delivered + b->len + len > (unsigned long long)b->size) {
		b->too_long = true;
		return 0;
	}
	if (b->len + len > b->cap) {
		b->cap = (b->len + len) * 2;
		b->buf = xrealloc(b->buf, b->cap);
	}
	memcpy(b->buf + b->len, p, len);
	b->len += len;
	return len;
}

static void blob_start(struct blob *b)
{
	dhi_autofree char *url = make_url(b->c, "blobs", b->digest);

	if (b->easy) {
		curl_multi_remove_handle(b->multi, b->easy);
		curl_easy_cleanup(b->easy);
	}
	curl_slist_free_all(b->hdrs);
	b->hdrs = headers(b->c, NULL);
	b->easy = curl_easy_init();
	if (!b->easy)
		abort();
	setup_easy(b->c, b->easy, url, b->hdrs);
	curl_easy_setopt(b->easy, CURLOPT_WRITEFUNCTION, blob_write);
	curl_easy_setopt(b->easy, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(b->easy, CURLOPT_ERRORBUFFER, b->errbuf);
	b->errlen = 0;
	b->errbuf[0] = '\0';
	curl_multi_add_handle(b->multi, b->easy);
	b->running = true;
	b->attempt++;
}

static ssize_t blob_read(void *ctx, const void **out, struct dhi_err **err)
{
	struct blob *b = ctx;

	b->len = 0; /* the reader is done with the previous bytes */
	while (b->len == 0 && b->running) {
		int still = 0, nmsg;
		CURLMsg *msg;

		if (left_ms(b->c) == 0)
			return deadline_error(b->c, err);
		if (multi_perform(b->multi, &still) != CURLM_OK)
			return dhi_err_set(err, 0, "libcurl failed downloading `%s`", b->digest);
		if (b->len)
			break;
		if (still) {
			curl_multi_poll(b->multi, NULL, 0, 1000, NULL);
			continue;
		}
		b->running = false;
		while ((msg = curl_multi_info_read(b->multi, &nmsg))) {
			long status = 0;
			CURLcode rc = msg->data.result;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(b->easy, CURLINFO_RESPONSE_CODE, &status);
			if (rc == CURLE_OK && status == 200)
				break;
			if (b->too_long)
				return dhi_err_set(err, 0, "blob `%s` from `%s` is longer than the %lld "
							   "bytes its descriptor says (refused)",
						   b->digest, b->c->ref.registry, b->size);
			if (left_ms(b->c) == 0)
				return deadline_error(b->c, err);
			/* nothing reached the reader yet: the request can be made again */
			if (b->delivered == 0 && b->attempt < MAX_ATTEMPTS &&
			    (rc != CURLE_OK || retryable(status))) {
				long wait = 250L << (b->attempt - 1);

				sleep_ms(wait < left_ms(b->c) ? wait : (long)left_ms(b->c));
				blob_start(b);
				break;
			}
			if (rc != CURLE_OK)
				return dhi_err_set(err, 0, "download of `%s` from `%s` failed: %s",
						   b->digest, b->c->ref.registry,
						   *b->errbuf ? b->errbuf : curl_easy_strerror(rc));
			if (status == 404)
				return dhi_err_set_kind(err, ENOENT, "blob `%s` not found in `%s/%s`",
						   b->digest, b->c->ref.registry, b->c->ref.repo);
			return dhi_err_set(err, 0, "registry `%s` answered %ld for blob `%s`",
					   b->c->ref.registry, status, b->digest);
		}
	}
	b->delivered += b->len;
	*out = b->buf;
	return (ssize_t)b->len;
}

int reg_blob_open(struct reg_client *c, const char *digest, long long size,
		  struct layer_src *src, struct dhi_err **err)
{
	struct blob *b;

	if (left_ms(c) == 0)
		return deadline_error(c, err);
	b = xzalloc(sizeof(*b));
	b->c = c;
	b->digest = xstrdup(digest);
	b->size = size;
	b->multi = curl_multi_init();
	if (!b->multi)
		abort();
	blob_start(b);
	src->read = blob_read;
	src->ctx = b;
	return 0;
}

void reg_blob_close(struct layer_src *src)
{
	struct blob *b = src->ctx;

	if (!b)
		return;
	if (b->easy) {
		curl_multi_remove_handle(b->multi, b->easy);
		curl_easy_cleanup(b->easy);
	}
	curl_multi_cleanup(b->multi);
	curl_slist_free_all(b->hdrs);
	free(b->buf);
	free(b->digest);
	free(b);
	src->ctx = NULL;
}

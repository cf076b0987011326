// SPDX-License-Identifier: Apache-2.0
/*
 * docker.c - docker:// and podman:// targets, through the Docker Engine API
 * (Podman serves the same API) over the engine's local unix socket, with
 * libcurl. The engine's answers are untrusted: sizes are capped, redirects
 * refused, every field checked.
 */
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fdio.h"
#include "common/membuf.h"
#include "common/trust.h"
#include "common/xalloc.h"
#include "injector/runtime/adapter.h"
#include "injector/runtime/podmancli.h"

#ifndef DHIDEBUG_VERSION
#define DHIDEBUG_VERSION "0"
#endif

struct engine {
	const char *scheme;	/* "docker", "podman" */
	const char *env;	/* the variable naming its socket */
	const char *dflt;	/* the socket when it is unset */
};

static const struct engine docker = { "docker", "DOCKER_HOST", "/var/run/docker.sock" };
static const struct engine podman = { "podman", "CONTAINER_HOST", "/run/podman/podman.sock" };

/*
 * The API version asked for: the one whose fields we read. An engine too new
 * for it says so (400) and names its own in the Api-Version header; we retry
 * once with that one (the endpoints and fields used are the same there).
 */
#define API_VERSION "1.41"
#define INSPECT_MAX (4u << 20)	/* one container's or image's JSON */
#define LIST_MAX (32u << 20)	/* the container list */
#define LIST_COUNT_MAX 65536
#define TIMEOUT_MS 5000L
#define CONNECT_TIMEOUT_MS 1000L

/* --- parsers --- */

int rt_docker_parse_host(const char *var, const char *value, const char *dflt, char **path,
			 struct dhi_err **err)
{
	const char *p;

	if (!value || !*value) {
		*path = xstrdup(dflt);
		return 0;
	}
	if (strncmp(value, "unix://", 7) != 0) {
		const char *colon = strstr(value, "://");

		return dhi_err_set(err, 0,
				   "%s `%.200s` is not a local socket: dhidebug joins the "
				   "container's namespaces, so it runs on the container's host and "
				   "talks to the engine over its unix socket (%s%.*s refused)",
				   var, value, colon ? "" : "scheme ", colon ? (int)(colon - value + 3) : 0,
				   colon ? value : "");
	}
	p = value + 7;
	if (p[0] != '/' || strlen(p) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return dhi_err_set(err, 0, "%s `%.200s` does not name an absolute socket path",
				   var, value);
	*path = xstrdup(p);
	return 0;
}

/* "/web" → "web"; docker names are [a-zA-Z0-9][a-zA-Z0-9_.-]* */
static char *strip_slash(char *name)
{
	if (name && name[0] == '/') {
		char *s = xstrdup(name + 1);

		free(name);
		name = *s ? s : (free(s), NULL);
	}
	return name;
}

static json_t *object_member(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_object(v) ? v : NULL;
}

static void fill_state(json_t *state, struct rt_target *t)
{
	unsigned long long pid = 0;
	dhi_autofree char *started = NULL;
	long long at;

	if (!state) {
		rt_set_unusable(t, "the engine reports no state");
		return;
	}
	t->state = rt_json_str(state, "Status", 64);
	if (json_is_true(json_object_get(state, "Paused"))) {
		rt_set_unusable(t, "it is paused");
	} else if (json_is_true(json_object_get(state, "Restarting"))) {
		rt_set_unusable(t, "it is restarting");
	} else if (!json_is_true(json_object_get(state, "Running"))) {
		static const char *const stopped[] = { "exited", "created", "dead", "stopped",
						       "configured", NULL };

		rt_set_unusable(t, "it is not running (%s)", t->state ? t->state : "no status");
		for (int i = 0; t->state && stopped[i]; i++)
			if (strcmp(t->state, stopped[i]) == 0)
				t->exited = true;
	}
	if (!t->state)
		t->state = xstrdup(t->unusable ? "unknown" : "running");
	if (rt_json_uint(state, "Pid", RT_PID_MAX, &pid) < 0 || (pid == 0 && !t->unusable))
		rt_set_unusable(t, "the engine reports no valid pid");
	t->pid = (pid_t)pid;
	/* without it a reused pid could not be told from the container's: required */
	started = rt_json_str(state, "StartedAt", 64);
	if (started && rt_parse_time(started, &at) == 0 && at > 0)
		t->started_by = at;
	else if (!t->unusable)
		rt_set_unusable(t, "the engine reports no valid start time");
}

/* Image ids as engines write them: [sha256:]hex. Anything else is not used in a URL. */
static bool valid_image_id(const char *s)
{
	const char *hex = strncmp(s, "sha256:", 7) == 0 ? s + 7 : s;
	size_t n = strlen(hex);

	if (n < 12 || n > 64)
		return false;
	return strspn(hex, "0123456789abcdef") == n;
}

int rt_docker_parse_inspect(const char *buf, size_t len, struct rt_target *out, char **image_id,
			    struct dhi_err **err)
{
	json_t *j = rt_json_parse(buf, len, "container inspect", err);
	json_t *config;

	*image_id = NULL;
	if (!j)
		return -1;
	out->id = rt_json_str(j, "Id", 128);
	if (!out->id || !rt_valid_id(out->id)) {
		json_decref(j);
		free(out->id);
		out->id = NULL;
		return dhi_err_set(err, 0, "container inspect has no valid `Id`");
	}
	out->name = strip_slash(rt_json_str(j, "Name", 256));
	if (!out->name)
		out->name = xstrdup(out->id);
	fill_state(object_member(j, "State"), out);
	config = object_member(j, "Config");
	/* how its process was configured (lint reads it; a session on a stopped one starts so) */
	out->proc = rt_process_from_inspect(j);
	/* a stopped one's files, for a session on them */
	if (out->exited) {
		out->fs = rt_fs_from_graphdriver(object_member(j, "GraphDriver"));
		/* and its volumes, which the engine would mount over them at start */
		rt_fs_add_mounts(out->fs, json_object_get(j, "Mounts"));
	}
	out->image_ref = rt_json_str(config, "Image", 1024);
	out->labels = rt_json_labels(json_object_get(config, "Labels"));
	*image_id = rt_json_str(j, "Image", 128);
	if (*image_id && !valid_image_id(*image_id)) {
		free(*image_id);
		*image_id = NULL;
	}
	json_decref(j);
	return 0;
}

/* "algo:hex" with a known algorithm and the right length. */
static bool valid_digest(const char *d)
{
	size_t want;
	const char *hex;

	if (strncmp(d, "sha256:", 7) == 0)
		want = 64;
	else if (strncmp(d, "sha512:", 7) == 0)
		want = 128;
	else
		return false;
	hex = d + 7;
	return strlen(hex) == want && strspn(hex, "0123456789abcdef") == want;
}

/* The repository of a reference: without a tag (a ':' after the last '/') or digest. */
static char *repository(const char *ref)
{
	char *r = xstrdup(ref), *at = strchr(r, '@'), *slash, *colon;

	if (at)
		*at = '\0';
	slash = strrchr(r, '/');
	colon = strrchr(slash ? slash : r, ':');
	if (colon)
		*colon = '\0';
	return r;
}

bool rt_ref_has_tag(const char *ref)
{
	const char *at = strchr(ref, '@'), *slash = strrchr(ref, '/'), *colon;
	size_t n = at ? (size_t)(at - ref) : strlen(ref);

	if (slash && (size_t)(slash - ref) >= n)
		return false;
	colon = memchr(slash ? slash : ref, ':', n - (size_t)((slash ? slash : ref) - ref));
	return colon != NULL;
}

/* [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}: the distribution spec's tag */
static bool valid_tag(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 128 || s[0] == '.' || s[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_.-", s[i]))
			return false;
	return true;
}

char *rt_image_tag_from_labels(const char *ref, char *const *labels)
{
	static const char *const keys[] = { "org.opencontainers.image.ref.name=",
					    "org.opencontainers.image.version=" };
	dhi_autofree char *repo = repository(ref);

	for (size_t k = 0; k < 2 && labels; k++)
		for (size_t i = 0; labels[i]; i++) {
			const char *v;

			if (strncmp(labels[i], keys[k], strlen(keys[k])) != 0)
				continue;
			v = labels[i] + strlen(keys[k]);
			if (valid_tag(v))
				return xasprintf("%s:%s", repo, v);
			/* a whole reference: only one of the same repository */
			if (k == 0 && rt_ref_has_tag(v) && !strchr(v, '@')) {
				dhi_autofree char *vr = repository(v);

				if (strcmp(vr, repo) == 0 && valid_tag(v + strlen(vr) + 1))
					return xstrdup(v);
			}
		}
	return NULL;
}

int rt_docker_parse_image(const char *buf, size_t len, const char *ref, char **digest,
			  char **tagged, struct dhi_err **err)
{
	json_t *j = rt_json_parse(buf, len, "image inspect", err), *v;
	dhi_autofree char *repo = ref ? repository(ref) : NULL;
	char *first = NULL, *match = NULL, *id;
	size_t i;

	*digest = NULL;
	if (tagged)
		*tagged = NULL;
	if (!j)
		return -1;
	json_array_foreach(json_object_get(j, "RepoDigests"), i, v) {
		const char *s = json_string_value(v), *at = s ? strchr(s, '@') : NULL;

		if (i >= 1024)
			break;
		if (!at || !valid_digest(at + 1))
			continue;
		if (!first)
			first = xstrdup(at + 1);
		if (!match && repo && (size_t)(at - s) == strlen(repo) &&
		    strncmp(s, repo, strlen(repo)) == 0)
			match = xstrdup(at + 1);
	}
	if (match) {
		*digest = match;
		free(first);
	} else if (first) {
		*digest = first;
	} else if ((id = rt_json_str(j, "Id", 128)) && valid_digest(id)) {
		*digest = id;
	} else {
		free(id);
	}
	json_array_foreach(tagged ? json_object_get(j, "RepoTags") : NULL, i, v) {
		const char *s = json_string_value(v);
		dhi_autofree char *r = NULL;

		if (i >= 1024)
			break;
		/* names it did not ask for stay names: printable, a tag, no digest */
		if (!s || strlen(s) > 1024 || strchr(s, '@') || !rt_ref_has_tag(s) ||
		    !dhi_is_utf8(s) || strpbrk(s, " \t\r\n\033"))
			continue;
		r = repository(s);
		if (!valid_tag(s + strlen(r) + 1))
			continue;
		if (repo && strcmp(r, repo) == 0) {
			free(*tagged);
			*tagged = xstrdup(s);
			break;
		}
		if (!*tagged)
			*tagged = xstrdup(s);
	}
	json_decref(j);
	return 0;
}

int rt_docker_parse_list(const char *buf, size_t len, size_t max, char ***ids, size_t *n,
			 struct dhi_err **err)
{
	json_error_t jerr;
	json_t *j = json_loadb(buf, len, 0, &jerr), *v;
	size_t i;

	*ids = NULL;
	*n = 0;
	if (!json_is_array(j)) {
		json_decref(j);
		return dhi_err_set(err, 0, "container list is not a JSON array");
	}
	*ids = xzalloc((json_array_size(j) < max ? json_array_size(j) : max) * sizeof(char *) + 1);
	json_array_foreach(j, i, v) {
		char *id;

		if (*n == max)
			break;
		id = rt_json_str(v, "Id", 128);
		if (id && rt_valid_id(id))
			(*ids)[(*n)++] = id;
		else
			free(id);
	}
	json_decref(j);
	return 0;
}

/* --- talking to the engine --- */

struct api {
	const struct engine *e;
	char *sock;
	CURL *curl;
	char version[16];	/* the API version in use, "1.41" */
	char server_version[16];	/* Api-Version of the last answer */
	char errbuf[CURL_ERROR_SIZE];
};

static size_t on_header(char *p, size_t size, size_t nmemb, void *arg)
{
	struct api *a = arg;
	size_t n = size * nmemb, i = 12;

	if (n > 12 && strncasecmp(p, "Api-Version:", 12) == 0) {
		size_t k = 0;

		while (i < n && p[i] == ' ')
			i++;
		while (i < n && k + 1 < sizeof(a->server_version) &&
		       ((p[i] >= '0' && p[i] <= '9') || p[i] == '.'))
			a->server_version[k++] = p[i++];
		a->server_version[k] = '\0';
	}
	return n;
}

/* 0: connected, so the engine is there; 1: nothing listens (absent); -1: error. */
static int try_connect(const char *sock, struct dhi_err **err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	dhi_autoclose int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return dhi_err_set(err, errno, "cannot create a socket");
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		/* whoever serves it decides what dhidebug enters: root, or nobody */
		return trust_check_peer(fd, sock, err) < 0 ? -1 : 0;
	if (errno == ENOENT || errno == ECONNREFUSED)
		return 1;
	return dhi_err_set(err, errno, "cannot connect to `%s`", sock);
}

int rt_socket_up(const char *sock, struct dhi_err **err)
{
	return try_connect(sock, err);
}

static void api_close(struct api *a);

static int api_open(const struct engine *e, struct api *a, struct dhi_err **err)
{
	dhi_autoclose int fd = -1;

	memset(a, 0, sizeof(*a));
	a->e = e;
	snprintf(a->version, sizeof(a->version), "%s", API_VERSION);
	if (rt_docker_parse_host(e->env, getenv(e->env), e->dflt, &a->sock, err) < 0)
		return -1;
	/*
	 * Only root can have put the socket there and only root can replace it
	 * (a rootless engine's, under the user's /run/user/UID, is neither):
	 * every later connection to the path reaches what was checked here.
	 */
	if (trust_open(a->sock, O_PATH, &fd, err) < 0) {
		/* (a user who cannot reach it cannot connect either: the connect says so) */
		if ((*err)->errnum == EACCES && geteuid() != 0) {
			dhi_err_clear(err);
			return 0;
		}
		dhi_err_prefix(err, "%s socket `%s`", e->scheme, a->sock);
		api_close(a);
		return -1;
	}
	return 0;
}

static void api_close(struct api *a)
{
	if (a->curl)
		curl_easy_cleanup(a->curl);
	free(a->sock);
	memset(a, 0, sizeof(*a));
}

static int curl_fail(struct api *a, CURLcode c, struct dhi_err **err)
{
	return dhi_err_set(err, 0, "cannot talk to %s at `%s`: %s", a->e->scheme, a->sock,
			   a->errbuf[0] ? a->errbuf : curl_easy_strerror(c));
}

static int setup_curl(struct api *a, struct dhi_err **err)
{
	CURL *c;

	if (a->curl)
		return 0;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return dhi_err_set(err, 0, "cannot initialise libcurl");
	c = a->curl = curl_easy_init();
	if (!c)
		return dhi_err_set(err, 0, "cannot initialise libcurl");
	/* plain HTTP on the local socket, nothing else: no proxy, redirect or encoding */
	if (curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, a->sock) != CURLE_OK ||
#if LIBCURL_VERSION_NUM >= 0x075500
	    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http") != CURLE_OK ||
#endif
	    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_PROXY, "") != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_NOPROXY, "*") != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, TIMEOUT_MS) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_USERAGENT, "dhidebug/" DHIDEBUG_VERSION) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, a->errbuf) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, membuf_curl_write) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_HEADERDATA, a) != CURLE_OK)
		return dhi_err_set(err, 0, "cannot configure libcurl");
	return 0;
}

/* The engine's own explanation of an error answer, if it gave one. */
static char *engine_message(const struct membuf *b)
{
	json_t *j = b->p ? json_loadb(b->p, b->len, 0, NULL) : NULL;
	char *m = rt_json_str(j, "message", 200);

	json_decref(j);
	return m;
}

static bool valid_api_version(const char *v)
{
	return strncmp(v, "1.", 2) == 0 && strlen(v) >= 3 && strlen(v) <= 5 &&
	       strspn(v + 2, "0123456789") == strlen(v + 2) && atoi(v + 2) > 41;
}

/*
 * GET /v<version><path>. Returns the HTTP status (200, 404...) with the body in
 * *out, or -1 with err set. Only 200 and 404 are returned; anything else is
 * an error that says what the engine said.
 */
static long api_call(struct api *a, const char *method, const char *path, size_t max, char **out,
		     size_t *len, struct dhi_err **err)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		struct membuf b = { .max = max };
		dhi_autofree char *url = NULL, *msg = NULL;
		long status = 0;
		CURLcode c;

		if (setup_curl(a, err) < 0)
			return -1;
		url = xasprintf("http://localhost/v%s%s", a->version, path);
		a->errbuf[0] = '\0';
		a->server_version[0] = '\0';
		if (curl_easy_setopt(a->curl, CURLOPT_URL, url) != CURLE_OK ||
		    (strcmp(method, "POST") == 0
			     /* an empty POST body: the libpod calls here take none */
			     ? curl_easy_setopt(a->curl, CURLOPT_POSTFIELDSIZE, 0L) != CURLE_OK ||
				       curl_easy_setopt(a->curl, CURLOPT_POSTFIELDS, "") != CURLE_OK
			     : curl_easy_setopt(a->curl, CURLOPT_HTTPGET, 1L) != CURLE_OK) ||
		    curl_easy_setopt(a->curl, CURLOPT_WRITEDATA, &b) != CURLE_OK ||
		    curl_easy_setopt(a->curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max) !=
			    CURLE_OK)
			return dhi_err_set(err, 0, "cannot configure libcurl");
		c = curl_easy_perform(a->curl);
		if (c != CURLE_OK || b.too_big) {
			free(b.p);
			if (b.too_big || c == CURLE_FILESIZE_EXCEEDED)
				return dhi_err_set(err, 0, "%s answered more than %zu bytes for `%s`",
						   a->e->scheme, max, path);
			return curl_fail(a, c, err);
		}
		curl_easy_getinfo(a->curl, CURLINFO_RESPONSE_CODE, &status);
		if (status == 200 || status == 204 || status == 404) {
			if (status == 404) {
				free(b.p);
				b.p = NULL;
				b.len = 0;
			}
			*out = b.p ? b.p : xstrdup("");
			*len = b.len;
			return status;
		}
		msg = engine_message(&b);
		free(b.p);
		if (status == 400 && attempt == 0 && valid_api_version(a->server_version)) {
			snprintf(a->version, sizeof(a->version), "%s", a->server_version);
			continue;
		}
		if (status >= 300 && status < 400)
			return dhi_err_set(err, 0, "%s answered `%s` with a redirect (not followed)",
					   a->e->scheme, path);
		return dhi_err_set(err, 0, "%s answered `%s` with HTTP %ld%s%s", a->e->scheme, path,
				   status, msg ? ": " : "", msg ? msg : "");
	}
	return dhi_err_set(err, 0, "%s refuses API version %s", a->e->scheme, a->version);
}

static long api_get(struct api *a, const char *path, size_t max, char **out, size_t *len,
		    struct dhi_err **err)
{
	return api_call(a, "GET", path, max, out, len, err);
}

/*
 * A container's digest: the reference's own, RepoDigests, or the image id;
 * for a reference with a digest only, also the tag its engine records for the
 * image (RepoTags, else the image's labels), for the toolbox rule.
 */
/*
 * The CLI's answer to `podman container|image inspect X...`: a JSON array of
 * the objects the API gives one at a time. Element i as its own JSON text.
 */
static char *cli_element(const char *buf, size_t len, size_t i, size_t *n)
{
	json_t *j = json_loadb(buf, len, 0, NULL);
	char *s = NULL;

	*n = json_array_size(j);
	if (json_is_object(json_array_get(j, i)))
		s = json_dumps(json_array_get(j, i), JSON_COMPACT);
	json_decref(j);
	return s;
}

/* GET /images/{id}/json, or `podman image inspect` (a == NULL): 200 or -1. */
static long image_json(struct api *a, const char *image_id, char **buf, size_t *len,
		       struct dhi_err **err)
{
	const char *args[] = { "podman", "image", "inspect", image_id, NULL };
	dhi_autofree char *path = NULL, *all = NULL;
	size_t alen, n;

	if (a) {
		path = xasprintf("/images/%s/json", image_id);
		return api_get(a, path, INSPECT_MAX, buf, len, err);
	}
	if (podman_cli_run(args, INSPECT_MAX, &all, &alen, err) != 0)
		return -1;
	*buf = cli_element(all, alen, 0, &n);
	*len = *buf ? strlen(*buf) : 0;
	return *buf ? 200 : dhi_err_set(err, 0, "podman image inspect answered no image");
}

static void find_digest(struct api *a, struct rt_target *t, const char *image_id)
{
	dhi_autofree char *buf = NULL, *digest = NULL;
	const char *at = t->image_ref ? strchr(t->image_ref, '@') : NULL;
	bool tagless = t->image_ref && !rt_ref_has_tag(t->image_ref);
	struct dhi_err *err = NULL;
	size_t len;

	if (at && valid_digest(at + 1)) {
		t->image_digest = xstrdup(at + 1);
		if (!tagless)
			return;
	}
	if (image_id) {
		/* an image removed under a running container still has its id: that is the digest */
		if (image_json(a, image_id, &buf, &len, &err) != 200 ||
		    rt_docker_parse_image(buf, len, t->image_ref, &digest,
					  tagless ? &t->image_tagged : NULL, &err) < 0)
			dhi_err_clear(&err);
		if (!t->image_digest && digest)
			t->image_digest = xstrdup(digest);
		if (!t->image_digest && valid_digest(image_id))
			t->image_digest = xstrdup(image_id);
	}
	if (tagless && !t->image_tagged)
		t->image_tagged = rt_image_tag_from_labels(t->image_ref, t->labels);
}

/* One container's inspect <buf, len>, from e's API (a) or podman's CLI (a NULL), appended. */
static int add_inspected(const struct engine *e, struct api *a, const char *id, const char *buf,
			 size_t len, struct rt_list *out, struct dhi_err **err)
{
	dhi_autofree char *image_id = NULL;
	struct rt_target t = { 0 };

	if (rt_docker_parse_inspect(buf, len, &t, &image_id, err) < 0) {
		rt_target_free(&t);
		return dhi_err_prefix(err, "%s container `%s`", e->scheme, id);
	}
	t.runtime = xstrdup(e->scheme);
	if (t.exited && e == &podman && !t.fs) {
		/*
		 * A stopped container's overlay layers are used as they are, as
		 * Docker's: podman's own mount of them is an overlay already, and
		 * the session's views on top would stack one overlay too many. With
		 * another storage driver (vfs, btrfs) podman mounts them itself.
		 */
		t.fs = xzalloc(sizeof(*t.fs));
		t.fs->engine_mount = true;
	}
	find_digest(a, &t, image_id);
	rt_list_push(out, &t);
	return 0;
}

/* Inspects one container: 0 appended, 1 no such container, -1 error. */
static int inspect(struct api *a, const char *id, struct rt_list *out, struct dhi_err **err)
{
	dhi_autofree char *path = xasprintf("/containers/%s/json", id), *buf = NULL;
	size_t len;
	long status = api_get(a, path, INSPECT_MAX, &buf, &len, err);

	if (status < 0)
		return -1;
	if (status == 404)
		return 1;
	return add_inspected(a->e, a, id, buf, len, out, err);
}

/*
 * podman without its service: `podman container inspect ID...` (ids as
 * valid_name() allows them, so none is taken for an option). Each container
 * it knows is appended; 0, or -1 with err set.
 */
static int cli_inspect(char **ids, size_t nids, struct rt_list *out, struct dhi_err **err)
{
	const char **args = xzalloc((nids + 4) * sizeof(char *));
	dhi_autofree char *all = NULL;
	size_t alen, n = 0;
	int r;

	args[0] = "podman";
	args[1] = "container";
	args[2] = "inspect";
	for (size_t i = 0; i < nids; i++)
		args[3 + i] = ids[i];
	r = podman_cli_run(args, LIST_MAX, &all, &alen, err);
	free(args);
	if (r < 0)
		return -1;
	/* one of them removed since the list was taken fails the whole call: one at a time */
	if (r > 0 && nids > 1) {
		for (size_t i = 0; i < nids; i++)
			if (cli_inspect(&ids[i], 1, out, err) < 0)
				return -1;
		return 0;
	}
	if (r > 0)
		return 0;	/* no such container (any more) */
	for (size_t i = 0; i == 0 || i < n; i++) {
		dhi_autofree char *one = cli_element(all, alen, i, &n);

		if (!one)
			break;
		if (add_inspected(&podman, NULL, nids == 1 ? ids[0] : "listed by `podman ps`", one, strlen(one), out,
				  err) < 0)
			return -1;
	}
	return 0;
}

/* Whether podman's API socket answers: 1 it does, 0 nothing there, -1 error. */
static int podman_api_up(struct dhi_err **err)
{
	struct api a;
	int r;

	if (api_open(&podman, &a, err) < 0)
		return -1;
	r = try_connect(a.sock, err);
	api_close(&a);
	return r < 0 ? -1 : r == 0;
}

/* Names and ids as engines allow them; nothing that would need escaping in a URL. */
static bool valid_name(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 255 && s[0] != '.' && s[0] != '-' &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

static int probe(const struct engine *e, struct dhi_err **err)
{
	struct api a;
	int r;

	if (api_open(e, &a, err) < 0)
		return -1;
	r = try_connect(a.sock, err);
	api_close(&a);
	return r < 0 ? -1 : r == 0;
}

static int lookup(const struct engine *e, const char *id, struct rt_list *out,
		  struct dhi_err **err)
{
	struct api a;
	int r;

	if (!valid_name(id))
		return dhi_err_set(err, 0, "invalid %s container name `%s`", e->scheme, id);
	if (api_open(e, &a, err) < 0)
		return -1;
	r = try_connect(a.sock, err);
	if (r == 1)
		r = dhi_err_set(err, errno, "cannot connect to %s at `%s` (is it running? %s "
				"names another socket)", e->scheme, a.sock, e->env);
	if (r == 0)
		r = inspect(&a, id, out, err) < 0 ? -1 : 0;
	api_close(&a);
	return r;
}

static int list(const struct engine *e, struct rt_list *out, struct dhi_err **err)
{
	struct api a;
	dhi_autofree char *buf = NULL;
	char **ids = NULL;
	size_t len, n = 0;
	int ret = -1;

	if (api_open(e, &a, err) < 0)
		return -1;
	/* every container, as `docker ps -a` shows them: a stopped or created one can be opened */
	if (api_get(&a, "/containers/json?all=1", LIST_MAX, &buf, &len, err) != 200) {
		if (!*err)
			dhi_err_set(err, 0, "%s has no container list", e->scheme);
		goto out;
	}
	if (rt_docker_parse_list(buf, len, LIST_COUNT_MAX, &ids, &n, err) < 0)
		goto out;
	ret = 0;
	for (size_t i = 0; i < n && ret == 0; i++)
		/* one removed since the list was taken is simply gone */
		ret = inspect(&a, ids[i], out, err) < 0 ? -1 : 0;
out:
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	api_close(&a);
	return ret;
}

static int docker_probe(const struct rt_opts *opts, struct dhi_err **err)
{
	return probe(&docker, err);
}

static int podman_probe(const struct rt_opts *opts, struct dhi_err **err)
{
	dhi_autoclose int fd = -1;
	int r = probe(&podman, err);
	const char *sock = getenv(podman.env);

	if (r != 0 || (sock && *sock))
		return r;
	/* no service (and none named): podman's own CLI, when podman is installed */
	r = podman_cli_open(&fd, NULL, err);
	return r < 0 ? -1 : r == 0;
}

static int docker_lookup(const char *id, const struct rt_opts *opts, struct rt_list *out,
			 struct dhi_err **err)
{
	return lookup(&docker, id, out, err);
}

static int podman_lookup(const char *id, const struct rt_opts *opts, struct rt_list *out,
			 struct dhi_err **err)
{
	dhi_autoclose int fd = -1;
	char *ids[] = { (char *)id };
	const char *sock = getenv(podman.env);
	int r;

	if (!valid_name(id))
		return dhi_err_set(err, 0, "invalid podman container name `%s`", id);
	r = podman_api_up(err);
	if (r != 0)
		return r < 0 ? -1 : lookup(&podman, id, out, err);
	/* CONTAINER_HOST names a service that is not there: that one was asked for */
	if (sock && *sock)
		return lookup(&podman, id, out, err);
	r = podman_cli_open(&fd, NULL, err);
	if (r < 0)
		return -1;
	if (r == 1)
		return dhi_err_set(err, 0, "podman is not on this host: no API service at `%s` "
					   "and no podman CLI (start the service with `systemctl "
					   "start podman.socket`, or install podman)",
				   podman.dflt);
	if (cli_inspect(ids, 1, out, err) < 0)
		return dhi_err_prefix(err, "no API service at `%s` (`systemctl start "
					   "podman.socket` starts it), and podman's CLI",
				      podman.dflt);
	return 0;
}

static int docker_list(const struct rt_opts *opts, struct rt_list *out, struct dhi_err **err)
{
	return list(&docker, out, err);
}

static int podman_list(const struct rt_opts *opts, struct rt_list *out, struct dhi_err **err)
{
	const char *args[] = { "podman", "ps", "-a", "-q", "--no-trunc", NULL };
	const char *sock = getenv(podman.env);
	dhi_autofree char *buf = NULL;
	char **ids = NULL, *line, *save = NULL;
	size_t len, n = 0;
	int r = podman_api_up(err);

	if (r < 0)
		return -1;
	if (r == 1 || (sock && *sock))
		return list(&podman, out, err);
	/* every container, as `podman ps -a` shows them, without the service */
	if (podman_cli_run(args, LIST_MAX, &buf, &len, err) != 0)
		return -1;
	for (line = strtok_r(buf, "\n", &save); line && n < LIST_COUNT_MAX;
	     line = strtok_r(NULL, "\n", &save)) {
		if (!valid_name(line))
			continue;
		ids = xrealloc(ids, (n + 1) * sizeof(*ids));
		ids[n++] = line;
	}
	r = n ? cli_inspect(ids, n, out, err) : 0;
	free(ids);
	return r;
}

const struct rt_adapter rt_docker_adapter = { "docker",	  true,		 valid_name, docker_probe,
					      docker_lookup, docker_list };
const struct rt_adapter rt_podman_adapter = { "podman",	  true,		 valid_name, podman_probe,
					      podman_lookup, podman_list };

/* What POST /libpod/containers/{id}/mount answers: the path, as a JSON string or bare. */
static char *mount_path(const char *buf, size_t len)
{
	json_t *j = json_loadb(buf, len, JSON_DECODE_ANY, NULL);
	char *p = NULL;

	if (json_is_string(j)) {
		p = xstrdup(json_string_value(j));
	} else {
		while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
			len--;
		p = xstrndup(buf, len);
	}
	json_decref(j);
	if (p[0] != '/' || strlen(p) > 4096 || strlen(p) != strcspn(p, "\n\r\t")) {
		free(p);
		return NULL;
	}
	return p;
}

int rt_engine_mount(const struct rt_target *t, bool mount, char **path, struct dhi_err **err)
{
	dhi_autofree char *url = NULL, *buf = NULL;
	struct api a;
	size_t len;
	long status;

	if (strcmp(t->runtime, "podman") != 0 || !valid_name(t->id))
		return dhi_err_set(err, 0, "only podman mounts a container's files for dhidebug");
	status = podman_api_up(err);
	if (status < 0)
		return -1;
	if (status == 0 && !getenv(podman.env)) {
		const char *args[] = { "podman", mount ? "mount" : "umount", t->id, NULL };
		int r = podman_cli_run(args, 8192, &buf, &len, err);

		if (r != 0)
			return r < 0 ? -1
				     : dhi_err_set(err, 0, "podman no longer has container `%s`",
						   t->id);
		if (!mount)
			return 0;
		*path = mount_path(buf, len);
		return *path ? 0
			     : dhi_err_set(err, 0, "podman mount of `%s` printed no usable path",
					   t->id);
	}
	if (api_open(&podman, &a, err) < 0)
		return -1;
	url = xasprintf("/libpod/containers/%s/%s", t->id, mount ? "mount" : "unmount");
	status = api_call(&a, "POST", url, 8192, &buf, &len, err);
	api_close(&a);
	if (status < 0)
		return -1;
	if (status == 404)
		return dhi_err_set(err, 0, "podman no longer has container `%s`", t->id);
	if (!mount)
		return 0;
	*path = mount_path(buf, len);
	if (!*path)
		return dhi_err_set(err, 0, "podman answered the mount of `%s` with no usable path",
				   t->id);
	return 0;
}

/* --- an image from the engines' own stores (issue 16: local images first) --- */

#define SAVE_TIMEOUT_MS (10L * 60 * 1000)	/* an image export may be gigabytes */

/* Where an export is written: at most max bytes, every write complete. */
struct sink {
	int fd;
	unsigned long long n, max;
	bool too_big;
	int errnum;
};

static size_t sink_write(char *p, size_t size, size_t nmemb, void *arg)
{
	struct sink *k = arg;
	size_t n = size * nmemb;

	if (k->n + n > k->max) {
		k->too_big = true;
		return 0;
	}
	if (fd_write_all(k->fd, p, n) < 0) {
		k->errnum = errno;
		return 0;
	}
	k->n += n;
	return n;
}

/* GET /v<version><path> into k: 0 written (HTTP 200), -1 with err set. */
static int api_save(struct api *a, const char *path, struct sink *k, struct dhi_err **err)
{
	dhi_autofree char *url = xasprintf("http://localhost/v%s%s", a->version, path);
	long status = 0;
	CURLcode c;

	if (setup_curl(a, err) < 0)
		return -1;
	a->errbuf[0] = '\0';
	if (curl_easy_setopt(a->curl, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(a->curl, CURLOPT_HTTPGET, 1L) != CURLE_OK ||
	    curl_easy_setopt(a->curl, CURLOPT_WRITEFUNCTION, sink_write) != CURLE_OK ||
	    curl_easy_setopt(a->curl, CURLOPT_WRITEDATA, k) != CURLE_OK ||
	    curl_easy_setopt(a->curl, CURLOPT_TIMEOUT_MS, SAVE_TIMEOUT_MS) != CURLE_OK)
		return dhi_err_set(err, 0, "cannot configure libcurl");
	c = curl_easy_perform(a->curl);
	if (k->too_big)
		return dhi_err_set(err, 0, "%s's export of it is larger than %llu bytes",
				   a->e->scheme, k->max);
	if (k->errnum)
		return dhi_err_set(err, k->errnum, "cannot write %s's export of it", a->e->scheme);
	if (c != CURLE_OK)
		return curl_fail(a, c, err);
	curl_easy_getinfo(a->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200)
		return dhi_err_set(err, 0, "%s answered `%s` with HTTP %ld", a->e->scheme, path,
				   status);
	return 0;
}

/* A reference as it may appear in an API path: nothing that would need escaping. */
static bool valid_image_ref(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 512 && s[0] != '/' && s[0] != '.' && s[0] != '-' && !strstr(s, "..") &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-/:@") == n;
}

/* The image id ("sha256:<64 hex>") in an image's inspect object, or NULL. */
static char *image_id_of(const char *buf, size_t len)
{
	json_t *j = json_loadb(buf, len, 0, NULL);
	char *id = rt_json_str(j, "Id", 80);

	json_decref(j);
	/* podman's CLI gives the bare hex, the APIs the digest */
	if (id && strlen(id) == 64 && strspn(id, "0123456789abcdef") == 64) {
		char *d = xasprintf("sha256:%s", id);

		free(id);
		id = d;
	}
	if (id && !valid_digest(id)) {
		free(id);
		id = NULL;
	}
	return id;
}

/* One engine's API: 1 it has the image (saved to k when k), 0 no engine there or no such image, -1 error. */
static int save_from(const struct engine *e, const char *ref, char **id, struct sink *k,
		     struct dhi_err **err)
{
	struct api a;
	dhi_autofree char *path = NULL, *buf = NULL;
	size_t len;
	long status;
	int r;

	if (api_open(e, &a, err) < 0)
		return -1;
	r = try_connect(a.sock, err);
	if (r != 0) {
		r = r < 0 ? -1 : 0;	/* (1: nothing listens there) */
		goto out;
	}
	status = image_json(&a, ref, &buf, &len, err);
	if (status != 200) {
		r = status < 0 ? -1 : 0;
		goto out;
	}
	*id = image_id_of(buf, len);
	if (!*id) {
		r = dhi_err_set(err, 0, "%s reports no valid id for image `%s`", e->scheme, ref);
		goto out;
	}
	r = 1;
	if (k) {
		path = xasprintf("/images/%s/get", ref);
		r = api_save(&a, path, k, err) < 0 ? -1 : 1;
	}
out:
	api_close(&a);
	return r;
}

/* podman's CLI: the same as save_from(). */
static int cli_save_from(const char *ref, char **id, struct sink *k, struct dhi_err **err)
{
	const char *args[] = { "podman", "image", "inspect", ref, NULL };
	dhi_autofree char *all = NULL, *one = NULL;
	size_t alen, n;
	int r = podman_cli_run(args, INSPECT_MAX, &all, &alen, err);

	if (r != 0)
		return r < 0 ? -1 : 0;
	one = cli_element(all, alen, 0, &n);
	*id = one ? image_id_of(one, strlen(one)) : NULL;
	if (!*id)
		return dhi_err_set(err, 0, "podman reports no valid id for image `%s`", ref);
	if (!k)
		return 1;
	r = podman_cli_save(ref, k->fd, k->max, err);
	return r < 0 ? -1 : r == 0 ? 1 : dhi_err_set(err, 0, "podman lost image `%s`", ref);
}

int rt_local_image_save(const char *ref, const char *hint, char **id, int fd,
			unsigned long long max, char **from, struct dhi_err **err)
{
	struct sink k = { .fd = fd, .max = max }, *kp = fd >= 0 ? &k : NULL;
	const char *sock = getenv(podman.env);
	dhi_autoclose int exe = -1;
	int r;

	*id = NULL;
	*from = NULL;
	if (!valid_image_ref(ref))
		return 0;
	*from = xstrdup("the Docker Engine's images");
	r = save_from(&docker, ref, id, kp, err);
	if (r != 0)
		return r;
	free(*from);
	*from = xstrdup("podman's images");
	r = save_from(&podman, ref, id, kp, err);
	if (r == 0 && !(sock && *sock)) {
		r = podman_api_up(err);
		/* no podman service (and none named): podman's own CLI, when podman is installed */
		if (r == 0 && (r = podman_cli_open(&exe, NULL, err)) == 0)
			r = cli_save_from(ref, id, kp, err);
		else if (r > 0)
			r = 0;	/* its service answered: it has no such image */
	}
	if (r != 0)
		return r;
	free(*from);
	*from = NULL;
	/* containerd's namespace of the target, when it is containerd's */
	return rt_containerd_image_save(ref, hint, id, fd, max, from, err);
}

// SPDX-License-Identifier: Apache-2.0
/* test_runtime_parse.c - what runtimes write is hostile: each parser, with bad and hostile input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "injector/runtime/adapter.h"

#define ID64 "4290c2b9564c6d2951a4acc53e2a1cdaa373c93ac74b03aa0dcb584bfa5c9733"
#define HEX64 "5e577190e9c21f6c28f68ace8fc3d550e281f05ef6b2440e79285e6d5a0bcb9d"

/* What podman 4.3's compat API answers, trimmed to the fields read and a few others. */
static const char inspect_running[] =
	"{\"Id\":\"" ID64 "\",\"Created\":\"2026-11-27T19:38:42.700330678Z\",\"Path\":\"/app\","
	"\"State\":{\"Status\":\"running\",\"Running\":true,\"Paused\":false,\"Restarting\":false,"
	"\"Pid\":16321,\"StartedAt\":\"2026-11-27T19:38:42.808937455Z\"},"
	"\"Image\":\"sha256:" HEX64 "\",\"Name\":\"/web\","
	"\"Config\":{\"Image\":\"localhost/dhi-app:1\",\"Labels\":{\"app\":\"web\",\"tier\":\"1\"}}}";

static int parse_inspect(const char *json, struct rt_target *t, char **image_id, char **msg)
{
	struct dhi_err *err = NULL;
	int r;

	memset(t, 0, sizeof(*t));
	r = rt_docker_parse_inspect(json, strlen(json), t, image_id, &err);
	*msg = err ? strdup(err->msg) : NULL;
	dhi_err_clear(&err);
	return r;
}

static void test_rt_docker_parse_inspect_running(void **st)
{
	struct rt_target t;
	char *image_id, *msg;

	assert_int_equal(parse_inspect(inspect_running, &t, &image_id, &msg), 0);
	assert_string_equal(t.id, ID64);
	assert_string_equal(t.name, "web");
	assert_int_equal(t.pid, 16321);
	assert_string_equal(t.state, "running");
	assert_null(t.unusable);
	assert_string_equal(t.image_ref, "localhost/dhi-app:1");
	assert_string_equal(image_id, "sha256:" HEX64);
	assert_true(t.started_by == 1795808322LL);	/* 2026-11-27T19:38:42Z */
	assert_string_equal(t.labels[0], "app=web");
	assert_string_equal(t.labels[1], "tier=1");
	assert_null(t.labels[2]);
	free(image_id);
	rt_target_free(&t);
}

/* One inspect answer with `state` as its State object: the reason it is refused, or NULL. */
static char *why_not(const char *state)
{
	char *json, *image_id, *msg, *why;
	struct rt_target t;

	assert_true(asprintf(&json, "{\"Id\":\"" ID64 "\",\"State\":%s}", state) > 0);
	assert_int_equal(parse_inspect(json, &t, &image_id, &msg), 0);
	why = t.unusable ? strdup(t.unusable) : NULL;
	rt_target_free(&t);
	free(image_id);
	free(json);
	return why;
}

static void test_rt_docker_parse_inspect_states(void **st)
{
	static const struct {
		const char *state, *why;
	} cases[] = {
		{ "{\"Status\":\"paused\",\"Running\":true,\"Paused\":true,\"Pid\":5,"
		  "\"StartedAt\":\"2024-01-01T00:00:00Z\"}", "it is paused" },
		{ "{\"Status\":\"restarting\",\"Running\":true,\"Restarting\":true,\"Pid\":5}",
		  "it is restarting" },
		{ "{\"Status\":\"exited\",\"Running\":false,\"Pid\":0}", "it is not running (exited)" },
		{ "{\"Running\":false}", "it is not running (no status)" },
		/* wrong types and values: never a pid */
		{ "{\"Status\":\"running\",\"Running\":true,\"Pid\":\"16321\","
		  "\"StartedAt\":\"2024-01-01T00:00:00Z\"}", "the engine reports no valid pid" },
		{ "{\"Status\":\"running\",\"Running\":true,\"Pid\":-1}", "the engine reports no valid pid" },
		{ "{\"Status\":\"running\",\"Running\":true,\"Pid\":99999999999}",
		  "the engine reports no valid pid" },
		{ "{\"Status\":\"running\",\"Running\":true,\"Pid\":16321.5}",
		  "the engine reports no valid pid" },
		{ "{\"Status\":\"running\",\"Running\":\"true\",\"Pid\":1}",
		  "it is not running (running)" },
		{ "{\"Status\":\"running\",\"Running\":true,\"Pid\":16321}",
		  "the engine reports no valid start time" },
		{ "{\"Status\":\"running\",\"Running\":true,\"Pid\":16321,\"StartedAt\":\"yesterday\"}",
		  "the engine reports no valid start time" },
		{ "[1,2,3]", "the engine reports no state" },
		{ "null", "the engine reports no state" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *why = why_not(cases[i].state);

		assert_non_null(why);
		assert_string_equal(why, cases[i].why);
		free(why);
	}
}

static void test_rt_docker_parse_inspect_hostile(void **st)
{
	static const char *const bad[] = {
		"", "{", "[]", "\"x\"", "{\"Id\":5}", "{\"Id\":\"../../etc\"}", "{\"Id\":\"\"}",
		"{\"Name\":\"/web\"}", "{\"Id\":\"a\\u0000b\"}",
		"{\"Id\":\"" ID64 "\",\"Id\":\"" ID64 "\"}", /* duplicate keys */
	};
	struct rt_target t;
	char *image_id, *msg;
	char *big;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse_inspect(bad[i], &t, &image_id, &msg), -1);
		assert_non_null(msg);
		assert_null(image_id);
		free(msg);
		rt_target_free(&t);
	}
	/* a name with a terminal escape, an image ref too long, labels of every type: dropped */
	assert_int_equal(parse_inspect("{\"Id\":\"" ID64 "\",\"Name\":\"/a\\u001b[2Jb\","
				       "\"Image\":\"sha256:../../x\",\"Config\":{\"Labels\":"
				       "{\"a\":1,\"b\":null,\"c\\u0007\":\"x\",\"d\":\"ok\"}}}",
				       &t, &image_id, &msg),
			 0);
	assert_string_equal(t.name, ID64);
	assert_null(image_id);
	assert_string_equal(t.labels[0], "d=ok");
	assert_null(t.labels[1]);
	rt_target_free(&t);
	big = malloc(8192);
	memset(big, 'a', 8191);
	big[8191] = '\0';
	{
		char *json;

		assert_true(asprintf(&json, "{\"Id\":\"" ID64 "\",\"Config\":{\"Image\":\"%s\"}}",
				     big) > 0);
		assert_int_equal(parse_inspect(json, &t, &image_id, &msg), 0);
		assert_null(t.image_ref);
		rt_target_free(&t);
		free(json);
	}
	free(big);
}

static char *image_digest(const char *json, const char *ref)
{
	struct dhi_err *err = NULL;
	char *d = NULL;

	if (rt_docker_parse_image(json, strlen(json), ref, &d, NULL, &err) < 0) {
		dhi_err_clear(&err);
		return strdup("error");
	}
	return d;
}

static char *image_tagged(const char *json, const char *ref)
{
	struct dhi_err *err = NULL;
	char *d = NULL, *t = NULL;

	if (rt_docker_parse_image(json, strlen(json), ref, &d, &t, &err) < 0) {
		dhi_err_clear(&err);
		return strdup("error");
	}
	free(d);
	return t;
}

/* a target started from a digest only: the tag its engine records, for the toolbox rule */
static void test_rt_docker_parse_image_tag(void **st)
{
	char *t;
	char *labels[] = { "a=b", "org.opencontainers.image.version=3.13.7", NULL };
	char *refname[] = { "org.opencontainers.image.version=3.13.7",
			    "org.opencontainers.image.ref.name=3.13-debian12", NULL };
	char *hostile[] = { "org.opencontainers.image.ref.name=other/x:1",
			    "org.opencontainers.image.version=1 2\033[2J", NULL };

	/* the container's repository first */
	t = image_tagged("{\"RepoTags\":[\"other/x:1\",\"reg:5000/dhi/py:3.13\"]}",
			 "reg:5000/dhi/py@sha256:" HEX64);
	assert_string_equal(t, "reg:5000/dhi/py:3.13");
	free(t);
	t = image_tagged("{\"RepoTags\":[\"other/x:1\"]}", "reg:5000/dhi/py@sha256:" HEX64);
	assert_string_equal(t, "other/x:1");
	free(t);
	/* names it did not ask for: no digests, control bytes or bad tags */
	t = image_tagged("{\"RepoTags\":[\"a/b@sha256:" HEX64 "\",\"a/b:1\\u001b[2J\",\"a/b:-x\","
			 "\"reg:5000/b\",7,null]}",
			 "a/b@sha256:" HEX64);
	assert_null(t);
	t = image_tagged("{\"RepoTags\":\"a/b:1\"}", "a/b@sha256:" HEX64);
	assert_null(t);
	/* labels: ref.name first, then version */
	t = rt_image_tag_from_labels("dhi.io/python@sha256:" HEX64, labels);
	assert_string_equal(t, "dhi.io/python:3.13.7");
	free(t);
	t = rt_image_tag_from_labels("dhi.io/python@sha256:" HEX64, refname);
	assert_string_equal(t, "dhi.io/python:3.13-debian12");
	free(t);
	assert_null(rt_image_tag_from_labels("dhi.io/python@sha256:" HEX64, hostile));
	assert_null(rt_image_tag_from_labels("dhi.io/python@sha256:" HEX64, NULL));
	assert_true(rt_ref_has_tag("reg:5000/a:1"));
	assert_false(rt_ref_has_tag("reg:5000/a"));
	assert_false(rt_ref_has_tag("reg:5000/a@sha256:" HEX64));
	assert_true(rt_ref_has_tag("a:1@sha256:" HEX64));
}

static void test_rt_docker_parse_image_digest(void **st)
{
	char *d;

	/* the entry of the container's own repository, not just the first */
	d = image_digest("{\"Id\":\"sha256:" HEX64 "\",\"RepoDigests\":["
			 "\"other/x@sha256:" ID64 "\",\"localhost/app@sha256:" HEX64 "\"]}",
			 "localhost/app:1");
	assert_string_equal(d, "sha256:" HEX64);
	free(d);
	d = image_digest("{\"RepoDigests\":[\"other/x@sha256:" ID64 "\"]}", "localhost/app:1");
	assert_string_equal(d, "sha256:" ID64);
	free(d);
	/* a registry with a port is not a tag */
	d = image_digest("{\"RepoDigests\":[\"reg:5000/app@sha256:" ID64 "\"]}", "reg:5000/app");
	assert_string_equal(d, "sha256:" ID64);
	free(d);
	/* never pushed or pulled: the image id */
	d = image_digest("{\"Id\":\"sha256:" HEX64 "\",\"RepoDigests\":[]}", "app");
	assert_string_equal(d, "sha256:" HEX64);
	free(d);
	/* hostile digests are not digests */
	d = image_digest("{\"Id\":\"sha256:xyz\",\"RepoDigests\":[\"a@sha256:12\",\"a@md5:" HEX64
			 "\",7,null,\"a@sha256:" HEX64 "\\u001b\"]}",
			 "a");
	assert_null(d);
	d = image_digest("[]", "a");
	assert_string_equal(d, "error");
	free(d);
	d = image_digest("{\"RepoDigests\":\"a@sha256:" HEX64 "\"}", NULL);
	assert_null(d);
}

static void test_rt_docker_parse_list_ids(void **st)
{
	const char *json = "[{\"Id\":\"" ID64 "\"},{\"Id\":\"../x\"},{\"Id\":3},7,"
			   "{\"Id\":\"" HEX64 "\"},{\"Id\":\"abc\"}]";
	struct dhi_err *err = NULL;
	char **ids;
	size_t n;

	assert_int_equal(rt_docker_parse_list(json, strlen(json), 100, &ids, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_string_equal(ids[0], ID64);
	assert_string_equal(ids[1], HEX64);
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	/* at most `max` */
	assert_int_equal(rt_docker_parse_list(json, strlen(json), 1, &ids, &n, &err), 0);
	assert_int_equal(n, 1);
	free(ids[0]);
	free(ids);
	assert_int_equal(rt_docker_parse_list("{}", 2, 100, &ids, &n, &err), -1);
	assert_non_null(err);
	dhi_err_clear(&err);
	assert_int_equal(rt_docker_parse_list("[", 1, 100, &ids, &n, &err), -1);
	dhi_err_clear(&err);
}

static void test_rt_docker_parse_host_unix_only(void **st)
{
	struct dhi_err *err = NULL;
	char *path = NULL, long_path[200];

	assert_int_equal(rt_docker_parse_host("DOCKER_HOST", NULL, "/var/run/docker.sock", &path,
					      &err), 0);
	assert_string_equal(path, "/var/run/docker.sock");
	free(path);
	assert_int_equal(rt_docker_parse_host("DOCKER_HOST", "", "/d.sock", &path, &err), 0);
	assert_string_equal(path, "/d.sock");
	free(path);
	assert_int_equal(rt_docker_parse_host("DOCKER_HOST", "unix:///run/podman/podman.sock",
					      "/d", &path, &err), 0);
	assert_string_equal(path, "/run/podman/podman.sock");
	free(path);
	assert_int_equal(rt_docker_parse_host("DOCKER_HOST", "tcp://10.0.0.1:2375", "/d", &path,
					      &err), -1);
	assert_non_null(strstr(err->msg, "tcp:// refused"));
	dhi_err_clear(&err);
	assert_int_equal(rt_docker_parse_host("CONTAINER_HOST", "ssh://core@host/run/podman.sock",
					      "/d", &path, &err), -1);
	assert_non_null(strstr(err->msg, "CONTAINER_HOST"));
	assert_non_null(strstr(err->msg, "ssh:// refused"));
	dhi_err_clear(&err);
	assert_int_equal(rt_docker_parse_host("DOCKER_HOST", "unix://relative.sock", "/d", &path,
					      &err), -1);
	dhi_err_clear(&err);
	assert_int_equal(rt_docker_parse_host("DOCKER_HOST", "/var/run/docker.sock", "/d", &path,
					      &err), -1);
	dhi_err_clear(&err);
	memset(long_path, 'a', sizeof(long_path) - 1);
	long_path[sizeof(long_path) - 1] = '\0';
	memcpy(long_path, "unix:///", 8);
	assert_int_equal(rt_docker_parse_host("DOCKER_HOST", long_path, "/d", &path, &err), -1);
	dhi_err_clear(&err);
}

static int parse_config(const char *json, struct rt_target *t, bool *sandbox, char **manager)
{
	struct dhi_err *err = NULL;
	int r;

	memset(t, 0, sizeof(*t));
	r = rt_oci_parse_config(json, strlen(json), t, sandbox, manager, &err);
	dhi_err_clear(&err);
	return r;
}

static void test_rt_oci_parse_config_cri_annotations(void **st)
{
	struct rt_target t;
	bool sandbox;
	char *manager;

	/* containerd's CRI plugin */
	assert_int_equal(parse_config("{\"ociVersion\":\"1.0.2\",\"annotations\":{"
				      "\"io.kubernetes.cri.container-type\":\"container\","
				      "\"io.kubernetes.cri.sandbox-name\":\"web-7d4f\","
				      "\"io.kubernetes.cri.sandbox-namespace\":\"shop\","
				      "\"io.kubernetes.cri.container-name\":\"web\","
				      "\"io.kubernetes.cri.image-name\":\"docker.io/library/nginx:1.25\"}}",
				      &t, &sandbox, &manager),
			 0);
	assert_false(sandbox);
	assert_null(manager);
	assert_string_equal(t.pod_name, "web-7d4f");
	assert_string_equal(t.pod_namespace, "shop");
	assert_string_equal(t.container_name, "web");
	assert_string_equal(t.image_ref, "docker.io/library/nginx:1.25");
	assert_null(t.image_digest);
	rt_target_free(&t);
	/* CRI-O, ImageRef as repo@digest */
	assert_int_equal(parse_config("{\"annotations\":{\"io.container.manager\":\"cri-o\","
				      "\"io.kubernetes.cri-o.ContainerType\":\"container\","
				      "\"io.kubernetes.pod.name\":\"api-5c6b\","
				      "\"io.kubernetes.pod.namespace\":\"payments\","
				      "\"io.kubernetes.container.name\":\"api\","
				      "\"io.kubernetes.cri-o.ImageName\":\"reg/api:1.4\","
				      "\"io.kubernetes.cri-o.ImageRef\":\"reg/api@sha256:" HEX64 "\"}}",
				      &t, &sandbox, &manager),
			 0);
	assert_string_equal(manager, "cri-o");
	assert_string_equal(t.pod_name, "api-5c6b");
	assert_string_equal(t.container_name, "api");
	assert_string_equal(t.image_digest, "sha256:" HEX64);
	free(manager);
	rt_target_free(&t);
	/* CRI-O, ImageRef as a bare image id; a sandbox */
	assert_int_equal(parse_config("{\"annotations\":{\"io.kubernetes.cri-o.ContainerType\":"
				      "\"sandbox\",\"io.kubernetes.cri-o.ImageRef\":\"" HEX64 "\"}}",
				      &t, &sandbox, NULL),
			 0);
	assert_true(sandbox);
	assert_string_equal(t.image_digest, "sha256:" HEX64);
	rt_target_free(&t);
}

static void test_rt_oci_parse_config_hostile(void **st)
{
	struct rt_target t;
	bool sandbox;

	assert_int_equal(parse_config("{}", &t, &sandbox, NULL), 0);
	assert_null(t.pod_name);
	assert_int_equal(parse_config("{\"annotations\":[1]}", &t, &sandbox, NULL), 0);
	assert_int_equal(parse_config("{\"annotations\":{\"io.kubernetes.pod.name\":7,"
				      "\"io.kubernetes.cri.sandbox-name\":\"a\\nb\","
				      "\"io.kubernetes.cri-o.ImageRef\":\"reg/x@sha256:abc\"}}",
				      &t, &sandbox, NULL),
			 0);
	assert_null(t.pod_name);
	assert_null(t.image_digest);
	assert_int_equal(parse_config("[]", &t, &sandbox, NULL), -1);
	assert_int_equal(parse_config("{\"annotations\":", &t, &sandbox, NULL), -1);
}

static int parse_crio(const char *json, struct rt_target *t, char **bundle)
{
	struct dhi_err *err = NULL;
	int r;

	memset(t, 0, sizeof(*t));
	r = rt_crio_parse_state(json, strlen(json), t, bundle, &err);
	dhi_err_clear(&err);
	return r;
}

static void test_rt_crio_parse_state_fields(void **st)
{
	struct rt_target t;
	char *bundle;

	/* CRI-O 1.2x writes initStartTime as a string, older ones wrote a number */
	assert_int_equal(parse_crio("{\"ociVersion\":\"1.0.2\",\"id\":\"x\",\"status\":\"running\","
				    "\"pid\":77,\"bundle\":\"/run/containers/storage/b\","
				    "\"initPid\":77,\"initStartTime\":\"123456\"}",
				    &t, &bundle),
			 0);
	assert_int_equal(t.pid, 77);
	assert_true(t.start_time == 123456);
	assert_string_equal(bundle, "/run/containers/storage/b");
	assert_null(t.unusable);
	free(bundle);
	rt_target_free(&t);
	assert_int_equal(parse_crio("{\"status\":\"running\",\"pid\":78,\"initStartTime\":42}", &t,
				    &bundle),
			 0);
	assert_int_equal(t.pid, 78);
	assert_true(t.start_time == 42);
	assert_null(bundle);
	rt_target_free(&t);
	assert_int_equal(parse_crio("{\"status\":\"stopped\",\"pid\":0}", &t, &bundle), 0);
	assert_string_equal(t.unusable, "it is not running (stopped)");
	rt_target_free(&t);
	assert_int_equal(parse_crio("{\"status\":\"paused\",\"initPid\":5}", &t, &bundle), 0);
	assert_string_equal(t.unusable, "it is paused");
	rt_target_free(&t);
}

static void test_rt_crio_parse_state_hostile(void **st)
{
	struct rt_target t;
	char *bundle;

	assert_int_equal(parse_crio("{\"pid\":5}", &t, &bundle), -1);	/* no status */
	rt_target_free(&t);
	assert_int_equal(parse_crio("{\"status\":\"running\",\"initPid\":-3,\"pid\":\"x\"}", &t,
				    &bundle),
			 0);
	assert_string_equal(t.unusable, "CRI-O records no valid pid");
	rt_target_free(&t);
	assert_int_equal(parse_crio("{\"status\":\"running\",\"initPid\":5,"
				    "\"initStartTime\":\"12x\",\"bundle\":\"relative/dir\"}",
				    &t, &bundle),
			 0);
	assert_true(t.start_time == 0);
	assert_null(bundle);
	rt_target_free(&t);
	assert_int_equal(parse_crio("{\"status\":\"running\",\"initPid\":5,"
				    "\"initStartTime\":\"99999999999999999999999\"}",
				    &t, &bundle),
			 0);
	assert_true(t.start_time == 0);
	rt_target_free(&t);
}

static void test_rt_runc_parse_state_types(void **st)
{
	struct dhi_err *err = NULL;
	unsigned long long start;
	pid_t pid;
	const char *ok = "{\"init_process_pid\":12,\"init_process_start\":34}";

	assert_int_equal(rt_runc_parse_state(ok, strlen(ok), "init_process_pid",
					     "init_process_start", &pid, &start, &err), 0);
	assert_int_equal(pid, 12);
	assert_true(start == 34);
	static const char *const bad[] = {
		"{\"init_process_pid\":12.0}", "{\"init_process_pid\":\"12\"}",
		"{\"init_process_pid\":0}", "{\"init_process_pid\":4194305}", "{}", "[12]", "",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(rt_runc_parse_state(bad[i], strlen(bad[i]), "init_process_pid",
						     "init_process_start", &pid, &start, &err),
				 -1);
		dhi_err_clear(&err);
	}
}

static void test_rt_parse_pidfile_strict(void **st)
{
	struct dhi_err *err = NULL;
	pid_t pid;

	assert_int_equal(rt_parse_pidfile("123\n", 4, &pid, &err), 0);
	assert_int_equal(pid, 123);
	assert_int_equal(rt_parse_pidfile("4194304", 7, &pid, &err), 0);
	static const char *const bad[] = { "", "\n", "0", "-1", "12a", " 12", "4194305",
					   "99999999999999999999", "1\n2" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(rt_parse_pidfile(bad[i], strlen(bad[i]), &pid, &err), -1);
		dhi_err_clear(&err);
	}
}

static void test_rt_parse_time_rfc3339(void **st)
{
	long long t;

	assert_int_equal(rt_parse_time("1970-01-01T00:00:00Z", &t), 0);
	assert_true(t == 0);
	assert_int_equal(rt_parse_time("2026-11-27T19:38:42.808937455Z", &t), 0);
	assert_true(t == 1795808322LL);
	assert_int_equal(rt_parse_time("2026-11-27T21:38:42+02:00", &t), 0);
	assert_true(t == 1795808322LL);
	assert_int_equal(rt_parse_time("2026-11-27T17:38:42.5-02:00", &t), 0);
	assert_true(t == 1795808322LL);
	static const char *const bad[] = { "", "2026-11-27", "2026-11-27T19:38:42",
					   "2026-13-01T00:00:00Z", "2026-11-27T19:38:42.Z",
					   "2026-11-27T19:38:42Zjunk", "0001-01-01T00:00:00+24:00",
					   "yesterday" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(rt_parse_time(bad[i], &t), -1);
}

/* A stopped container: its overlay2 layers and its process's config, for a session on its files. */
static void test_rt_docker_parse_inspect_stopped(void **st)
{
	static const char json[] =
		"{\"Id\":\"" ID64 "\",\"Name\":\"/web\",\"Path\":\"/bin/sh\","
		"\"Args\":[\"-c\",\"exec /app/run.sh\"],"
		"\"State\":{\"Status\":\"exited\",\"Running\":false,\"Pid\":0,"
		"\"StartedAt\":\"2026-11-27T19:38:42Z\"},"
		"\"GraphDriver\":{\"Name\":\"overlay2\",\"Data\":{"
		"\"LowerDir\":\"/var/lib/docker/overlay2/a/diff:/var/lib/docker/overlay2/b/diff\","
		"\"UpperDir\":\"/var/lib/docker/overlay2/c/diff\","
		"\"WorkDir\":\"/var/lib/docker/overlay2/c/work\"}},"
		"\"Config\":{\"Env\":[\"A=1\",\"=bad\",\"noequals\",\"B=two words\",\"C=\\u001b[2J\",7],"
		"\"User\":\"app:staff\",\"WorkingDir\":\"/srv\"}}";
	struct rt_target t;
	char *image_id, *msg;

	(void)st;
	assert_int_equal(parse_inspect(json, &t, &image_id, &msg), 0);
	assert_true(t.exited);
	assert_non_null(t.unusable);
	assert_non_null(t.fs);
	assert_string_equal(t.fs->upper, "/var/lib/docker/overlay2/c/diff");
	assert_string_equal(t.fs->work, "/var/lib/docker/overlay2/c/work");
	assert_string_equal(t.fs->layers[0], "/var/lib/docker/overlay2/a/diff");
	assert_string_equal(t.fs->layers[1], "/var/lib/docker/overlay2/b/diff");
	assert_null(t.fs->layers[2]);
	assert_non_null(t.proc);
	/* no name-less, '='-less, control-character or non-string entries */
	assert_string_equal(t.proc->env[0], "A=1");
	assert_string_equal(t.proc->env[1], "B=two words");
	assert_null(t.proc->env[2]);
	assert_string_equal(t.proc->user, "app:staff");
	assert_string_equal(t.proc->cwd, "/srv");
	assert_string_equal(t.proc->args[0], "/bin/sh");
	assert_string_equal(t.proc->args[2], "exec /app/run.sh");
	assert_null(t.proc->args[3]);
	rt_target_free(&t);
	free(image_id);
	free(msg);
}

/* A stopped container's volumes and bind mounts: what the holder mounts on its files. */
static void test_rt_docker_parse_inspect_stopped_mounts(void **st)
{
	static const char json[] =
		"{\"Id\":\"" ID64 "\",\"State\":{\"Status\":\"exited\",\"Running\":false},"
		"\"GraphDriver\":{\"Name\":\"overlay2\",\"Data\":{"
		"\"UpperDir\":\"/u\",\"WorkDir\":\"/w\"}},"
		"\"Mounts\":["
		"{\"Type\":\"volume\",\"Source\":\"/var/lib/docker/volumes/v/_data\","
		"\"Destination\":\"/data\",\"RW\":true},"
		"{\"Type\":\"bind\",\"Source\":\"/srv/conf\",\"Destination\":\"/etc/app\","
		"\"RW\":false},"
		"{\"Type\":\"tmpfs\",\"Source\":\"\",\"Destination\":\"/run\",\"RW\":true},"
		"{\"Type\":\"bind\",\"Source\":\"relative\",\"Destination\":\"/r\"},"
		"{\"Type\":\"bind\",\"Source\":\"/s\",\"Destination\":\"/a/../../etc\"},"
		"{\"Type\":\"bind\",\"Source\":\"/s\",\"Destination\":\"/a/./b\"},"
		"{\"Type\":\"bind\",\"Source\":\"/s\",\"Destination\":\"/\"},"
		"{\"Type\":\"bind\",\"Source\":\"/s\\u001b[2J\",\"Destination\":\"/x\"},"
		"{\"Type\":\"bind\",\"Source\":\"/s\",\"Destination\":\"/..x/.y\"},"
		"{\"Type\":7},\"junk\"]}";
	struct rt_target t;
	char *image_id, *msg;

	(void)st;
	assert_int_equal(parse_inspect(json, &t, &image_id, &msg), 0);
	assert_non_null(t.fs);
	assert_int_equal(t.fs->n_mounts, 3);
	assert_string_equal(t.fs->mounts[0].source, "/var/lib/docker/volumes/v/_data");
	assert_string_equal(t.fs->mounts[0].destination, "/data");
	assert_true(t.fs->mounts[0].rw);
	assert_string_equal(t.fs->mounts[1].destination, "/etc/app");
	assert_false(t.fs->mounts[1].rw);
	/* a name that starts with dots is a name */
	assert_string_equal(t.fs->mounts[2].destination, "/..x/.y");
	rt_target_free(&t);
	free(image_id);
	free(msg);
}

/* Layer paths overlayfs would misread, another driver, a relative WorkingDir: no fs, no cwd. */
static void test_rt_docker_parse_inspect_stopped_hostile(void **st)
{
	static const char *const drivers[] = {
		"{\"Name\":\"vfs\",\"Data\":null}",
		"{\"Name\":\"overlay2\",\"Data\":{\"UpperDir\":\"/u\"}}",
		"{\"Name\":\"overlay2\",\"Data\":{\"UpperDir\":\"/u,lowerdir=/\",\"WorkDir\":\"/w\"}}",
		"{\"Name\":\"overlay2\",\"Data\":{\"UpperDir\":\"/u\",\"WorkDir\":\"w\"}}",
		"{\"Name\":\"overlay2\",\"Data\":{\"UpperDir\":\"/u\",\"WorkDir\":\"/w\","
		"\"LowerDir\":\"/a::/b\"}}",
		"{\"Name\":\"overlay2\",\"Data\":{\"UpperDir\":\"/u\",\"WorkDir\":\"/w\","
		"\"LowerDir\":\"/a:relative\"}}",
		"{\"Name\":\"overlay2\",\"Data\":{\"UpperDir\":\"/u\\n\",\"WorkDir\":\"/w\"}}",
		"[]",
	};

	(void)st;
	for (size_t i = 0; i < sizeof(drivers) / sizeof(drivers[0]); i++) {
		char *json = NULL, *image_id, *msg;
		struct rt_target t;

		assert_true(asprintf(&json,
				     "{\"Id\":\"" ID64 "\",\"State\":{\"Status\":\"exited\","
				     "\"Running\":false},\"GraphDriver\":%s,"
				     "\"Path\":\"/app\",\"Args\":[\"\\u001b]0;x\\u0007\"],"
				     "\"Config\":{\"WorkingDir\":\"srv\",\"Env\":\"A=1\"}}",
				     drivers[i]) > 0);
		assert_int_equal(parse_inspect(json, &t, &image_id, &msg), 0);
		assert_true(t.exited);
		assert_null(t.fs);
		assert_null(t.proc);
		rt_target_free(&t);
		free(image_id);
		free(msg);
		free(json);
	}
}

static void test_rt_docker_parse_inspect_too_many_layers(void **st)
{
	char *lower = strdup(""), *json = NULL, *image_id, *msg;
	struct rt_target t;

	(void)st;
	for (int i = 0; i < 129; i++) {
		char *n = NULL;

		assert_true(asprintf(&n, "%s%s/l/%d", lower, i ? ":" : "", i) > 0);
		free(lower);
		lower = n;
	}
	assert_true(asprintf(&json,
			     "{\"Id\":\"" ID64 "\",\"State\":{\"Status\":\"exited\"},"
			     "\"GraphDriver\":{\"Name\":\"overlay2\",\"Data\":{\"UpperDir\":\"/u\","
			     "\"WorkDir\":\"/w\",\"LowerDir\":\"%s\"}}}",
			     lower) > 0);
	assert_int_equal(parse_inspect(json, &t, &image_id, &msg), 0);
	assert_null(t.fs);
	rt_target_free(&t);
	free(image_id);
	free(msg);
	free(json);
	free(lower);
}

static void test_rt_oci_parse_process(void **st)
{
	static const char ok[] = "{\"process\":{\"user\":{\"uid\":1000,\"gid\":100},"
				 "\"env\":[\"PATH=/bin\",\"X=1\"],\"cwd\":\"/work\"}}";
	static const char *const bad[] = {
		"{\"process\":{\"user\":{\"uid\":-1},\"env\":{},\"cwd\":\"work\"}}",
		"{\"process\":{\"user\":{\"uid\":\"0\"},\"cwd\":1}}",
		"{\"process\":[]}",
		"{}",
	};
	struct rt_process *p = NULL;
	struct dhi_err *err = NULL;

	(void)st;
	assert_int_equal(rt_oci_parse_process(ok, strlen(ok), &p, &err), 0);
	assert_non_null(p);
	assert_string_equal(p->user, "1000:100");
	assert_string_equal(p->env[1], "X=1");
	assert_string_equal(p->cwd, "/work");
	rt_process_free(p);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(rt_oci_parse_process(bad[i], strlen(bad[i]), &p, &err), 0);
		assert_null(p);
	}
	assert_int_equal(rt_oci_parse_process("{", 1, &p, &err), -1);
	dhi_err_clear(&err);
	assert_int_equal(rt_image_parse_process("{\"config\":{\"User\":\"65532\"}}", 27, &p, &err),
			 0);
	assert_string_equal(p->user, "65532");
	rt_process_free(p);
}

static void test_rt_runc_parse_files(void **st)
{
	static const char runc[] = "{\"config\":{\"rootfs\":\"/b/rootfs\",\"labels\":"
				   "[\"x=y\",\"bundle=/b\"]}}";
	static const char crun[] = "{\"pid\":1,\"rootfs\":\"/c/rootfs\",\"bundle\":\"/c\"}";
	static const char *const bad[] = {
		"{\"config\":{\"rootfs\":\"rootfs\"}}",
		"{\"config\":{\"labels\":[\"bundle=/b\"]}}",
		"{\"rootfs\":7}",
	};
	struct dhi_err *err = NULL;
	char *rootfs, *bundle;

	(void)st;
	assert_int_equal(rt_runc_parse_files(runc, strlen(runc), &rootfs, &bundle, &err), 0);
	assert_string_equal(rootfs, "/b/rootfs");
	assert_string_equal(bundle, "/b");
	free(rootfs);
	free(bundle);
	assert_int_equal(rt_runc_parse_files(crun, strlen(crun), &rootfs, &bundle, &err), 0);
	assert_string_equal(rootfs, "/c/rootfs");
	assert_string_equal(bundle, "/c");
	free(rootfs);
	free(bundle);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(rt_runc_parse_files(bad[i], strlen(bad[i]), &rootfs, &bundle, &err),
				 -1);
		assert_null(rootfs);
		assert_null(bundle);
		dhi_err_clear(&err);
	}
}

/* ctr 1.6's `ctr images ls` output: a tabwriter header, then a line per image. */
#define CTR_PAD "                                                 "
#define CTR_HDR                                                                       \
	"REF           TYPE" CTR_PAD "DIGEST" CTR_PAD CTR_PAD "SIZE     PLATFORMS   LABELS \n"
#define CTR_LINE(ref, digest) ref " application/vnd.docker.distribution.manifest.v2+json " digest \
			      " 10.6 KiB linux/amd64 -      \n"

static int ctr_images(const char *out, const char *ref, char **digest)
{
	struct dhi_err *err = NULL;
	int r = rt_ctr_parse_images(out, strlen(out), ref, digest, &err);

	assert_true(r < 0 ? err != NULL : err == NULL);
	dhi_err_clear(&err);
	return r;
}

static void test_rt_ctr_parse_images_found(void **st)
{
	char *d;

	(void)st;
	assert_int_equal(ctr_images(CTR_HDR CTR_LINE("localhost/x:1", "sha256:" HEX64),
				    "localhost/x:1", &d), 0);
	assert_string_equal(d, "sha256:" HEX64);
	free(d);
	/* the same line twice (one image under two filters) is one answer */
	assert_int_equal(ctr_images(CTR_HDR CTR_LINE("localhost/x:1", "sha256:" HEX64)
					    CTR_LINE("localhost/x:1", "sha256:" HEX64),
				    "localhost/x:1", &d), 0);
	free(d);
	/* nothing matched: the header alone, no newline at the end */
	assert_int_equal(ctr_images("REF TYPE DIGEST SIZE PLATFORMS LABELS ", "localhost/x:1", &d),
			 1);
	assert_null(d);
}

static void test_rt_ctr_parse_images_other_names(void **st)
{
	char *d;

	(void)st;
	/* lines for images not asked about are passed over: a prefix, a longer name, another */
	assert_int_equal(ctr_images(CTR_HDR CTR_LINE("localhost/x:10", "sha256:" HEX64)
					    CTR_LINE("localhost/x", "sha256:" HEX64)
					    CTR_LINE("localhost/x:1-evil", "sha256:" HEX64),
				    "localhost/x:1", &d), 1);
	assert_null(d);
	/* ... even with a malformed digest: not ours to judge */
	assert_int_equal(ctr_images(CTR_HDR CTR_LINE("other:1", "sha256:zz"), "localhost/x:1", &d),
			 1);
	/* the asked one among others */
	assert_int_equal(ctr_images(CTR_HDR CTR_LINE("other:1", "sha256:" ID64)
					    CTR_LINE("localhost/x:1", "sha256:" HEX64),
				    "localhost/x:1", &d), 0);
	assert_string_equal(d, "sha256:" HEX64);
	free(d);
}

static void test_rt_ctr_parse_images_hostile(void **st)
{
	static const char *const bad[] = {
		"",
		"\n",
		"localhost/x:1 t sha256:" HEX64 "\n",				/* no header */
		"REF TYPE SIZE\nlocalhost/x:1 t 1\n",				/* no DIGEST */
		CTR_HDR CTR_LINE("localhost/x:1", "sha256:" HEX64 "0"), /* too long */
		/* upper case */
		CTR_HDR CTR_LINE("localhost/x:1", "sha256:5E577190E9C21F6C28F68ACE8FC3D550"
						  "E281F05EF6B2440E79285E6D5A0BCB9D"),
		CTR_HDR CTR_LINE("localhost/x:1", "sha512:" HEX64),
		CTR_HDR "localhost/x:1 t\n", /* the line ends early */
		CTR_HDR CTR_LINE("localhost/x:1", "sha256:" HEX64)
			CTR_LINE("localhost/x:1", "sha256:" ID64),		/* two digests */
	};
	char *d;

	(void)st;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(ctr_images(bad[i], "localhost/x:1", &d), -1);
		assert_null(d);
	}
	/* a NUL in the output */
	{
		static const char nul[] = CTR_HDR "localhost/x:1\0 t sha256:" HEX64 "\n";
		struct dhi_err *err = NULL;

		assert_int_equal(
			rt_ctr_parse_images(nul, sizeof(nul) - 1, "localhost/x:1", &d, &err), -1);
		assert_null(d);
		dhi_err_clear(&err);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rt_docker_parse_inspect_running),
		cmocka_unit_test(test_rt_docker_parse_inspect_states),
		cmocka_unit_test(test_rt_docker_parse_inspect_hostile),
		cmocka_unit_test(test_rt_docker_parse_image_digest),
		cmocka_unit_test(test_rt_docker_parse_image_tag),
		cmocka_unit_test(test_rt_docker_parse_list_ids),
		cmocka_unit_test(test_rt_docker_parse_host_unix_only),
		cmocka_unit_test(test_rt_oci_parse_config_cri_annotations),
		cmocka_unit_test(test_rt_oci_parse_config_hostile),
		cmocka_unit_test(test_rt_crio_parse_state_fields),
		cmocka_unit_test(test_rt_crio_parse_state_hostile),
		cmocka_unit_test(test_rt_runc_parse_state_types),
		cmocka_unit_test(test_rt_parse_pidfile_strict),
		cmocka_unit_test(test_rt_parse_time_rfc3339),
		cmocka_unit_test(test_rt_docker_parse_inspect_stopped),
		cmocka_unit_test(test_rt_docker_parse_inspect_stopped_mounts),
		cmocka_unit_test(test_rt_docker_parse_inspect_stopped_hostile),
		cmocka_unit_test(test_rt_docker_parse_inspect_too_many_layers),
		cmocka_unit_test(test_rt_oci_parse_process),
		cmocka_unit_test(test_rt_runc_parse_files),
		cmocka_unit_test(test_rt_ctr_parse_images_found),
		cmocka_unit_test(test_rt_ctr_parse_images_other_names),
		cmocka_unit_test(test_rt_ctr_parse_images_hostile),
	};

	return cmocka_run_group_tests_name("runtime_parse", tests, NULL, NULL);
}

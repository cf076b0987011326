// SPDX-License-Identifier: Apache-2.0
/* test_runtime.c - runc/crun state files are untrusted: parse carefully, refuse clearly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/err.h"
#include "injector/runtime/runtime.h"
#include "tests/unit/testutil.h"

static char root[] = "/tmp/dhi-test-rt-XXXXXX";

/* Our own start time (field 22 of /proc/self/stat): the tests' targets are real processes. */
static unsigned long long my_start(void)
{
	char buf[1024], *p;
	FILE *f = fopen("/proc/self/stat", "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')') + 2;
	for (int field = 3; field < 22; field++)
		p = strchr(p, ' ') + 1;
	return strtoull(p, NULL, 10);
}

/* printf into a fresh string (test helper; aborts on failure). */
static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
	va_list ap;
	char *s;

	va_start(ap, f);
	assert_true(vasprintf(&s, f, ap) >= 0);
	va_end(ap);
	return s;
}

static void state(const char *id, const char *file, const char *json)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", root, id);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/%s/%s", root, id, file);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(json, f);
	fclose(f);
}

static int setup(void **st)
{
	char sock[600];

	if (!mkdtemp(root))
		return -1;
	/* no engine, containerd or CRI-O of the host takes part in these tests */
	snprintf(sock, sizeof(sock), "unix://%s/no.sock", root);
	setenv("DOCKER_HOST", sock, 1);
	setenv("CONTAINER_HOST", sock, 1);
	return 0;
}

static int teardown(void **st)
{
	return testutil_rmtree(root);
}

/* Resolves spec with --runtime-root=root; returns the error message or NULL. */
static char *resolve(const char *spec, struct rt_target *t)
{
	char cd[600], crio[600];
	struct rt_opts o = { .runtime_root = root, .containerd_root = cd, .crio_root = crio };
	struct dhi_err *err = NULL;
	char *msg = NULL;

	snprintf(cd, sizeof(cd), "%s/containerd", root);
	snprintf(crio, sizeof(crio), "%s/crio", root);
	if (rt_resolve(spec, &o, t, &err) < 0) {
		msg = strdup(err->msg);
		dhi_err_clear(&err);
	}
	return msg;
}

static void test_rt_resolve_runc_state(void **st)
{
	struct rt_target t;

	char *js = fmt("{\"id\":\"app\",\"init_process_pid\":%d,\"init_process_start\":%llu,"
		       "\"config\":{}}", (int)getpid(), my_start());

	state("app", "state.json", js);
	free(js);
	assert_null(resolve("runc://app", &t));
	assert_int_equal(t.pid, getpid());
	assert_int_equal(t.start_time, my_start());
	assert_string_equal(t.runtime, "runc");
	assert_string_equal(t.id, "app");
	rt_target_free(&t);
}

static void test_rt_resolve_crun_status(void **st)
{
	struct rt_target t;

	char *js = fmt("{\"pid\":%d,\"process-start-time\":%llu,\"rootfs\":\"/x\"}",
		       (int)getpid(), my_start());

	state("web", "status", js);
	free(js);
	assert_null(resolve("crun://web", &t));
	assert_int_equal(t.pid, getpid());
	assert_int_equal(t.start_time, my_start());
	rt_target_free(&t);
}

static void test_rt_resolve_hostile_state(void **st)
{
	struct rt_target t;
	char *m;

	state("str", "state.json", "{\"init_process_pid\":\"4242\"}");
	assert_non_null(m = resolve("runc://str", &t));	/* a pid must be a number */
	free(m);
	state("neg", "state.json", "{\"init_process_pid\":-1}");
	assert_non_null(m = resolve("runc://neg", &t));
	free(m);
	state("huge", "state.json", "{\"init_process_pid\":99999999999}");
	assert_non_null(m = resolve("runc://huge", &t));
	free(m);
	state("junk", "state.json", "[1,2");
	assert_non_null(m = resolve("runc://junk", &t));
	assert_non_null(strstr(m, "not valid JSON"));
	free(m);
}

static void test_rt_resolve_refuses_bad_ids(void **st)
{
	struct rt_target t;
	char *m;

	assert_non_null(m = resolve("runc://../etc", &t));
	assert_non_null(strstr(m, "invalid runc container id"));
	free(m);
	assert_non_null(m = resolve("runc://..", &t));
	free(m);
	assert_non_null(m = resolve("pid://12abc", &t));
	assert_non_null(strstr(m, "invalid pid"));
	free(m);
	assert_non_null(m = resolve("pid://0", &t));
	free(m);
	assert_non_null(m = resolve("lxc://x", &t));
	assert_non_null(strstr(m, "unknown target"));
	free(m);
}

static void test_rt_resolve_created_not_started(void **st)
{
	struct rt_target t;
	char p[512];
	char *m;

	state("new", "state.json", "{\"init_process_pid\":5}");
	snprintf(p, sizeof(p), "%s/new/exec.fifo", root);
	assert_int_equal(mkfifo(p, 0600), 0);
	assert_non_null(m = resolve("runc://new", &t));
	assert_non_null(strstr(m, "created but not started"));
	free(m);
}

/* A child that sleeps until killed: a second live process for the tests. */
static pid_t sleeper(void)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		pause();
		_exit(0);
	}
	return pid;
}

static void reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static void test_rt_resolve_bare_name(void **st)
{
	struct rt_target t;
	pid_t other = sleeper();
	char *js = fmt("{\"init_process_pid\":%d}", (int)getpid()), *js2 = fmt("{\"pid\":%d}", (int)other);
	char *m;

	/* with one root for both runtimes, "both" is in runc and crun: two processes, ambiguous */
	state("both", "state.json", js);
	state("both", "status", js2);
	assert_non_null(m = resolve("both", &t));
	assert_non_null(strstr(m, "ambiguous: runc://both, crun://both"));
	free(m);
	/* one process seen through two runtimes is one container: the first runtime's record */
	state("same", "state.json", js);
	free(js2);
	js2 = fmt("{\"pid\":%d}", (int)getpid());
	state("same", "status", js2);
	assert_null(m = resolve("same", &t));
	assert_string_equal(t.runtime, "runc");
	assert_int_equal(t.pid, getpid());
	rt_target_free(&t);
	assert_non_null(m = resolve("nosuch", &t));
	assert_non_null(strstr(m, "searched: runc, crun"));
	assert_non_null(strstr(m, "not on this host: docker, podman, containerd, crio"));
	free(m);
	reap(other);
	free(js);
	free(js2);
}

/* Writes `content` to root/<path>, creating the directories on the way. */
static void put(const char *path, const char *content)
{
	char *p = fmt("%s/%s", root, path);
	FILE *f;

	assert_int_equal(testutil_mkparents(p), 0);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
	free(p);
}

static void test_rt_resolve_containerd_task(void **st)
{
	char *pid = fmt("%d\n", (int)getpid());
	char *runc_root = fmt("{\"root\":\"%s/shim-runc\"}", root);
	char *runc_state = fmt("{\"init_process_pid\":%d,\"init_process_start\":%llu}",
			       (int)getpid(), my_start());
	struct rt_target t;
	char *m;

	/* as the v2 shim lays a task out; its runc root named in options.json */
	put("containerd/io.containerd.runtime.v2.task/k8s.io/abc/init.pid", pid);
	put("containerd/io.containerd.runtime.v2.task/k8s.io/abc/options.json", runc_root);
	put("containerd/io.containerd.runtime.v2.task/k8s.io/abc/config.json",
	    "{\"annotations\":{\"io.kubernetes.cri.sandbox-name\":\"web-1\","
	    "\"io.kubernetes.cri.sandbox-namespace\":\"shop\","
	    "\"io.kubernetes.cri.container-name\":\"web\"}}");
	put("shim-runc/k8s.io/abc/state.json", runc_state);
	assert_null(m = resolve("containerd://k8s.io/abc", &t));
	assert_string_equal(t.id, "k8s.io/abc");
	assert_string_equal(t.name, "web");
	assert_string_equal(t.pod_name, "web-1");
	assert_string_equal(t.pod_namespace, "shop");
	assert_int_equal(t.pid, getpid());
	assert_true(t.start_time == my_start());
	rt_target_free(&t);
	/* not in `default`: the one namespace that has it; and by bare id */
	assert_null(m = resolve("containerd://abc", &t));
	assert_string_equal(t.id, "k8s.io/abc");
	rt_target_free(&t);
	assert_null(m = resolve("abc", &t));
	assert_string_equal(t.runtime, "containerd");
	rt_target_free(&t);
	/* the same id in `default` wins, as with ctr */
	put("containerd/io.containerd.runtime.v2.task/default/abc/init.pid", pid);
	assert_null(m = resolve("containerd://abc", &t));
	assert_string_equal(t.id, "default/abc");
	rt_target_free(&t);
	/* a runc state for another pid is not this task's: the start time is not taken from it */
	put("shim-runc/k8s.io/abc/state.json", "{\"init_process_pid\":1,\"init_process_start\":5}");
	assert_null(m = resolve("containerd://k8s.io/abc", &t));
	assert_true(t.start_time == my_start());	/* from /proc, bounded by init.pid's mtime */
	rt_target_free(&t);
	/* hostile files: a pid file that is not a pid, a config that is not JSON */
	put("containerd/io.containerd.runtime.v2.task/default/abc/init.pid", "12 34");
	assert_non_null(m = resolve("containerd://default/abc", &t));
	assert_non_null(strstr(m, "pid file is not a pid"));
	free(m);
	put("containerd/io.containerd.runtime.v2.task/default/abc/config.json", "{\"annotations\"");
	assert_non_null(m = resolve("containerd://default/abc", &t));
	assert_non_null(strstr(m, "config.json is not valid JSON"));
	free(m);
	assert_non_null(m = resolve("containerd://../abc", &t));
	assert_non_null(strstr(m, "invalid containerd target"));
	free(m);
	free(pid);
	free(runc_root);
	free(runc_state);
}

static void test_rt_resolve_pid_states(void **st)
{
	struct rt_target t;
	pid_t gone = sleeper();
	char *spec, *m;

	reap(gone);
	spec = fmt("pid://%d", (int)gone);
	assert_non_null(m = resolve(spec, &t));
	assert_non_null(strstr(m, "has exited"));
	free(m);
	free(spec);
	spec = fmt("pid://%d", (int)getpid());
	assert_null(resolve(spec, &t));
	assert_true(t.start_time == my_start());	/* what the attach re-checks */
	rt_target_free(&t);
	free(spec);
	assert_non_null(m = resolve("pid://+5", &t));
	free(m);
	assert_non_null(m = resolve("pid://", &t));
	free(m);
}

/* How a target is named to the operator: its name, or 12 hex digits of a 64-hex id. */
static void test_rt_target_label(void **st)
{
	static const char hex[] = "a001e63b5d2c4f7e8a9b0c1d2e3f405162738495a6b7c8d9e0f1a2b3c4d5e6f7";
	struct rt_target t = { 0 };
	char *l;

	(void)st;
	t.runtime = "podman";
	t.id = (char *)hex;
	t.name = "web";
	l = rt_target_label(&t);
	assert_string_equal(l, "podman://web");
	free(l);
	t.name = (char *)hex;
	l = rt_target_label(&t);
	assert_string_equal(l, "podman://a001e63b5d2c");
	free(l);
	/* containerd: the name is the ID without its namespace, which the label keeps */
	t.runtime = "containerd";
	t.id = "default/web";
	t.name = "web";
	l = rt_target_label(&t);
	assert_string_equal(l, "containerd://default/web");
	free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rt_resolve_runc_state),
		cmocka_unit_test(test_rt_resolve_crun_status),
		cmocka_unit_test(test_rt_resolve_hostile_state),
		cmocka_unit_test(test_rt_resolve_refuses_bad_ids),
		cmocka_unit_test(test_rt_resolve_created_not_started),
		cmocka_unit_test(test_rt_resolve_bare_name),
		cmocka_unit_test(test_rt_resolve_containerd_task),
		cmocka_unit_test(test_rt_resolve_pid_states),
		cmocka_unit_test(test_rt_target_label),
	};

	return cmocka_run_group_tests_name("runtime", tests, setup, teardown);
}

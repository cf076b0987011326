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
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "injector/runtime/runtime.h"

static char root[] = "/tmp/dhi-test-rt-XXXXXX";

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
	return mkdtemp(root) ? 0 : -1;
}

static int teardown(void **st)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return WEXITSTATUS(system(cmd)) == 0 ? 0 : -1;
}

/* Resolves spec with --runtime-root=root; returns the error message or NULL. */
static char *resolve(const char *spec, struct rt_target *t)
{
	struct rt_opts o = { .runtime_root = root };
	struct dhi_err *err = NULL;
	char *msg = NULL;

	if (rt_resolve(spec, &o, t, &err) < 0) {
		msg = strdup(err->msg);
		dhi_err_clear(&err);
	}
	return msg;
}

static void test_rt_resolve_runc_state(void **st)
{
	struct rt_target t;

	state("app", "state.json", "{\"id\":\"app\",\"init_process_pid\":4242,"
				   "\"init_process_start\":987654,\"config\":{}}");
	assert_null(resolve("runc://app", &t));
	assert_int_equal(t.pid, 4242);
	assert_int_equal(t.start_time, 987654);
	assert_string_equal(t.runtime, "runc");
	assert_string_equal(t.id, "app");
	rt_target_free(&t);
}

static void test_rt_resolve_crun_status(void **st)
{
	struct rt_target t;

	state("web", "status", "{\"pid\":77,\"process-start-time\":12,\"rootfs\":\"/x\"}");
	assert_null(resolve("crun://web", &t));
	assert_int_equal(t.pid, 77);
	assert_int_equal(t.start_time, 12);
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

static void test_rt_resolve_bare_name(void **st)
{
	struct rt_target t;
	char *m;

	/* with one root for both runtimes, "both" is in runc and crun: ambiguous */
	state("both", "state.json", "{\"init_process_pid\":5}");
	state("both", "status", "{\"pid\":5}");
	assert_non_null(m = resolve("both", &t));
	assert_non_null(strstr(m, "ambiguous: runc://both, crun://both"));
	free(m);
	assert_non_null(m = resolve("nosuch", &t));
	assert_non_null(strstr(m, "searched: runc, crun"));
	free(m);
	assert_null(resolve("app", &t));
	assert_string_equal(t.runtime, "runc");
	rt_target_free(&t);
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
	};

	return cmocka_run_group_tests_name("runtime", tests, setup, teardown);
}

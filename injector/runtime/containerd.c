// SPDX-License-Identifier: Apache-2.0
/*
 * containerd.c - containerd://[NS/]ID targets, read from containerd's state
 * directory: every task of the v2 shims has <state>/io.containerd.runtime.v2.task/<ns>/<id>/
 * with init.pid and the OCI config.json (whose CRI annotations name the pod).
 * The process start time comes from the runc state the shim keeps, when there
 * is one. No gRPC: reading files is what works without containerd's client
 * libraries, and costs a millisecond less.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/trust.h"
#include "common/xalloc.h"
#include "injector/runtime/adapter.h"

#define TASK_DIR "io.containerd.runtime.v2.task"
#define DEFAULT_STATE "/run/containerd"
/* where the runc v2 shim keeps runc's state unless its options name another root */
#define SHIM_RUNC_ROOT "/run/containerd/runc"
#define CONFIG_MAX (4u << 20)
#define NAMESPACES_MAX 1024

static const char *state_dir(const struct rt_opts *opts)
{
	return opts && opts->containerd_root ? opts->containerd_root : DEFAULT_STATE;
}

/*
 * <state>/io.containerd.runtime.v2.task as *fd, every directory on the way
 * root's alone (runtime state picks the process dhidebug enters): 0, 1 when
 * absent, -1 on error.
 */
static int open_tasks(const struct rt_opts *opts, int *fd, struct dhi_err **err)
{
	dhi_autofree char *path = xasprintf("%s/%s", state_dir(opts), TASK_DIR);

	return rt_open_state(path, O_RDONLY | O_DIRECTORY, fd, err);
}

/* The runc root of the task: options.json's "root" (or "Root"), else the shim's default. */
static char *runc_root(int taskfd)
{
	dhi_autofree char *buf = NULL;
	struct dhi_err *err = NULL;
	char *root = NULL;
	size_t len;
	json_t *j;

	if (rt_read_state_at(taskfd, "options.json", 64 * 1024, &buf, &len, &err) == 0 &&
	    (j = json_loadb(buf, len, 0, NULL))) {
		root = rt_json_str(j, "root", 1024);
		if (!root)
			root = rt_json_str(j, "Root", 1024);
		json_decref(j);
	}
	dhi_err_clear(&err);
	if (root && root[0] != '/') {
		free(root);
		root = NULL;
	}
	return root ? root : xstrdup(SHIM_RUNC_ROOT);
}

/*
 * The pid's start time from runc's state.json for this task, if runc keeps one
 * and it records the same pid; else the time the shim wrote init.pid, which the
 * process cannot have started after.
 */
static void find_start(int taskfd, const char *ns, const char *id, struct rt_target *t)
{
	dhi_autofree char *root = runc_root(taskfd), *path = NULL, *buf = NULL;
	dhi_autoclose int dir = -1;
	struct dhi_err *err = NULL;
	unsigned long long start = 0;
	struct stat st;
	pid_t pid;
	size_t len;

	path = xasprintf("%s/%s/%s", root, ns, id);
	if (rt_open_state(path, O_PATH | O_DIRECTORY, &dir, &err) == 0 &&
	    rt_read_state_at(dir, "state.json", 8u << 20, &buf, &len, &err) == 0 &&
	    rt_runc_parse_state(buf, len, "init_process_pid", "init_process_start", &pid, &start,
				&err) == 0 &&
	    pid == t->pid && start) {
		t->start_time = start;
		if (faccessat(dir, "exec.fifo", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
			rt_set_unusable(t, "it is created but not started");
		return;
	}
	dhi_err_clear(&err);
	if (fstatat(taskfd, "init.pid", &st, AT_SYMLINK_NOFOLLOW) == 0)
		t->started_by = (long long)st.st_mtim.tv_sec;
}

/* Reads task NS/ID: 0 appended, 1 no such task, -1 error. */
static int read_task(int tasks, const char *state, const char *ns, const char *id,
		     bool skip_sandbox, struct rt_list *out, struct dhi_err **err)
{
	dhi_autofree char *path = xasprintf("%s/%s", ns, id), *buf = NULL;
	dhi_autoclose int fd = -1;
	dhi_autofree char *rootfs = NULL;
	struct rt_process *proc = NULL;
	struct rt_target t = { 0 };
	bool sandbox = false;
	size_t len;
	int r;

	r = trust_openat(tasks, path, O_PATH | O_DIRECTORY, &fd, err);
	if (r != 0)
		return r < 0 ? dhi_err_prefix(err, "containerd task `%s`", path) : 1;
	t.runtime = xstrdup("containerd");
	t.id = xstrdup(path);
	r = rt_read_state_at(fd, "config.json", CONFIG_MAX, &buf, &len, err);
	if (r < 0 || (r == 0 && rt_oci_parse_config(buf, len, &t, &sandbox, NULL, err) < 0)) {
		rt_target_free(&t);
		return dhi_err_prefix(err, "containerd task `%s`", path);
	}
	if (sandbox && skip_sandbox) {
		rt_target_free(&t);
		return 1;
	}
	/* kept for a stopped task: how its process was configured */
	if (r == 0 && rt_oci_parse_process(buf, len, &proc, err) < 0)
		dhi_err_clear(err);
	free(buf);
	buf = NULL;
	r = rt_read_state_at(fd, "init.pid", 64, &buf, &len, err);
	if (r < 0 || (r == 0 && rt_parse_pidfile(buf, len, &t.pid, err) < 0)) {
		rt_process_free(proc);
		rt_target_free(&t);
		return dhi_err_prefix(err, "containerd task `%s`", path);
	}
	if (r == 1) {
		t.state = xstrdup("created");
		rt_set_unusable(&t, "it has no process yet");
	} else {
		t.state = xstrdup("running");
		find_start(fd, ns, id, &t);
		rt_check_process(&t);
		if (t.exited) {
			/* the task is stopped but not deleted: the shim keeps its rootfs mounted */
			free(t.state);
			t.state = xstrdup("stopped");
			rootfs = xasprintf("%s/" TASK_DIR "/%s/rootfs", state, path);
			t.fs = rt_fs_dir(rootfs);
			t.proc = proc;
			proc = NULL;
		}
	}
	rt_process_free(proc);
	t.name = xstrdup(t.container_name ? t.container_name : id);
	rt_list_push(out, &t);
	return 0;
}

/* [NS/]ID */
static bool accepts(const char *spec)
{
	const char *slash = strchr(spec, '/');
	dhi_autofree char *ns = slash ? xstrndup(spec, (size_t)(slash - spec)) : NULL;

	return (!ns || rt_valid_id(ns)) && rt_valid_id(slash ? slash + 1 : spec);
}

static int containerd_probe(const struct rt_opts *opts, struct dhi_err **err)
{
	dhi_autoclose int tasks = -1;
	int r = open_tasks(opts, &tasks, err);

	return r < 0 ? -1 : r == 0;
}

static int containerd_lookup(const char *spec, const struct rt_opts *opts, struct rt_list *out,
			     struct dhi_err **err)
{
	dhi_autoclose int tasks = -1;
	const char *slash = strchr(spec, '/');
	dhi_autofree char *ns = slash ? xstrndup(spec, (size_t)(slash - spec)) : NULL;
	const char *id = slash ? slash + 1 : spec;
	char **all = NULL;
	size_t n;
	int r = 0;

	if (!accepts(spec))
		return dhi_err_set(err, 0, "invalid containerd target `%s` (use [NAMESPACE/]ID)",
				   spec);
	r = open_tasks(opts, &tasks, err);
	if (r != 0)
		return r < 0 ? -1 : 0;
	if (ns)
		return read_task(tasks, state_dir(opts), ns, id, false, out, err) < 0 ? -1 : 0;
	/* as ctr: the namespace `default`; else whichever namespace has it (k8s.io...) */
	r = read_task(tasks, state_dir(opts), "default", id, false, out, err);
	if (r <= 0)
		return r;
	n = rt_subdirs_at(tasks, NULL, NAMESPACES_MAX, &all);
	for (size_t i = 0; i < n && r >= 0; i++)
		if (strcmp(all[i], "default") != 0 &&
		    read_task(tasks, state_dir(opts), all[i], id, false, out, err) < 0)
			r = -1;
	rt_names_free(all, n);
	return r < 0 ? -1 : 0;
}

struct list_arg {
	const char *state;
	struct rt_list *out;
};

/* a task half-created or half-deleted is skipped, not fatal to `ls` */
static void list_one(int tasks, const char *ns, const char *id, void *arg)
{
	const struct list_arg *a = arg;
	struct dhi_err *err = NULL;

	if (read_task(tasks, a->state, ns, id, true, a->out, &err) < 0)
		dhi_err_clear(&err);
}

static int containerd_list(const struct rt_opts *opts, struct rt_list *out, struct dhi_err **err)
{
	dhi_autoclose int tasks = -1;
	struct list_arg a = { state_dir(opts), out };
	int r = open_tasks(opts, &tasks, err);

	if (r != 0)
		return r < 0 ? -1 : 0;

	rt_each_subdir2(tasks, NULL, list_one, &a);
	return 0;
}

const struct rt_adapter rt_containerd_adapter = { "containerd",	    true,	   accepts,
						  containerd_probe, containerd_lookup, containerd_list };

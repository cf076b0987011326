// SPDX-License-Identifier: Apache-2.0
/* runc.c - runc:// and crun:// targets, read from the runtimes' state directories. */
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
#include "common/path.h"

/*
 * The two runtimes differ only in where they keep state and what they call
 * things. Each is also run by higher-level runtimes with a root of their own:
 * podman and CRI-O use the default, Docker /run/docker/runtime-<name>/moby,
 * containerd's shim /run/containerd/<name>/<namespace>.
 */
struct oci_runtime {
	const char *name;
	const char *state_file;
	const char *pid_key;
	const char *start_key;
	const char *roots[3];		/* each holds <id>/<state_file> */
	const char *ns_roots[2];	/* each holds <namespace>/<id>/<state_file> */
};

static const struct oci_runtime runc = {
	"runc",
	"state.json",
	"init_process_pid",
	"init_process_start",
	{ "/run/runc", "/run/docker/runtime-runc/moby", NULL },
	{ "/run/containerd/runc", NULL },
};
static const struct oci_runtime crun = {
	"crun",
	"status",
	"pid",
	"process-start-time",
	{ "/run/crun", "/run/docker/runtime-crun/moby", NULL },
	{ "/run/containerd/crun", NULL },
};

#define STATE_MAX (8u << 20)
#define ROOTS_MAX 256
#define IDS_MAX 65536

int rt_runc_parse_state(const char *buf, size_t len, const char *pid_key, const char *start_key,
			pid_t *pid, unsigned long long *start, struct dhi_err **err)
{
	json_t *state = rt_json_parse(buf, len, "state", err);
	unsigned long long p;

	if (!state)
		return -1;
	if (rt_json_uint(state, pid_key, RT_PID_MAX, &p) < 0 || p == 0) {
		json_decref(state);
		return dhi_err_set(err, 0, "state has no valid `%s`", pid_key);
	}
	*pid = (pid_t)p;
	/* a start time of 0 means "unknown": the checks fall back to the pid alone */
	if (rt_json_uint(state, start_key, ~0ull, start) < 0)
		*start = 0;
	json_decref(state);
	return 0;
}

int rt_runc_parse_files(const char *buf, size_t len, char **rootfs, char **bundle,
			struct dhi_err **err)
{
	json_t *state = rt_json_parse(buf, len, "state", err), *config, *v;
	size_t i;

	*rootfs = *bundle = NULL;
	if (!state)
		return -1;
	config = json_object_get(state, "config");
	*rootfs = rt_json_str(config, "rootfs", 4096);
	json_array_foreach(json_object_get(config, "labels"), i, v) {
		const char *l = json_string_value(v);

		if (i >= RT_LABELS_MAX)
			break;
		if (l && strncmp(l, "bundle=", 7) == 0 && l[7] == '/' && !*bundle &&
		    strlen(l + 7) <= 4096 && strcspn(l + 7, "\n\r\t") == strlen(l + 7))
			*bundle = xstrdup(l + 7);
	}
	/* crun's status file keeps both at the top */
	if (!*rootfs)
		*rootfs = rt_json_str(state, "rootfs", 4096);
	if (!*bundle) {
		*bundle = rt_json_str(state, "bundle", 4096);
		if (*bundle && (*bundle)[0] != '/') {
			free(*bundle);
			*bundle = NULL;
		}
	}
	json_decref(state);
	if (!*rootfs || (*rootfs)[0] != '/') {
		free(*rootfs);
		free(*bundle);
		*rootfs = *bundle = NULL;
		return dhi_err_set(err, 0, "state has no valid `config.rootfs`");
	}
	return 0;
}

/*
 * A container whose process has exited: where its files are (runc's state)
 * and how its process was configured (the bundle's config.json). Best effort:
 * what cannot be read stays unknown, and the container cannot be opened then.
 */
static void read_stopped(const char *buf, size_t len, struct rt_target *t)
{
	dhi_autofree char *rootfs = NULL, *bundle = NULL, *cfg = NULL;
	dhi_autoclose int dir = -1;
	struct dhi_err *err = NULL;
	size_t cfg_len;

	if (rt_runc_parse_files(buf, len, &rootfs, &bundle, &err) < 0) {
		dhi_err_clear(&err);
		return;
	}
	t->fs = rt_fs_dir(rootfs);
	t->fs->no_symlinks = true;
	/*
	 * The bundle may be a user's, who could swap it for a symlink to another
	 * bundle, root's: its config.json (another container's environment) would
	 * become this session's. No symlink may lead there, as for the rootfs.
	 */
	if (bundle) {
		dhi_autoclose int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);

		if (root < 0 || path_open_at(root, bundle, O_PATH | O_DIRECTORY, PATH_F_NO_SYMLINKS,
					     &dir, &err) < 0)
			dir = -1;
		dhi_err_clear(&err);
	}
	if (dir >= 0 && rt_read_file_at(dir, "config.json", STATE_MAX, &cfg, &cfg_len, &err) == 0)
		rt_oci_parse_process(cfg, cfg_len, &t->proc, &err);
	dhi_err_clear(&err);
}

/*
 * The existing roots of `rt`: --runtime-root alone when given, else every
 * known one. A root that is there but not root's alone is an error: its
 * state.json would pick the process dhidebug enters and the files it opens.
 */
static int find_roots(const struct oci_runtime *rt, const struct rt_opts *opts,
		      char *out[ROOTS_MAX], size_t *n, struct dhi_err **err)
{
	const char *only[2] = { opts ? opts->runtime_root : NULL, NULL };
	const char *const *roots = only[0] ? only : rt->roots;

	*n = 0;
	for (int i = 0; roots[i]; i++) {
		dhi_autoclose int fd = -1;
		int r = rt_open_state(roots[i], O_PATH | O_DIRECTORY, &fd, err);

		if (r < 0)
			goto fail;
		if (r == 0)
			out[(*n)++] = xstrdup(roots[i]);
	}
	for (int i = 0; !only[0] && rt->ns_roots[i]; i++) {
		dhi_autoclose int fd = -1;
		char **ns = NULL;
		size_t m;
		int r = rt_open_state(rt->ns_roots[i], O_RDONLY | O_DIRECTORY, &fd, err);

		if (r < 0)
			goto fail;
		m = r == 0 ? rt_subdirs_at(fd, NULL, ROOTS_MAX - *n, &ns) : 0;
		for (size_t j = 0; j < m; j++)
			out[(*n)++] = xasprintf("%s/%s", rt->ns_roots[i], ns[j]);
		rt_names_free(ns, m);
	}
	return 0;
fail:
	while (*n)
		free(out[--*n]);
	return -1;
}

static void free_roots(char *roots[], size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(roots[i]);
}

/* Reads container `id` under `root`: 0 found (appended), 1 not there, -1 error. */
static int read_one(const struct oci_runtime *rt, const char *root, const char *id,
		    struct rt_list *out, struct dhi_err **err)
{
	dhi_autoclose int rootfd = -1, dir = -1;
	dhi_autofree char *buf = NULL;
	struct rt_target t = { 0 };
	size_t len;
	int r;

	/* (the root itself passed find_roots(): only root can have changed it since) */
	rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return errno == ENOENT ? 1 : dhi_err_set(err, errno, "cannot open %s root `%s`",
							  rt->name, root);
	r = trust_openat(rootfd, id, O_PATH | O_DIRECTORY, &dir, err);
	if (r != 0)
		return r < 0 ? dhi_err_prefix(err, "%s state `%s/%s`", rt->name, root, id) : 1;
	r = rt_read_state_at(dir, rt->state_file, STATE_MAX, &buf, &len, err);
	if (r != 0)
		return r < 0 ? dhi_err_prefix(err, "%s state of `%s`", rt->name, id) : 1;
	if (rt_runc_parse_state(buf, len, rt->pid_key, rt->start_key, &t.pid, &t.start_time,
				err) < 0)
		return dhi_err_prefix(err, "%s state of `%s`", rt->name, id);

	t.runtime = xstrdup(rt->name);
	t.id = xstrdup(id);
	t.name = xstrdup(id);
	/* exec.fifo exists from `create` until `start`: the pid is the runtime's, not the app */
	if (faccessat(dir, "exec.fifo", F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		t.state = xstrdup("created");
		rt_set_unusable(&t, "it is created but not started");
	} else {
		t.state = xstrdup("running");
		rt_check_process(&t);
		if (t.exited) {
			free(t.state);
			t.state = xstrdup("stopped");
			read_stopped(buf, len, &t);
		}
	}
	rt_list_push(out, &t);
	return 0;
}

static int lookup(const struct oci_runtime *rt, const char *id, const struct rt_opts *opts,
		  struct rt_list *out, struct dhi_err **err)
{
	char *roots[ROOTS_MAX];
	size_t n, found = 0, before = out->n;
	dhi_autofree char *where = xstrdup("");
	int ret = 0;

	if (!rt_valid_id(id))
		return dhi_err_set(err, 0, "invalid %s container id `%s`", rt->name, id);
	if (find_roots(rt, opts, roots, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int r = read_one(rt, roots[i], id, out, err);

		if (r < 0) {
			ret = -1;
			break;
		}
		if (r == 0) {
			char *w = xasprintf("%s%s%s", where, found ? ", " : "", roots[i]);

			free(where);
			where = w;
			found++;
		}
	}
	free_roots(roots, n);
	/* one id in two roots would print as the same runc://ID twice: say where instead */
	if (ret == 0 && found > 1) {
		while (out->n > before)
			rt_target_free(&out->v[--out->n]);
		ret = dhi_err_set(err, 0,
				  "%s container `%s` is in several roots: %s (pick one with "
				  "--runtime-root)",
				  rt->name, id, where);
	}
	return ret;
}

static int list(const struct oci_runtime *rt, const struct rt_opts *opts, struct rt_list *out,
		struct dhi_err **err)
{
	char *roots[ROOTS_MAX];
	size_t n;
	int ret = 0;

	if (find_roots(rt, opts, roots, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n && ret == 0; i++) {
		dhi_autoclose int fd = open(roots[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		char **ids = NULL;
		size_t m;

		if (fd < 0) {
			if (errno != ENOENT)
				ret = dhi_err_set(err, errno, "cannot open %s root `%s`", rt->name,
						  roots[i]);
			continue;
		}
		m = rt_subdirs_at(fd, NULL, IDS_MAX, &ids);
		/* a half-written or foreign directory is skipped, not fatal to `ls` */
		for (size_t j = 0; j < m; j++)
			if (read_one(rt, roots[i], ids[j], out, err) < 0)
				dhi_err_clear(err);
		rt_names_free(ids, m);
	}
	free_roots(roots, n);
	return ret;
}

static int probe(const struct oci_runtime *rt, const struct rt_opts *opts, struct dhi_err **err)
{
	char *roots[ROOTS_MAX];
	size_t n;

	if (find_roots(rt, opts, roots, &n, err) < 0)
		return -1;
	free_roots(roots, n);
	return n > 0;
}

static int runc_probe(const struct rt_opts *opts, struct dhi_err **err)
{
	return probe(&runc, opts, err);
}

static int crun_probe(const struct rt_opts *opts, struct dhi_err **err)
{
	return probe(&crun, opts, err);
}

static int runc_lookup(const char *id, const struct rt_opts *opts, struct rt_list *out,
		       struct dhi_err **err)
{
	return lookup(&runc, id, opts, out, err);
}

static int crun_lookup(const char *id, const struct rt_opts *opts, struct rt_list *out,
		       struct dhi_err **err)
{
	return lookup(&crun, id, opts, out, err);
}

static int runc_list(const struct rt_opts *opts, struct rt_list *out, struct dhi_err **err)
{
	return list(&runc, opts, out, err);
}

static int crun_list(const struct rt_opts *opts, struct rt_list *out, struct dhi_err **err)
{
	return list(&crun, opts, out, err);
}

const struct rt_adapter rt_runc_adapter = { "runc",	    true,	 rt_valid_id, runc_probe,
					    runc_lookup, runc_list };
const struct rt_adapter rt_crun_adapter = { "crun",	    true,	 rt_valid_id, crun_probe,
					    crun_lookup, crun_list };

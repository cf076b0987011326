// SPDX-License-Identifier: Apache-2.0
/* runc.c - runc:// and crun:// targets, read from the runtime's state directory. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fdio.h"
#include "common/xalloc.h"
#include "injector/runtime/runtime.h"

/* The two runtimes differ only in where they keep state and what they call things. */
struct oci_runtime {
	const char *name;
	const char *default_root;
	const char *state_file;
	const char *pid_key;
	const char *start_key;
};

static const struct oci_runtime runc = { "runc", "/run/runc", "state.json", "init_process_pid",
					 "init_process_start" };
static const struct oci_runtime crun = { "crun", "/run/crun", "status", "pid",
					 "process-start-time" };

#define STATE_MAX (8u << 20)

/* Container ids as runc accepts them; anything else could walk out of the root. */
static int valid_id(const char *id)
{
	size_t n = strlen(id);

	if (n == 0 || n > 1024 || strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = id[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.' || c == '+'))
			return 0;
	}
	return 1;
}

static int json_uint(json_t *o, const char *key, unsigned long long max, unsigned long long *out)
{
	json_t *v = json_object_get(o, key);

	if (json_is_integer(v) && json_integer_value(v) >= 0 &&
	    (unsigned long long)json_integer_value(v) <= max) {
		*out = (unsigned long long)json_integer_value(v);
		return 0;
	}
	return -1;
}

static int lookup(const struct oci_runtime *rt, const char *id, const struct rt_opts *opts,
		  struct rt_target *out, struct dhi_err **err)
{
	const char *root = opts && opts->runtime_root ? opts->runtime_root : rt->default_root;
	dhi_autoclose int rootfd = -1, dir = -1, fd = -1;
	dhi_autofree char *buf = NULL;
	json_error_t jerr;
	json_t *state;
	unsigned long long pid, start;
	size_t len;

	if (!valid_id(id))
		return dhi_err_set(err, 0, "invalid %s container id `%s`", rt->name, id);
	rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return errno == ENOENT ? 1 : dhi_err_set(err, errno, "cannot open %s root `%s`",
							  rt->name, root);
	dir = openat(rootfd, id, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dir < 0)
		return errno == ENOENT ? 1 : dhi_err_set(err, errno, "cannot open %s state of `%s`",
							  rt->name, id);
	fd = openat(dir, rt->state_file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 1 : dhi_err_set(err, errno, "cannot open %s state of `%s`",
							  rt->name, id);
	if (fd_read_file(fd, STATE_MAX, &buf, &len, err) < 0)
		return dhi_err_prefix(err, "%s state of `%s`", rt->name, id);

	/* exec.fifo exists from `create` until `start`: the pid is the runtime's, not the app */
	if (faccessat(dir, "exec.fifo", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return dhi_err_set(err, 0, "container `%s` is created but not started", id);

	state = json_loadb(buf, len, 0, &jerr);
	if (!state || !json_is_object(state)) {
		json_decref(state);
		return dhi_err_set(err, 0, "%s state of `%s` is not valid JSON", rt->name, id);
	}
	if (json_uint(state, rt->pid_key, 1u << 22, &pid) < 0 || pid == 0) {
		json_decref(state);
		return dhi_err_set(err, 0, "%s state of `%s` has no valid `%s`", rt->name, id,
				   rt->pid_key);
	}
	if (json_uint(state, rt->start_key, ~0ull, &start) < 0)
		start = 0;
	json_decref(state);

	out->runtime = xstrdup(rt->name);
	out->id = xstrdup(id);
	out->name = xstrdup(id);
	out->pid = (pid_t)pid;
	out->start_time = start;
	return 0;
}

int rt_runc_lookup(const char *id, const struct rt_opts *opts, struct rt_target *out,
		   struct dhi_err **err)
{
	return lookup(&runc, id, opts, out, err);
}

int rt_crun_lookup(const char *id, const struct rt_opts *opts, struct rt_target *out,
		   struct dhi_err **err)
{
	return lookup(&crun, id, opts, out, err);
}

// SPDX-License-Identifier: Apache-2.0
/*
 * crio.c - crio://ID targets, read from the files CRI-O keeps per container in
 * containers/storage:
 *   <root>/<driver>-containers/<id>/userdata/state.json   CRI-O's ContainerState
 *       (status, pid, initPid, initStartTime, bundle, annotations)
 *   <bundle>/config.json, <bundle>/pidfile                the OCI bundle conmon runs
 * where <root> is the storage root (/var/lib/containers/storage) and <bundle>
 * is usually <runroot>/<driver>-containers/<id>/userdata. Podman shares the
 * storage but keeps no state.json there, and marks its containers
 * io.container.manager=libpod: those are skipped.
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

#define DEFAULT_ROOT "/var/lib/containers/storage"
#define FILE_MAX (4u << 20)
#define DRIVERS_MAX 16

int rt_crio_parse_state(const char *buf, size_t len, struct rt_target *out, char **bundle,
			struct dhi_err **err)
{
	json_t *j = rt_json_parse(buf, len, "state.json", err);
	unsigned long long pid = 0, start = 0;

	*bundle = NULL;
	if (!j)
		return -1;
	out->state = rt_json_str(j, "status", 32);
	if (!out->state) {
		json_decref(j);
		return dhi_err_set(err, 0, "state.json has no valid `status`");
	}
	if (rt_json_uint(j, "initPid", RT_PID_MAX, &pid) < 0 || pid == 0)
		if (rt_json_uint(j, "pid", RT_PID_MAX, &pid) < 0)
			pid = 0;
	if (rt_json_uint_or_str(j, "initStartTime", ~0ull, &start) < 0)
		start = 0;
	out->pid = (pid_t)pid;
	out->start_time = start;
	*bundle = rt_json_str(j, "bundle", 4096);
	if (*bundle && (*bundle)[0] != '/') {
		free(*bundle);
		*bundle = NULL;
	}
	if (strcmp(out->state, "running") == 0) {
		if (pid == 0)
			rt_set_unusable(out, "CRI-O records no valid pid");
	} else if (strcmp(out->state, "paused") == 0) {
		rt_set_unusable(out, "it is paused");
	} else if (strcmp(out->state, "created") == 0) {
		rt_set_unusable(out, "it is created but not started");
	} else {
		rt_set_unusable(out, "it is not running (%s)", out->state);
	}
	json_decref(j);
	return 0;
}

static const char *storage_root(const struct rt_opts *opts)
{
	return opts && opts->crio_root ? opts->crio_root : DEFAULT_ROOT;
}

/* The <driver>-containers directories of the storage root. */
static size_t drivers(int rootfd, char ***out)
{
	return rt_subdirs_at(rootfd, "-containers", DRIVERS_MAX, out);
}

/* The bundle's config.json (annotations) and pidfile (a bound on the start time). */
static int read_bundle(const char *bundle, struct rt_target *t, char **manager, bool *sandbox,
		       struct dhi_err **err)
{
	dhi_autoclose int fd = -1;
	dhi_autofree char *buf = NULL;
	struct stat st;
	size_t len;
	int r = rt_open_state(bundle, O_PATH | O_DIRECTORY, &fd, err);

	if (r != 0)
		return r;
	r = rt_read_state_at(fd, "config.json", FILE_MAX, &buf, &len, err);
	if (r != 0)
		return r;
	if (rt_oci_parse_config(buf, len, t, sandbox, manager, err) < 0)
		return -1;
	if (!t->start_time && fstatat(fd, "pidfile", &st, AT_SYMLINK_NOFOLLOW) == 0)
		t->started_by = (long long)st.st_mtim.tv_sec;
	return 0;
}

/* Reads container `id` of driver dir `drv`: 0 appended, 1 not a CRI-O container, -1 error. */
static int read_container(int rootfd, const char *drv, const char *id, bool skip_sandbox,
			  struct rt_list *out, struct dhi_err **err)
{
	dhi_autofree char *path = xasprintf("%s/%s/userdata", drv, id), *buf = NULL,
			  *bundle = NULL, *manager = NULL;
	dhi_autoclose int fd = -1;
	struct rt_target t = { 0 };
	bool sandbox = false;
	size_t len;
	int r = trust_openat(rootfd, path, O_PATH | O_DIRECTORY, &fd, err);

	if (r != 0)
		return r < 0 ? dhi_err_prefix(err, "CRI-O container `%s`", id) : 1;
	r = rt_read_state_at(fd, "state.json", FILE_MAX, &buf, &len, err);
	if (r != 0)
		return r < 0 ? dhi_err_prefix(err, "CRI-O container `%s`", id) : 1;
	if (rt_crio_parse_state(buf, len, &t, &bundle, err) < 0)
		goto fail;
	r = bundle ? read_bundle(bundle, &t, &manager, &sandbox, err) : 1;
	if (r < 0)
		goto fail;
	/* without the bundle, the annotations runc reported into state.json will do */
	if (r == 1 && rt_oci_parse_config(buf, len, &t, &sandbox, &manager, err) < 0)
		goto fail;
	if ((manager && strcmp(manager, "cri-o") != 0) || (sandbox && skip_sandbox)) {
		rt_target_free(&t);
		return 1;
	}
	t.runtime = xstrdup("crio");
	t.id = xstrdup(id);
	t.name = xstrdup(t.container_name ? t.container_name : id);
	rt_list_push(out, &t);
	return 0;
fail:
	rt_target_free(&t);
	return dhi_err_prefix(err, "CRI-O container `%s`", id);
}

/*
 * Present when the storage holds containers and, for the default storage
 * (which podman shares), when CRI-O has been run here (it creates these).
 */
static int crio_probe(const struct rt_opts *opts, struct dhi_err **err)
{
	dhi_autoclose int fd = -1;
	char **drv = NULL;
	size_t n;
	int r;

	if (!(opts && opts->crio_root) && access("/run/crio", F_OK) != 0 &&
	    access("/var/lib/crio", F_OK) != 0)
		return 0;
	r = rt_open_state(storage_root(opts), O_RDONLY | O_DIRECTORY, &fd, err);
	if (r != 0)
		return r < 0 ? -1 : 0;
	n = drivers(fd, &drv);
	rt_names_free(drv, n);
	return n > 0;
}

static int crio_lookup(const char *id, const struct rt_opts *opts, struct rt_list *out,
		       struct dhi_err **err)
{
	dhi_autoclose int fd = -1;
	char **drv = NULL;
	size_t n;
	int ret = 0;

	if (!rt_valid_id(id))
		return dhi_err_set(err, 0, "invalid CRI-O container id `%s`", id);
	ret = rt_open_state(storage_root(opts), O_RDONLY | O_DIRECTORY, &fd, err);
	if (ret != 0)
		return ret < 0 ? -1 : 0;
	n = drivers(fd, &drv);
	for (size_t i = 0; i < n && ret == 0; i++)
		if (read_container(fd, drv[i], id, false, out, err) < 0)
			ret = -1;
	rt_names_free(drv, n);
	return ret;
}

/* one unreadable container is skipped, not fatal to `ls` */
static void list_one(int rootfd, const char *drv, const char *id, void *out)
{
	struct dhi_err *err = NULL;

	if (read_container(rootfd, drv, id, true, out, &err) < 0)
		dhi_err_clear(&err);
}

static int crio_list(const struct rt_opts *opts, struct rt_list *out, struct dhi_err **err)
{
	dhi_autoclose int fd = -1;
	int r = rt_open_state(storage_root(opts), O_RDONLY | O_DIRECTORY, &fd, err);

	if (r != 0)
		return r < 0 ? -1 : 0;
	rt_each_subdir2(fd, "-containers", list_one, out);
	return 0;
}

const struct rt_adapter rt_crio_adapter = { "crio",	    true,	 rt_valid_id, crio_probe,
					    crio_lookup, crio_list };

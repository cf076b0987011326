// SPDX-License-Identifier: Apache-2.0
/*
 * containerd.c - containerd://[NS/]ID targets, read from containerd's state
 * directory: every task of the v2 shims has <state>/io.containerd.runtime.v2.task/<ns>/<id>/
 * with init.pid and the OCI config.json (whose CRI annotations name the pod).
 * The process start time comes from the runc state the shim keeps, when there
 * is one. No gRPC: reading files is what works without containerd's client
 * libraries, and costs a millisecond less. Its images (which are in its
 * content store, not in files of a known format) are asked for through its
 * own ctr CLI, run as podman's is (podmancli.c).
 */
#include <ctype.h>
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
#include "injector/runtime/podmancli.h"

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

/* --- containerd's images, through ctr (the toolbox cache's local store, issue 16) --- */

#define CTR_SOCK "/run/containerd/containerd.sock"
#define CTR_LS_MAX (64u << 10)	/* a header and a line or two */

/* where containerd's images usually are: its own clients' (ctr, nerdctl), the CRI's, Docker's */
static const char *const image_namespaces[] = { "default", "k8s.io", "moby", NULL };

/* containerd's rule for a namespace: labels of [A-Za-z0-9] joined by one of `._-`, 76 at most */
static bool valid_ns(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 76 || !isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[n - 1]))
		return false;
	for (size_t i = 0; i < n; i++) {
		bool sep = s[i] == '.' || s[i] == '_' || s[i] == '-';

		if (!(isalnum((unsigned char)s[i]) || sep))
			return false;
		if (sep && !isalnum((unsigned char)s[i + 1]))
			return false;	/* (s[n - 1] is not one) */
	}
	return true;
}

char *rt_target_image_ns(const struct rt_target *t)
{
	const char *slash;
	char *ns;

	if (!t || !t->runtime || strcmp(t->runtime, "containerd") != 0 || !t->id ||
	    !(slash = strchr(t->id, '/')))
		return NULL;
	ns = xstrndup(t->id, (size_t)(slash - t->id));
	if (!valid_ns(ns)) {
		free(ns);
		return NULL;
	}
	return ns;
}

static bool valid_sha256(const char *d)
{
	return strlen(d) == 71 && !strncmp(d, "sha256:", 7) &&
	       strspn(d + 7, "0123456789abcdef") == 64;
}

/* The next whitespace-separated word of *p (within a line), or NULL at the line's end. */
static char *word(char **p)
{
	char *s = *p, *w;

	s += strspn(s, " \t");
	if (!*s || *s == '\n')
		return NULL;
	w = s;
	s += strcspn(s, " \t\n");
	if (*s == ' ' || *s == '\t')
		*s++ = '\0';
	else if (*s == '\n')
		*s = '\0';	/* (the caller moves past the line) */
	*p = s;
	return w;
}

int rt_ctr_parse_images(const char *buf, size_t len, const char *ref, char **digest,
			struct dhi_err **err)
{
	dhi_autofree char *copy = xstrndup(buf, len);
	char *line = copy, *next, *w;
	int col = -1;

	*digest = NULL;
	if (strlen(copy) != len)
		return dhi_err_set(err, 0, "ctr images ls printed a NUL byte");
	/* "REF TYPE DIGEST SIZE PLATFORMS LABELS": where DIGEST is */
	next = strchr(line, '\n');
	if (next)
		*next++ = '\0';
	w = word(&line);
	if (!w || strcmp(w, "REF") != 0)
		return dhi_err_set(err, 0, "ctr images ls printed no REF header");
	for (int i = 1; (w = word(&line)) && col < 0; i++)
		if (!strcmp(w, "DIGEST"))
			col = i;
	if (col < 0)
		return dhi_err_set(err, 0, "ctr images ls printed no DIGEST column");
	for (line = next; line && *line; line = next) {
		char *name, *d = NULL;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		name = word(&line);
		/* an image ctr was not asked about is none of ours */
		if (!name || strcmp(name, ref) != 0)
			continue;
		for (int i = 1; i <= col && (d = word(&line)); i++)
			;
		if (!d || !valid_sha256(d)) {
			free(*digest);
			*digest = NULL;
			return dhi_err_set(err, 0, "ctr images ls gives `%s` no valid digest", ref);
		}
		if (*digest && strcmp(*digest, d) != 0) {
			free(*digest);
			*digest = NULL;
			return dhi_err_set(err, 0, "ctr images ls gives `%s` two digests", ref);
		}
		if (!*digest)
			*digest = xstrdup(d);
	}
	return *digest ? 0 : 1;
}

/* containerd's name for a reference, as its clients write it: docker.io/library/, :latest. */
static char *containerd_name(const char *ref)
{
	const char *slash = strchr(ref, '/');
	size_t first = slash ? (size_t)(slash - ref) : 0;
	const char *tag = rt_ref_has_tag(ref) || strchr(ref, '@') ? "" : ":latest";

	if (slash && (memchr(ref, '.', first) || memchr(ref, ':', first) ||
		      (first == 9 && !strncmp(ref, "localhost", 9))))
		return xasprintf("%s%s", ref, tag);
	return xasprintf("docker.io/%s%s%s", slash ? "" : "library/", ref, tag);
}

/*
 * Namespace ns of containerd on `sock`: 0 it has the image by one of `names`
 * (*name which one, *digest its digest), 1 by none, -1 error. One `ctr images
 * ls` with a filter for each name (ctr lists what matches any of them).
 */
static int ctr_find(const char *sock, const char *ns, const char *const *names, const char **name,
		    char **digest, struct dhi_err **err)
{
	dhi_autofree char *f0 = xasprintf("name==\"%s\"", names[0]);
	dhi_autofree char *f1 = names[1] ? xasprintf("name==\"%s\"", names[1]) : NULL;
	const char *ls[] = { "ctr",    "--address", sock, "--namespace", ns,
			     "images", "ls",	    f0,	  f1,		 NULL };
	dhi_autofree char *out = NULL;
	size_t len;
	int r = ctr_cli_run(ls, "ctr images ls", CTR_LS_MAX, &out, &len, -1, err);

	if (r < 0)
		return -1;
	for (int i = 0; names[i]; i++) {
		r = rt_ctr_parse_images(out, len, names[i], digest, err);
		if (r <= 0) {
			*name = names[i];
			return r;
		}
	}
	return 1;
}

int rt_containerd_image_save(const char *ref, const char *ns, char **id, int fd,
			     unsigned long long max, char **from, struct dhi_err **err)
{
	const char *addr = getenv("CONTAINERD_ADDRESS");
	dhi_autofree char *full = containerd_name(ref);
	const char *names[] = { ref, strcmp(full, ref) ? full : NULL, NULL };
	const char *spaces[5] = { NULL };
	dhi_autoclose int sfd = -1, exe = -1;
	size_t n = 0;
	int r;

	/* default first (ctr's and nerdctl's), then the target's own, then the usual ones */
	spaces[n++] = image_namespaces[0];
	if (ns && valid_ns(ns) && strcmp(ns, image_namespaces[0]) != 0)
		spaces[n++] = ns;
	for (int i = 1; image_namespaces[i]; i++)
		if (!ns || strcmp(ns, image_namespaces[i]) != 0)
			spaces[n++] = image_namespaces[i];
	*id = NULL;
	*from = xstrdup("containerd's images");
	if (!addr || !*addr)
		addr = CTR_SOCK;
	/*
	 * ctr is told this socket: root's alone and served by root, as an engine's
	 * (only root can replace what was checked here)
	 */
	r = trust_open(addr, O_PATH, &sfd, err);
	if (r != 0)
		return r < 0 ? dhi_err_prefix(err, "containerd socket `%s`", addr) : 0;
	r = rt_socket_up(addr, err);
	if (r != 0)
		return r < 0 ? -1 : 0;
	r = ctr_cli_open(&exe, err);
	if (r != 0)
		return r < 0 ? -1 : 0;	/* (containerd without its ctr: not asked) */
	for (size_t i = 0; i < n; i++) {
		const char *name = NULL;
		dhi_autofree char *none = NULL;
		size_t len;

		free(*from);
		*from = xasprintf("containerd's images (namespace %s)", spaces[i]);
		r = ctr_find(addr, spaces[i], names, &name, id, err);
		if (r < 0)
			return -1;
		if (r > 0)
			continue;
		if (fd >= 0) {
			const char *ex[] = { "ctr",    "--address", addr, "--namespace", spaces[i],
					     "images", "export",    "-",  name,	      NULL };

			if (ctr_cli_run(ex, "ctr images export", max, &none, &len, fd, err) < 0)
				return -1;
		}
		return 1;
	}
	return 0;
}

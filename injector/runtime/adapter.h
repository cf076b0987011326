/* SPDX-License-Identifier: Apache-2.0 */
/*
 * adapter.h - what a runtime adapter implements, the helpers the adapters
 * share, and the parsers of what runtimes write (each takes a buffer, so unit
 * tests and fuzzers call them directly). Not for callers outside
 * injector/runtime/: they use runtime.h.
 */
#ifndef RT_ADAPTER_H
#define RT_ADAPTER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "injector/runtime/runtime.h"

/*
 * One adapter per TARGET scheme. Absence is not an error: a host without
 * Docker has no docker.sock, and a bare name is then not searched there.
 */
struct rt_adapter {
	const char *scheme;
	bool in_bare;	/* searched for a bare NAME (pid:// is not: a number is not a name) */
	/* Whether `id` can name a container here (a bare search skips the runtime if not). */
	bool (*accepts)(const char *id);
	/* 1: the runtime is on this host, 0: it is not, -1: cannot tell (error) */
	int (*probe)(const struct rt_opts *opts, struct dhi_err **err);
	/*
	 * Appends every container that `id` names (none, one, or several, e.g.
	 * one per containerd namespace). Absence of the runtime itself is an
	 * error here, since the user asked for this runtime by name.
	 */
	int (*lookup)(const char *id, const struct rt_opts *opts, struct rt_list *out,
		      struct dhi_err **err);
	/* Appends every container the runtime runs; NULL when it cannot list. */
	int (*list)(const struct rt_opts *opts, struct rt_list *out, struct dhi_err **err);
};

extern const struct rt_adapter rt_docker_adapter, rt_podman_adapter, rt_containerd_adapter,
	rt_crio_adapter, rt_runc_adapter, rt_crun_adapter, rt_pid_adapter;

/* --- shared helpers (fields.c) --- */

/* Longest string kept from a runtime; longer ones are treated as missing. */
#define RT_STR_MAX 4096
/* Most labels kept per container. */
#define RT_LABELS_MAX 256

/*
 * A copy of string member `key` of object `o`, or NULL when it is missing, not
 * a string, empty, longer than `max` bytes, or holds a control character (it
 * may end up on the operator's terminal).
 */
char *rt_json_str(json_t *o, const char *key, size_t max);

/* Integer member `key` in [0, max] (not a string, not a float). 0 or -1. */
int rt_json_uint(json_t *o, const char *key, unsigned long long max, unsigned long long *out);

/* The same, or a string of decimal digits (CRI-O writes start times as strings). */
int rt_json_uint_or_str(json_t *o, const char *key, unsigned long long max,
			unsigned long long *out);

/* "k=v" strings of a JSON object of strings (labels), NULL-terminated, or NULL. */
char **rt_json_labels(json_t *o);

/* Parses <buf, len> as a JSON object; NULL with err set otherwise. */
json_t *rt_json_parse(const char *buf, size_t len, const char *what, struct dhi_err **err);

/*
 * A runtime-chosen name that is safe as one path component: [A-Za-z0-9_+.-],
 * 1 to 1024 bytes, not "." or "..".
 */
bool rt_valid_id(const char *id);

/*
 * Reads regular file `name` under `dirfd` (no symlink, no FIFO), at most
 * `max` bytes. 0: read; 1: it does not exist; -1: error.
 */
int rt_read_file_at(int dirfd, const char *name, size_t max, char **buf, size_t *len,
		    struct dhi_err **err);

/*
 * Runtime state names the process dhidebug enters and the files it opens: it
 * is believed only when nobody but root can have written it (common/trust.h).
 * rt_open_state() opens `path` (a state directory, a socket) with every
 * directory on the way checked: 0 opened, 1 absent, -1 error or untrusted
 * (the message names what and why). rt_read_state_at() is rt_read_file_at()
 * for a file under such a directory: the directory and the file are checked.
 */
int rt_open_state(const char *path, int flags, int *out, struct dhi_err **err);
int rt_read_state_at(int dirfd, const char *name, size_t max, char **buf, size_t *len,
		     struct dhi_err **err);

/*
 * The subdirectories of `dirfd` whose names are valid ids and, when `suffix` is
 * not NULL, end in it: sorted (output and errors do not depend on readdir's
 * order), at most `max`. Free them with rt_names_free().
 */
size_t rt_subdirs_at(int dirfd, const char *suffix, size_t max, char ***names);
void rt_names_free(char **names, size_t n);

/*
 * Calls fn(dirfd, top, name, arg) for every <top>/<name> below `dirfd`, both
 * levels as rt_subdirs_at() gives them (`suffix` applies to <top>).
 */
void rt_each_subdir2(int dirfd, const char *suffix, void (*fn)(int dirfd, const char *top,
								  const char *name, void *arg),
		     void *arg);

/* Sets t->unusable (printf-style) unless a reason is already recorded. */
void rt_set_unusable(struct rt_target *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Parses an RFC 3339 time ("2024-05-01T10:00:00.123Z", "...+02:00") to epoch seconds. */
int rt_parse_time(const char *s, long long *out);

/* --- the host's view of a process (proc.c) --- */

/*
 * Checks the runtime's pid against /proc: it must exist, not be a zombie, have
 * the recorded start time (or have started no later than t->started_by, and
 * then t->start_time is taken from /proc so the attach re-checks it), and not
 * sit in a frozen cgroup. Failures go to t->unusable; nothing else fails.
 */
void rt_check_process(struct rt_target *t);


/* --- parsers (one per format; each is fuzzed in tests/fuzz/) --- */

/*
 * Docker Engine API, GET /containers/{id}/json (Docker and Podman): fills id,
 * name, pid, state, unusable, image_ref (Config.Image), labels and started_by,
 * and *image_id (the "Image" field, for the digest lookup; may be NULL), proc
 * (Config's Env, User, WorkingDir; Path and Args); for a stopped container
 * also exited and fs (GraphDriver).
 */
int rt_docker_parse_inspect(const char *buf, size_t len, struct rt_target *out, char **image_id,
			    struct dhi_err **err);

/*
 * runc's state.json, for a stopped container: config.rootfs (required) and
 * the bundle directory from the "bundle=" label (NULL when absent).
 */
int rt_runc_parse_files(const char *buf, size_t len, char **rootfs, char **bundle,
			struct dhi_err **err);

/* --- process configs and stopped containers' files (process.c) --- */

/* A Docker/Podman container inspect: Config's Env, User, WorkingDir, and Path + Args. */
struct rt_process *rt_process_from_inspect(json_t *inspect);

/* args, env, user.uid/gid and cwd of an OCI config's `process`; NULL: none set. */
struct rt_process *rt_process_from_oci(json_t *process);

/* The same from a whole OCI config.json (rt_image_parse_process() is in runtime.h). */
int rt_oci_parse_process(const char *buf, size_t len, struct rt_process **out,
			 struct dhi_err **err);

/*
 * A container's files from Docker's GraphDriver (overlay2/overlay: LowerDir,
 * UpperDir, WorkDir); NULL for another driver or anything malformed.
 */
struct rt_fs *rt_fs_from_graphdriver(json_t *gd);

/*
 * Adds the volumes and bind mounts of Docker's `Mounts` (Type "volume" or
 * "bind", Source, Destination, RW) to `fs`; other types (tmpfs, npipe) and
 * entries that are malformed (a path that is not absolute, too long, has a
 * control character, or a destination with a `.` or `..` component) are left
 * out, and at most RT_MOUNTS_MAX are taken.
 */
void rt_fs_add_mounts(struct rt_fs *fs, json_t *mounts);

/*
 * GET /images/{id}/json: the digest of the image the container runs, taken
 * from RepoDigests (the entry whose repository matches `ref`, else the first)
 * or, for an image never pushed or pulled, the image id. With `tagged` (may be
 * NULL), also a tagged reference of the image from RepoTags (the container's
 * repository first, else the first), NULL when it has none.
 */
int rt_docker_parse_image(const char *buf, size_t len, const char *ref, char **digest,
			  char **tagged, struct dhi_err **err);

/*
 * A tagged reference for an image known by `ref` (a digest-only reference)
 * from the image's labels: org.opencontainers.image.ref.name (a reference, or
 * a tag of `ref`'s repository), else org.opencontainers.image.version as a
 * tag. NULL when neither is a valid tag.
 */
char *rt_image_tag_from_labels(const char *ref, char *const *labels);

/* True when the reference `ref` names a tag (a ':' after its last '/', before any '@'). */
bool rt_ref_has_tag(const char *ref);

/* GET /containers/json: the ids, at most `max`. The caller frees each and the array. */
int rt_docker_parse_list(const char *buf, size_t len, size_t max, char ***ids, size_t *n,
			 struct dhi_err **err);

/*
 * DOCKER_HOST / CONTAINER_HOST: unix:///path, or unset/empty for `dflt`.
 * tcp://, ssh:// and the rest are refused: dhidebug joins the container's
 * namespaces, so it must run on its host, and it talks to the engine only
 * over the local socket.
 */
int rt_docker_parse_host(const char *var, const char *value, const char *dflt, char **path,
			 struct dhi_err **err);

/*
 * An OCI runtime config (config.json of a containerd task or a CRI-O bundle):
 * the Kubernetes names and the image from the CRI annotations of containerd
 * (io.kubernetes.cri.*) and CRI-O (io.kubernetes.pod.*, io.kubernetes.cri-o.*).
 * *is_sandbox is set for a pod's sandbox (pause) container, *manager to the
 * io.container.manager annotation (CRI-O: "cri-o", Podman: "libpod"; may be
 * NULL).
 */
int rt_oci_parse_config(const char *buf, size_t len, struct rt_target *out, bool *is_sandbox,
			char **manager, struct dhi_err **err);

/*
 * CRI-O's state.json (ContainerState): status, initPid (else pid),
 * initStartTime (string or number) and bundle (the directory of config.json).
 */
int rt_crio_parse_state(const char *buf, size_t len, struct rt_target *out, char **bundle,
			struct dhi_err **err);

/* runc's state.json or crun's status: the pid and start time members named. */
int rt_runc_parse_state(const char *buf, size_t len, const char *pid_key, const char *start_key,
			pid_t *pid, unsigned long long *start, struct dhi_err **err);

/* A pid file: decimal digits, optionally a newline. */
int rt_parse_pidfile(const char *buf, size_t len, pid_t *pid, struct dhi_err **err);

/*
 * `ctr images ls` (a REF header naming a DIGEST column, then a line per
 * image): *digest is the DIGEST of the line whose REF is `ref`, exactly; lines
 * naming other images are passed over (ctr was asked about one). 0 found, 1
 * not listed, -1 malformed (no header or DIGEST column, a NUL, no valid
 * sha256 digest on ref's line, two digests for it).
 */
int rt_ctr_parse_images(const char *buf, size_t len, const char *ref, char **digest,
			struct dhi_err **err);

/* --- the engines' image stores (rt_local_image_save() in runtime.h) --- */

/*
 * Connects to the unix socket `sock` and checks that root serves it
 * (trust_check_peer()): 0 up, 1 nothing listens there, -1 error.
 */
int rt_socket_up(const char *sock, struct dhi_err **err);

/*
 * Image `ref` in containerd's store (its socket CONTAINERD_ADDRESS, else
 * /run/containerd/containerd.sock, root's and served by root), through ctr:
 * in the namespaces `default`, `ns` (the target's; may be NULL), `k8s.io`
 * and `moby`, by `ref` as written and as containerd names it
 * (docker.io/library/..., :latest). As rt_local_image_save(): *id is the
 * image's digest in containerd (what its OCI archive's index points at),
 * *from (a new string, set on every return) names the store and namespace;
 * with fd >= 0 the OCI archive (`ctr images export`) is written there, at
 * most `max` bytes. 1 there, 0 not (or no containerd, or no ctr), -1 error.
 */
int rt_containerd_image_save(const char *ref, const char *ns, char **id, int fd,
			     unsigned long long max, char **from, struct dhi_err **err);

/* The largest pid Linux allows (PID_MAX_LIMIT). */
#define RT_PID_MAX (1u << 22)

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* runtime.h - turn a TARGET (docker://NAME, containerd://NS/ID, runc://ID, pid://PID, NAME...) into a process. */
#ifndef RT_RUNTIME_H
#define RT_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/err.h"

/*
 * How a container's process is configured (image config, OCI process): what a
 * session on a stopped container's or an image's files starts with.
 */
struct rt_process {
	char **args;	/* what it runs: the engine's Path and Args, OCI process.args; NULL: not known */
	char **env;	/* "NAME=value", NULL-terminated; NULL: none */
	char *user;	/* "UID[:GID]" or "NAME[:GROUP]" as configured; NULL: not set (root) */
	char *cwd;	/* absolute, inside the container; NULL: not set ("/") */
};

/* A volume or bind mount of a container: what its runtime mounts over its root at start. */
struct rt_mount {
	char *source;		/* on the host, absolute */
	char *destination;	/* in the container, absolute, no `.` or `..` component */
	bool rw;		/* mounted read-write in the container */
};

/* Where a container's files are, so that one whose process has exited can still be opened. */
struct rt_fs {
	char **layers;		/* read-only directories, top first, NULL-terminated */
	char *upper, *work;	/* its writable overlay layer and that layer's workdir; NULL:
				 * layers[0] alone is its root (runc's rootfs, a mounted one) */
	bool engine_mount;	/* podman: the engine mounts it (rt_engine_mount()); layers NULL */
	bool no_symlinks;	/* reached through no symlink at all: runc's and crun's paths
				 * come from a bundle its owner (maybe not root) may change */
	struct rt_mount *mounts; /* its volumes and bind mounts (Docker's Mounts); NULL: none */
	size_t n_mounts;	/* at most RT_MOUNTS_MAX */
};
#define RT_MOUNTS_MAX 128

/*
 * What a runtime says about a container. Everything here came from untrusted
 * files or an API server: strings are bounded and free of control characters
 * (see rt_json_str()), numbers range-checked.
 */
struct rt_target {
	char *runtime;			/* "docker", "podman", "containerd", "crio", "runc", "crun", "pid" */
	char *id;			/* what follows runtime:// (containerd: NS/ID), or the pid as text */
	char *name;			/* human name; the id when the runtime has none */
	pid_t pid;			/* the container's init process on the host; 0 = none */
	unsigned long long start_time;	/* its start time in clock ticks; 0 = not known */
	char *image_ref;		/* image reference, NULL when not known */
	char *image_digest;		/* image digest (sha256:...), NULL when not known */
	char *image_tagged;		/* when image_ref has a digest only: the tagged
					 * reference the runtime records for the image
					 * (RepoTags, the image's ref.name/version labels) */
	char *pod_name;			/* Kubernetes pod, namespace and container (CRI */
	char *pod_namespace;		/* annotations); NULL outside Kubernetes */
	char *container_name;
	char **labels;			/* "key=value", NULL-terminated; NULL when none */
	char *state;			/* the runtime's word: running, paused, exited...; NULL = not known */
	char *unusable;			/* why it cannot be debugged; NULL when it can */
	/*
	 * For runtimes that record a pid but not its start time: the wall-clock
	 * second after which the container's process cannot have started (the
	 * pid file's mtime, the API's StartedAt). A process with that pid that
	 * started later is another one that reused the pid. 0 = no bound.
	 */
	long long started_by;
	bool exited;			/* its process has exited (or never started): stopped */
	struct rt_fs *fs;		/* a stopped container's files; NULL when not known */
	struct rt_process *proc;	/* its process's configuration; NULL when not known */
};

struct rt_opts {
	const char *runtime_root;	/* --runtime-root: the runc/crun root; NULL: every known one */
	const char *containerd_root;	/* --containerd-root: containerd's state dir, NULL: /run/containerd */
	const char *crio_root;		/* --crio-root: CRI-O's storage root, NULL: /var/lib/containers/storage */
	bool stopped;			/* a stopped container with known files is an answer */
};

/*
 * Resolves `spec` to the container's init process. A bare name is looked up in
 * every runtime present; one match is used, several or none are an error that
 * lists them (the same process seen through two runtimes, e.g. a podman
 * container in podman's API and in runc's state, is one match). Paused,
 * created-but-not-started and stopped containers, and a pid that has exited or
 * been reused, are refused. On success the caller owns *out and frees it with
 * rt_target_free(); out->start_time is then known, for ns_target_open() to
 * re-check after pinning the process. With opts->stopped, a stopped container
 * whose files the runtime names is returned too: out->exited is then true and
 * out->fs says where its files are (imagetarget.c opens them).
 */
int rt_resolve(const char *spec, const struct rt_opts *opts, struct rt_target *out,
	       struct dhi_err **err);

void rt_target_free(struct rt_target *t);

void rt_process_free(struct rt_process *p);
void rt_fs_free(struct rt_fs *fs);

/* A root that is one directory (runc's rootfs, containerd's mounted rootfs, an image's). */
struct rt_fs *rt_fs_dir(const char *root);

/* Env, User and WorkingDir of an image config blob ({"config": {...}}); *out NULL: none set. */
int rt_image_parse_process(const char *buf, size_t len, struct rt_process **out,
			   struct dhi_err **err);

/*
 * Podman's own mount of a stopped container's files (POST
 * /libpod/containers/{id}/mount): *path is the mounted root. With `mount`
 * false, undoes it (*path unused).
 */
int rt_engine_mount(const struct rt_target *t, bool mount, char **path, struct dhi_err **err);

/*
 * Image `ref` in the host's engines' own stores: the Docker Engine's, then
 * podman's (its API, or its CLI when no service runs), then containerd's
 * (through ctr, in the namespaces default, `hint` when given (the target's,
 * rt_target_image_ns()), k8s.io and moby). *id is the engine's image id,
 * *from (a new string, or NULL) names the store; with fd >= 0 the image is
 * also written there as a docker-archive or an OCI archive (at most `max`
 * bytes). 1 it is there, 0 none has it (or no engine runs), -1 error. A
 * toolbox cache's local store (toolbox/cache.h).
 */
int rt_local_image_save(const char *ref, const char *hint, char **id, int fd,
			unsigned long long max, char **from, struct dhi_err **err);

/*
 * The containerd namespace a target's images are in: NS of a containerd://NS/ID
 * target; NULL for other runtimes. A new string.
 */
char *rt_target_image_ns(const struct rt_target *t);

/* A growable array of targets. */
struct rt_list {
	struct rt_target *v;
	size_t n, cap;
};

/* Appends *t (moving its contents: *t is zeroed) to `l`. */
void rt_list_push(struct rt_list *l, struct rt_target *t);
void rt_list_free(struct rt_list *l);

/*
 * Lists the containers of every runtime present, each once (the first runtime
 * of the table that knows a process wins), with `unusable` filled in. A runtime
 * that fails does not stop the others: its error is appended to *failed (one
 * line per runtime, "docker: <why>"; NULL when all succeeded; the caller frees
 * it). Returns the number of runtimes that failed.
 */
int rt_list_all(const struct rt_opts *opts, struct rt_list *out, char **failed);

/* A process start time (clock ticks since boot, as in rt_target) as epoch seconds; 0 = unknown. */
long long rt_process_started(unsigned long long ticks);

/* "runtime://id" of a target, for messages (the caller frees it). */
char *rt_target_uri(const struct rt_target *t);

/*
 * The target as a person reads it, for the prompt and messages (the caller
 * frees it): "runtime://name" when the runtime has a name for it, else the id,
 * shortened to 12 hex digits when it is a 64-digit one, as docker shows ids.
 * Records and the environment keep rt_target_uri()'s full id.
 */
char *rt_target_label(const struct rt_target *t);

/* The runtimes' schemes, comma-separated, for help and error texts. */
const char *rt_schemes(void);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* runtime.h - turn a TARGET (runc://ID, crun://ID, pid://PID, NAME) into a process. */
#ifndef RT_RUNTIME_H
#define RT_RUNTIME_H

#include <sys/types.h>

#include "common/err.h"

/* What a runtime says about a container; everything here came from untrusted files. */
struct rt_target {
	char *runtime;			/* "runc", "crun", "pid" */
	char *id;			/* container id, or the pid as text */
	char *name;			/* human name; the id when the runtime has none */
	pid_t pid;			/* the container's init process on the host */
	unsigned long long start_time;	/* its start time in clock ticks; 0 = not known */
	char *image_ref;		/* image reference, NULL when not known */
	char *image_digest;		/* image digest, NULL when not known */
};

struct rt_opts {
	const char *runtime_root;	/* --runtime-root, NULL for each runtime's default */
};

/*
 * Resolves `spec` to the container's init process. A bare name is looked up in
 * every runtime; one match is used, several or none are an error that lists
 * them. Paused, created-but-not-started and stopped containers are refused.
 * On success the caller owns *out and frees it with rt_target_free().
 */
int rt_resolve(const char *spec, const struct rt_opts *opts, struct rt_target *out,
	       struct dhi_err **err);

void rt_target_free(struct rt_target *t);

/* One adapter per runtime (runc.c, pid.c): 0 found, 1 not there, -1 error. */
struct rt_adapter {
	const char *scheme;
	int (*lookup)(const char *id, const struct rt_opts *opts, struct rt_target *out,
		      struct dhi_err **err);
};

int rt_runc_lookup(const char *id, const struct rt_opts *opts, struct rt_target *out,
		   struct dhi_err **err);
int rt_crun_lookup(const char *id, const struct rt_opts *opts, struct rt_target *out,
		   struct dhi_err **err);
int rt_pid_lookup(const char *id, const struct rt_opts *opts, struct rt_target *out,
		  struct dhi_err **err);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* cgroup.h - put the session into the target's cgroups (v1, hybrid and v2). */
#ifndef NS_CGROUP_H
#define NS_CGROUP_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/err.h"

/*
 * The target's cgroups, opened on the host side before the session's stage is
 * forked, so that it joins them without a migration that waits. Moving
 * another process into a cgroup (its pid written to cgroup.procs) takes the
 * kernel's global threadgroup lock and waits for an RCU grace period first:
 * 7 to 15 ms here, longer than the rest of an attach. A single-threaded
 * process that writes "0" to a v1 hierarchy's `tasks` moves only itself and
 * takes no such lock; a child that clone3(CLONE_INTO_CGROUP) puts into the v2
 * cgroup is born there. Older kernels (no clone3 or CLONE_INTO_CGROUP) get
 * the v2 migration from the parent instead.
 */
#define CGROUP_MAX_HIER 32

struct cgroup_plan {
	int tasks[CGROUP_MAX_HIER];	/* each v1 hierarchy's `tasks`, open for writing */
	char *v1_name[CGROUP_MAX_HIER];	/* "`/path` of cpu,cpuacct", for errors */
	int nv1;
	int v2;				/* the v2 cgroup's directory (O_PATH), or -1 */
	char *v2_name;
	bool v2_born;			/* the child was born in it */
};

/*
 * Opens every cgroup of the target whose hierarchy is mounted on the host, read
 * from its /proc/<pid>/cgroup (`procfd` is its /proc directory). Refuses a
 * frozen (paused) target: a process that joins a frozen cgroup freezes with it.
 */
int cgroup_plan_open(int procfd, struct cgroup_plan *p, struct dhi_err **err);

/*
 * fork(), with the child born in the plan's v2 cgroup where the kernel can
 * (clone3 with CLONE_INTO_CGROUP, from a process with a single thread, so
 * that nothing of libc's is held in the child); -1 with errno on failure.
 */
pid_t cgroup_plan_fork(struct cgroup_plan *p);

/* In the child, single-threaded: joins each v1 hierarchy ("0" to `tasks`). */
int cgroup_plan_join_self(struct cgroup_plan *p, struct dhi_err **err);

/* In the parent: moves `pid` into the v2 cgroup unless it was born there. */
int cgroup_plan_join_rest(struct cgroup_plan *p, pid_t pid, struct dhi_err **err);

/* Closes what the plan holds; an empty plan (cgroup_plan_init) too. */
void cgroup_plan_init(struct cgroup_plan *p);
void cgroup_plan_close(struct cgroup_plan *p);

/* Decodes the octal escapes (\040 …) of a /proc/<pid>/mountinfo field in place. */
void cgroup_unescape_mountinfo(char *s);

#endif

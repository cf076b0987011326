/* SPDX-License-Identifier: Apache-2.0 */
/* target.h - a target process pinned by pidfd, its namespaces, and joining them in order. */
#ifndef NS_TARGET_H
#define NS_TARGET_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/err.h"

/* The namespaces a session joins, in the order the per-namespace fallback joins them. */
enum ns_kind {
	NS_CGROUP,
	NS_IPC,
	NS_UTS,
	NS_NET,
	NS_PID,
	NS_TIME,
	NS_MNT,
	NS_USER,	/* joined last, on its own: see ns_target_join_user() */
	NS_COUNT,
};

#define NS_BIT(k) (1u << (k))

struct ns_target {
	pid_t pid;
	int pidfd;			/* -1 where pidfd_open is missing (< 5.3) */
	int procfd;			/* /proc/<pid> on the host's verified procfs */
	unsigned long long start_time;	/* field 22 of /proc/<pid>/stat, in clock ticks */
	unsigned int differ;		/* NS_BIT()s of namespaces that are not ours */
	bool used_fallback;		/* per-namespace fds were used instead of the pidfd */
	/*
	 * The user namespace that owns the target's pid namespace (NS_GET_USERNS,
	 * 4.9+): the one a session joins. A process cannot change its pid
	 * namespace, so this is the runtime's, where the target's own user
	 * namespace may be one its container made later.
	 */
	bool has_owner;
	dev_t owner_dev;
	ino_t owner_ino;
};

/* Name of a namespace as in /proc/<pid>/ns ("mnt", "pid", …). */
const char *ns_kind_name(enum ns_kind k);

/*
 * Pins process `pid` with a pidfd and opens its /proc directory on the host's
 * procfs (verified by magic number). When `expect_start` is not 0 it must equal
 * the process's start time, which catches a PID reused since a runtime wrote
 * it down. Fails for a process that does not exist or is a zombie.
 */
int ns_target_open(pid_t pid, unsigned long long expect_start, struct ns_target *t,
		   struct dhi_err **err);

/* Fails when the pinned process has exited since it was opened. */
int ns_target_check_alive(const struct ns_target *t, struct dhi_err **err);

/*
 * Whether the pinned process is the host rather than a container: it shares
 * the host's mount namespace (ours, the kernel's initial one, or that of PID 1
 * when we descend from it), or its root directory is the host's (ours, PID
 * 1's), by device and inode. 1 with *why (static text) saying which, 0 when
 * it is none of them, -1 on error.
 */
int ns_target_is_host(const struct ns_target *t, const char **why, struct dhi_err **err);

/*
 * Whether the pinned process is in the host's pid namespace: the kernel's
 * initial one, or ours when we descend from its PID 1 (see ns_target_is_host()).
 * A session there reaches every host process's /proc/<pid>/root, the host's
 * files, however private its own mount namespace is. 1 with *why (static
 * text), 0 when not, -1 on error.
 */
int ns_target_host_pidns(const struct ns_target *t, const char **why, struct dhi_err **err);

/*
 * Whether one of the target's namespaces belongs to a user namespace made
 * below the one that owns its pid namespace: something its container built
 * for itself (an unprivileged unshare of a user and a mount namespace, say),
 * not the runtime's container. (A namespace of an ancestor's, the host's time
 * namespace say, is one the runtime shared.) 1 with *which naming the
 * namespace, 0 when none is (or the kernel cannot tell, before 4.9), -1 on
 * error.
 */
int ns_target_foreign_owner(const struct ns_target *t, const char **which, struct dhi_err **err);

/*
 * The same for the namespaces we joined (`procself`: our /proc/self): the
 * target may have unshared some between the check and the join. An error
 * naming the namespace when one is the container's own construction.
 */
int ns_target_check_joined(const struct ns_target *t, int procself, struct dhi_err **err);

/* Opens the target's root directory (/proc/<pid>/root) as an O_PATH fd. */
int ns_target_open_root(const struct ns_target *t, int *out, struct dhi_err **err);

/*
 * Joins every namespace in `kinds` (NS_BIT()s, NS_USER excluded) that differs
 * from ours: one setns() on the pidfd (5.8+), or, where that is refused, one
 * setns() per namespace fd in enum order. The pid and time namespaces apply
 * to children only, so the caller forks afterwards.
 */
int ns_target_join(struct ns_target *t, unsigned int kinds, struct dhi_err **err);

/*
 * Joins the user namespace that owns the target's pid namespace when that is
 * not ours (the target's own where the kernel cannot tell, before 4.9): not
 * one the container made for itself, where its root would hold every
 * capability over the session. Called last: once in it, we have no privilege
 * left over the host's mounts and cgroups.
 */
int ns_target_join_user(struct ns_target *t, struct dhi_err **err);

void ns_target_close(struct ns_target *t);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* cgroup.h - put the session into the target's cgroups (v1, hybrid and v2). */
#ifndef NS_CGROUP_H
#define NS_CGROUP_H

#include <sys/types.h>

#include "common/err.h"

/*
 * Moves process `pid` (0: the caller) into every cgroup of the target whose
 * hierarchy is mounted on the host, read from the target's /proc/<pid>/cgroup
 * (`procfd` is its /proc directory). Called on the host side, where the paths
 * are the host's. Refuses a frozen (paused) target first: a process that
 * joins a frozen cgroup freezes with it.
 */
int cgroup_join_target(int procfd, pid_t pid, struct dhi_err **err);

/* Decodes the octal escapes (\040 …) of a /proc/<pid>/mountinfo field in place. */
void cgroup_unescape_mountinfo(char *s);

#endif

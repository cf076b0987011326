/* SPDX-License-Identifier: Apache-2.0 */
/* execaudit.h - every execve/execveat in the session, reported to the supervisor (seccomp notify). */
#ifndef REC_EXECAUDIT_H
#define REC_EXECAUDIT_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/err.h"

/*
 * In the session's first process, as the last filter: execve and execveat (of
 * every ABI the other filters allow) stop until the supervisor answers on the
 * listener fd returned in *listener. The caller hands that fd to the
 * supervisor and closes it.
 */
int execaudit_install(int *listener, struct dhi_err **err);

struct exec_event {
	pid_t pid;		/* in the supervisor's (the host's) pid namespace */
	pid_t ppid;
	char path[4096];
	char **argv;		/* NULL-terminated; freed by execaudit_event_free() */
	bool denied;
	const char *reason;	/* why it was denied */
};

/*
 * Reads one notification from `listener`, fills `ev` (path and argv read from
 * the process's memory through /proc, bounded), calls `decide` (which may set
 * ev->denied and ev->reason), then lets the exec go on or fails it with
 * EACCES. Returns 1 when an event was handled, 0 when the notification was gone
 * already (the process died), -1 when the listener is broken.
 */
int execaudit_handle(int listener, void (*decide)(struct exec_event *ev, void *arg), void *arg,
		     struct exec_event *ev);

void execaudit_event_free(struct exec_event *ev);

#endif

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
	bool path_read;		/* false: the path could not be read (a bad pointer: EFAULT) */
	char **argv;		/* NULL-terminated; freed by execaudit_event_free() */
	char **env;		/* the entries of envp that start with one of `env_prefixes`
				 * of execaudit_handle(), NULL-terminated; freed too */
	bool env_cut;		/* envp could not be read whole (an entry unreadable, too
				 * long, or too many of them): env is not all of them */
	bool at;		/* execveat, with: */
	int dirfd;		/* its dirfd argument, a number in the process (AT_FDCWD:
				 * execve) */
	int flags;		/* its flags (AT_EMPTY_PATH, AT_SYMLINK_NOFOLLOW) */
	int procdir;		/* O_PATH fd of the process's /proc/<pid>, opened before the
				 * notification was checked to be alive (so it is that
				 * process's, not a reused pid's); -1 when it was gone */
	/* set by `decide`: */
	bool denied;		/* fail the exec with EACCES */
	int error;		/* else fail it with this errno (0: let it go on) */
	char reason[600];	/* why it was denied */
	char file[4096];	/* the file it executes, as the session names it ("": none) */
	char applet[64];	/* a multi-call binary's applet ("": none) */
};

/*
 * Reads one notification from `listener`, fills `ev` (path and argv read from
 * the process's memory through /proc, bounded; of envp the entries that start
 * with a string of `env_prefixes`, NULL-terminated, or none when it is NULL,
 * every pointer of it looked at), calls `decide` (which may set
 * ev->denied, ev->error and the rest), then lets the exec go on or fails it
 * (EACCES when denied). Returns 1 when an event was handled, 0 when the
 * notification was gone already (the process died), -1 when the listener is
 * broken. The event holds an fd until execaudit_event_free().
 */
int execaudit_handle(int listener, const char *const *env_prefixes,
		     void (*decide)(struct exec_event *ev, void *arg), void *arg,
		     struct exec_event *ev);

void execaudit_event_free(struct exec_event *ev);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hostuser.h - the host's side of a delegated operator's copy, done with the
 * operator's rights: opens in a helper that runs as them, fds passed back.
 */
#ifndef CP_HOSTUSER_H
#define CP_HOSTUSER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/err.h"

/* Who the host's side is done as. */
struct host_user {
	bool on;		/* delegated, for someone who is not root */
	uid_t uid;
	gid_t gid;
	gid_t *groups;		/* supplementary groups, gid among them */
	size_t ngroups;
	char *name;		/* from the host's /etc/passwd; NULL when it has none */
};

/*
 * The user who ran sudo: SUDO_UID (`uid`, -1: none) and SUDO_GID, else the
 * real uid and gid; supplementary groups from the host's /etc/group (the
 * name from /etc/passwd by uid, never from SUDO_USER). `on` false for root.
 */
int host_user_resolve(long uid, struct host_user *u, struct dhi_err **err);
void host_user_free(struct host_user *u);

/*
 * In a child of ours (single-threaded): becomes the user for good: groups,
 * gid, uid (all three of each), no capabilities, no_new_privs; every fd but
 * 0, 1, 2 and keep[] closed. -1 with errno.
 */
int host_user_become(const struct host_user *u, const int *keep, size_t nkeep);

/*
 * open(2) of `path` by a helper that is the user, the fd passed back
 * (SCM_RIGHTS). -1 with *err; *refused true when the user may not (EACCES,
 * EPERM, EROFS): a delegated refusal.
 */
int host_user_open(const struct host_user *u, const char *path, int flags, mode_t mode, int *fd,
		   bool *refused, struct dhi_err **err);

/* unlink(2) of `path` as the user (a failed copy's manifest); best effort */
void host_user_unlink(const struct host_user *u, const char *path);

/*
 * A helper that is the user and runs fn(arg, ctl) (keeping `keep[]`), its
 * return its exit status. `ctl` (both ends SOCK_SEQPACKET) carries its
 * messages (host_user_say): the parent gets its end and the pid.
 */
int host_user_spawn(const struct host_user *u, int (*fn)(void *arg, int ctl), void *arg,
		    const int *keep, size_t nkeep, pid_t *pid, int *ctl, struct dhi_err **err);

/*
 * A helper's message: kind 'o' (ok, `text` its data), 'e' (failed, `text` why)
 * or 'r' (refused: the user may not). `text` may hold NULs: `len` bytes.
 */
int host_user_say(int ctl, char kind, const char *text, size_t len);

/*
 * The next message: its kind (0: the helper ended without one) and text (a
 * new string, NUL-terminated; *len its length). -1 with *err on a read error.
 */
int host_user_hear(int ctl, char *kind, char **text, size_t *len, struct dhi_err **err);

/* Waits for the helper; its exit status, or 128 + the signal that ended it. */
int host_user_wait(pid_t pid);

#endif

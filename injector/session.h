/* SPDX-License-Identifier: Apache-2.0 */
/* session.h - what a session is made of, and the channels between its processes. */
#ifndef INJ_SESSION_H
#define INJ_SESSION_H

#include <stdbool.h>

#include "common/err.h"
#include "injector/shell/history.h"
#include "injector/policy/policy.h"
#include "injector/record/record.h"
#include "injector/runtime/runtime.h"
#include "nsenter/cgroup.h"
#include "nsenter/target.h"
#include "nsenter/view.h"
#include "toolbox/toolbox.h"

/* Everything the privileged sequence needs, prepared on the host before it forks. */
struct session_spec {
	const struct rt_target *rt;	/* what the runtime said */
	const struct rt_process *config; /* a stopped container's or an image's configured
					  * env and working directory; NULL otherwise */
	bool write;			/* --write: a stopped container's files take the writes */
	const char *net;		/* a stopped container's or an image's network: "none",
					 * "host"; NULL for a running container (its own) */
	struct ns_target target;	/* the pinned process */
	int target_root;		/* O_PATH fd of its root, opened on the host */
	struct toolbox toolbox;
	int toolbox_tree;		/* detached read-only clone of the toolbox */
	int host_devs[VIEW_HOST_DEVS];	/* --no-cgroup: the host's harmless devices (view.h) */
	int init_exe;			/* dhidebug-init in a sealed memfd (injector/init/init.h) */
	int dhish_exe;			/* a sealed copy of dhidebug that runs dhish (-1: a program) */
	enum view_mode view;
	bool same_release;		/* toolbox and target os-release match */
	char release_why[336];		/* when they do not: both releases, for the notice */
	bool join_cgroup;
	struct cgroup_plan *cgroups;	/* the target's cgroups, opened for the stage (NULL: none) */
	bool quiet;
	bool delegated;			/* delegated mode (injector/delegate.h): recorded */
	bool host;			/* the target is the host, by --allow-host: recorded */
	const struct profile *profile;	/* what the session may do */
	const struct policy *policy;	/* where the profile came from (its file is hashed) */
	struct policy_filters filters;	/* built before entering, loaded last */
	struct session_user user;	/* ids and groups, always explicit */
	char *const *argv;		/* `-- PROGRAM ARG…`, NULL for a shell */
	const char *command;		/* `-c LINE`, NULL otherwise */
	const char *term;		/* the operator's TERM, when on a terminal */
	struct history history;		/* dhish's history of this target, on the host */
	char **inputrc;			/* the operator's ~/.inputrc lines */
	/*
	 * Opens the recording (sets rec): called by the supervisor once the stage
	 * is forked, so it overlaps the stage's work; the stage is released only
	 * after it and its fsync. -1: the session must not start. NULL: no recording.
	 */
	int (*record_start)(struct session_spec *s, void *arg, struct dhi_err **err);
	void *record_arg;
	struct recorder *rec;		/* the recording and audit; NULL when not recording */
	bool record_required;		/* a failed write ends the session (fail closed) */
	bool record_input;		/* "i" events, except while the terminal has ECHO off */
	const struct collector *collector;	/* where records are shipped as they are written */
};

/* The fds the supervisor hands to the session; -1 where unused. */
struct session_chan {
	int stdio[3];	/* the session's 0, 1, 2: the pty slave three times, or pipe ends */
	int msg;	/* the session's end of the message socket (SOCK_SEQPACKET): notices,
			 * errors and dhish's lines for the supervisor */
	int lifeline;	/* read end: EOF means the supervisor is gone, end everything */
	int cgsync;	/* read end: one byte once the supervisor has put the stage in the
			 * target's cgroups (it does that while the stage builds the view) */
	int notify;	/* socket: the program passes its exec audit listener here (-1: none) */
};

/*
 * Message kinds on the msg channel: kind byte, text, NUL; one write(2) each,
 * one message of the socket. The supervisor knows each sender's pid
 * (SCM_CREDENTIALS): once dhish has sent SESSION_MSG_SHELL it takes messages
 * from dhish and the stage only.
 */
enum {
	SESSION_MSG_NOTICE = 'N',	/* printed as "dhidebug: <text>" */
	SESSION_MSG_ERROR = 'E',	/* the session failed; printed after the terminal is back */
	SESSION_MSG_LINE = 'L',		/* "cwd\nline": a line dhish is about to run */
	SESSION_MSG_DONE = 'S',		/* "status seconds\nline": a line dhish has run */
	SESSION_MSG_REFUSED = 'R',	/* "pid ppid\npath\nfile\napplet\nreason": the session's first
					 * process refused `-- PROGRAM` before any exec */
	SESSION_MSG_PART = 'P',		/* the start of the line of the next L or S message, in
					 * pieces, when it does not fit in one (session_msg_send_line) */
	SESSION_MSG_SHELL = 'H',	/* "": dhish runs, before it runs anything; from here on
					 * only its pid (and the stage's) may send */
};
#define SESSION_MSG_MAX 4096	/* the longest message the supervisor reads */
#define SESSION_LINE_MAX (1u << 20)	/* the most of one line the supervisor records */

/*
 * Starts the recording: opens `dir`/<id>/ and writes the session.start record
 * (who, where, what, with which toolbox and profile), fsync'ed before anything
 * is entered. `command` is the -c line or the program's argv joined.
 */
int session_record_start(struct session_spec *s, const char *dir, const char *command,
			 char id[40], struct dhi_err **err);

/*
 * Who runs the session, for session.start: uid, loginuid, the delegating
 * user (SUDO_USER, SUDO_UID), host, tty, and whether in delegated mode.
 */
json_t *session_operator_json(bool delegated);

/*
 * A target that is the host rather than a container (its mount namespace or
 * its root, see ns_target_is_host(); a stopped container whose files are the
 * host's root directory) is refused unless `allow_host` (--allow-host, which
 * the policy may forbid and delegated mode allows only where the site says
 * so), and then said unless `quiet`. *is_host tells the session record.
 * A target with a namespace its container made under a user namespace of its
 * own (ns_target_foreign_owner()) is refused, always.
 */
int session_check_host(bool allow_host, bool quiet, const struct ns_target *t,
		       const struct rt_target *rt, bool *is_host, struct dhi_err **err);

/*
 * For a session, whose programs see the target's /proc: a target in the
 * host's pid namespace (ns_target_host_pidns(); `docker run --pid host`, a
 * hostPID pod) is the host too, since /proc/<pid>/root of any host process is
 * the host's root. Refused or said as session_check_host() does. cp, lint and
 * port-forward open the target's files beneath its root with no magic link,
 * and do not ask this.
 */
int session_check_host_pid(bool allow_host, bool quiet, const struct ns_target *t,
			   const struct rt_target *rt, bool *is_host, struct dhi_err **err);

/* Sends one message; never fails loudly (the reader may be gone). */
void session_msg_send(int fd, char kind, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * Sends "<head>\n<line>" as a `kind` message (SESSION_MSG_LINE, _DONE); a
 * line that does not fit goes first in SESSION_MSG_PART pieces, so that the
 * supervisor records all of it (up to SESSION_LINE_MAX), not its first 4 KiB.
 */
void session_msg_send_line(int fd, char kind, const char *head, const char *line);

/* In a forked child: sends `err` as an error message and _exits with its status. */
void session_child_fail(int msgfd, struct dhi_err *err) __attribute__((noreturn));

/*
 * The privileged sequence, in the child the supervisor forks (see
 * docs/design/attach.md): join cgroups and namespaces, build the view, join
 * the user namespace, fork into the target's pid namespace, run the program.
 * Never returns; exits with the program's status, or 125/126/127.
 */
void attach_stage(const struct session_spec *s, const struct session_chan *ch)
	__attribute__((noreturn));

#endif

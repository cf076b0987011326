/* SPDX-License-Identifier: Apache-2.0 */
/* init.h - dhidebug-init, the small program the session's processes run instead of dhidebug. */
#ifndef INJ_INIT_H
#define INJ_INIT_H

#include "common/err.h"

/*
 * Every process of a session that lives in the target's pid namespace, where
 * the container can ptrace it or open its /proc/<pid>/exe, runs dhidebug-init
 * (injector/init/init.c), never dhidebug: a small static program (musl, no
 * library of ours), embedded in dhidebug and executed from a sealed memfd. Its
 * roles, by argv[1] (argv[0] is "dhidebug-init"):
 *
 *   session KEY=VALUE... -- PROGRAM ARG...
 *       Run by the stage's child after it joined the pid and user namespaces
 *       and applied the profile (it is still in the host's pid namespace: the
 *       container cannot see it). It forks the session's init (a subreaper in
 *       the target's pid namespace, which forks the program and then keeps no
 *       capability, with no_new_privs and a seccomp filter of the few calls it
 *       makes) and waits for it. Its environment is the program's.
 *   hold SOCK
 *       The holder of an image:// or stopped-container session: PID 1 of the
 *       session's fresh pid namespace, with nothing privileged left; says "ok"
 *       on SOCK and waits to be killed.
 *
 * Keys of `session` (fds are numbers in the caller, left open across exec):
 */
#define INIT_ROLE_SESSION "session"
#define INIT_ROLE_HOLD "hold"
#define INIT_KEY_STDIO "stdio"	/* "IN,OUT,ERR": the session's 0, 1, 2 */
#define INIT_KEY_TTY "tty"	/* "1": stdio is a terminal, the program takes it */
#define INIT_KEY_MSG "msg"	/* messages to the supervisor (SESSION_MSG_*) */
#define INIT_KEY_NOTIFY "notify" /* socket for the exec audit listener; absent: no audit */
#define INIT_KEY_KEEPER "keeper" /* write end: init's pid (host), as text, then closed */
#define INIT_KEY_ENDED "ended"	/* write end, held by init alone: closed when the program
				 * has exited, so the stage ends what is left */
#define INIT_KEY_EXE "exe"	/* run this fd (execveat AT_EMPTY_PATH) instead of PROGRAM: dhish,
				 * from the sealed copy of dhidebug, which then finds the message
				 * channel open as fd 3, the exec audit's socket as fd 4 (it
				 * installs the audit itself) and INIT_KEY_PASS's fd as fd 6 */
#define INIT_KEY_PASS "pass"	/* with INIT_KEY_EXE: dhish's configuration (injector/handoff.h) */
#define INIT_KEY_PATH "path"	/* the program's resolved path (PROGRAM is its argv[0]) */

/* The supervisor's message for a program that could not be executed: "errno\nname". */
#define INIT_MSG_EXEC_FAILED 'X'

/*
 * dhidebug side: a memfd holding dhidebug-init, sealed against every change,
 * close-on-exec, to execveat(fd, "", …, AT_EMPTY_PATH). Created before the
 * profile applies (which refuses memfd_create).
 */
int init_memfd(struct dhi_err **err);

#endif

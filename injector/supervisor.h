/* SPDX-License-Identifier: Apache-2.0 */
/* supervisor.h - the host side of a session: pty or pipes, relay, signals, exit status. */
#ifndef INJ_SUPERVISOR_H
#define INJ_SUPERVISOR_H

#include "common/err.h"
#include "injector/session.h"

/*
 * Runs a session and returns its exit status: the program's own, 128+N when
 * it or the session was ended by signal N, 125/126/127 for errors (whose
 * message has been printed, once, after the terminal was restored).
 *
 * On a terminal, allocates a pty on the host, puts the operator's terminal in
 * raw mode and relays it (resizes included); otherwise relays stdin, stdout
 * and stderr through pipes. SIGTERM and SIGHUP end the session: the session's
 * init kills every process of it. If the supervisor itself is killed, the
 * stage dies with it (PR_SET_PDEATHSIG) and the session's init sees its
 * lifeline close and does the same.
 */
int supervisor_run(struct session_spec *s, struct dhi_err **err);

#endif

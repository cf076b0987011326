/* SPDX-License-Identifier: Apache-2.0 */
/* attach.h - run `kubectl attach` under a pty of our own and record it on the operator's side. */
#ifndef DHI_KUBE_ATTACH_H
#define DHI_KUBE_ATTACH_H

#include <jansson.h>

#include "common/err.h"

/*
 * Runs argv (kubectl attach …, found on PATH) on a new pty, relays the
 * operator's terminal to it (raw mode and window size when stdin is a
 * terminal) and, when `dir` is not NULL, records what the operator saw in
 * `dir/<id>/` in the format of docs/recording.md: session.cast and a hash-chained
 * audit.jsonl whose session.start is `start` (consumed: target, profile,
 * command, and `operator` fields the caller knows, e.g. `kubernetes`; the
 * session id, the local operator fields and the version are added) and whose
 * session.end carries the exit status. *status gets the program's exit status.
 *
 * SIGINT, SIGTERM, SIGHUP and SIGQUIT are blocked while it runs and taken
 * through a signalfd (one already pending is taken too): the program's process
 * group gets SIGTERM (SIGKILL 5 s later), the recording ends with reason "signal", and
 * *stopped_by is the signal (0 when none came); the caller cleans up and exits
 * 128+signal. The program itself starts with no signal blocked.
 */
int kube_attach_recorded(char *const argv[], const char *dir, json_t *start, int *status,
			 int *stopped_by, struct dhi_err **err);

/*
 * The operator as a recording names them: the local fields (uid, sudo_user,
 * host, tty) and those of `known` (may be NULL: e.g. `kubernetes`, what the
 * API server said), a new object.
 */
json_t *kube_attach_operator(json_t *known);

struct recorder;

/* A new session folder in `dir` (made with its parents, as the attach makes it); *id its id. */
struct recorder *kube_record_open(const char *dir, const char *title, char id[40],
				  struct dhi_err **err);

/* The default sessions folder: /var/lib/dhidebug/sessions for root, else the XDG state dir. */
char *kube_attach_default_dir(void);

#endif

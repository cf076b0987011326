/* SPDX-License-Identifier: Apache-2.0 */
/* handoff.h - dhish's configuration across the exec into the sealed copy of dhidebug. */
#ifndef INJ_HANDOFF_H
#define INJ_HANDOFF_H

#include <stdbool.h>

#include "common/err.h"
#include "injector/shell/shell.h"

/*
 * dhish runs in the target's pid namespace, so it runs from a sealed copy of
 * dhidebug (common/selfexe.h), exec'd by dhidebug-init as
 * `dhish HANDOFF_ARG`, with its configuration in fd HANDOFF_CONFIG_FD, the
 * supervisor's message channel in fd HANDOFF_MSG_FD and, when execs are
 * audited, the socket to hand the audit's listener over in HANDOFF_NOTIFY_FD.
 */
#define HANDOFF_ARG "--dhish-handoff"
#define HANDOFF_MSG_FD 3	/* where dhidebug-init leaves them (injector/init/init.c) */
#define HANDOFF_NOTIFY_FD 4	/* the exec audit's socket, when the session is recorded */
#define HANDOFF_CONFIG_FD 6

/*
 * Writes `cfg` (its hooks aside) to `fd` and rewinds it: a memfd, since the
 * history may be larger than a pipe holds. `audit`: dhish is to install the
 * exec audit and hand it over on HANDOFF_NOTIFY_FD.
 */
int handoff_write(int fd, const struct dhish_config *cfg, bool audit, struct dhi_err **err);

/*
 * The entry point of `dhidebug HANDOFF_ARG`: reads the configuration and runs
 * dhish, whose lines go to the supervisor as SESSION_MSG_LINE/DONE. Refused
 * (125) outside a session: it must already run under no_new_privs and a
 * seccomp filter, which a session's profile always sets and which nobody who
 * could gain privileges by running dhidebug can have set.
 */
int handoff_main(void);

#endif

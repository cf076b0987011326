/* SPDX-License-Identifier: Apache-2.0 */
/* portfwd.h - dhidebug port-forward: host listeners relayed into a target's network namespace. */
#ifndef INJ_PORTFWD_H
#define INJ_PORTFWD_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "nsenter/target.h"

/* One `[LOCAL_ADDR:]LOCAL_PORT:REMOTE_PORT`. */
struct portfwd_spec {
	struct in_addr local_addr;	/* default 127.0.0.1 */
	unsigned short local_port;	/* 0: the kernel picks one (printed) */
	unsigned short remote_port;	/* on 127.0.0.1 inside the target's network namespace */
};

/*
 * Parses `[LOCAL_ADDR:]LOCAL_PORT:REMOTE_PORT` (LOCAL_ADDR an IPv4 address or
 * `localhost`; REMOTE_PORT 1-65535, LOCAL_PORT 0-65535). Bad input is an error
 * naming it.
 */
int portfwd_parse(const char *s, struct portfwd_spec *out, struct dhi_err **err);

/*
 * Listens on every spec's local address and relays each accepted connection
 * to 127.0.0.1:REMOTE_PORT inside the network namespace of the pinned target
 * `t`, until SIGINT or SIGTERM (then returns 0) or the target exits (an
 * error). The sockets inside the namespace are made by a forked helper that
 * joined that namespace only and passes them back over SCM_RIGHTS. Unless
 * `quiet`, prints one "forwarding" line per listener on stderr.
 */
int portfwd_run(struct ns_target *t, const char *name, const struct portfwd_spec *specs,
		size_t n, bool quiet, struct dhi_err **err);

#endif

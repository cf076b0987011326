/* SPDX-License-Identifier: Apache-2.0 */
/*
 * delegate.h - delegated operators (sudo): the site policy is the boundary,
 * and an option may narrow it, never widen it (docs/security.md).
 */
#ifndef INJ_DELEGATE_H
#define INJ_DELEGATE_H

#include <stdbool.h>

#include "common/err.h"
#include "injector/record/sessions.h"
#include "injector/runtime/runtime.h"
#include "injector/policy/policy.h"

struct delegate {
	bool on;		/* delegated mode */
	bool by_sudo;		/* because of sudo (else the site policy's `delegation.always`) */
	const char *user;	/* SUDO_USER; NULL when not set */
	long uid;		/* SUDO_UID; -1 when not set (or not a number) */
};

/*
 * What a subcommand asks of the site: the options that could widen the site
 * policy, as its front (injector/cmd/) parsed them; NULL or false for none.
 */
struct delegate_ask {
	const char *target;		/* the target word (pid:// is checked), or the subcommand */
	const char *command;		/* the program, -c line or arguments, for the refusal record */
	const char *profile;		/* --profile, for the refusal record */
	bool checks_target;		/* attach, port-forward, lint: `target` is entered or read */
	const char *policy, *sessions_dir, *toolbox_cache, *net;
	const struct rt_opts *ro;		/* --runtime-root, --containerd-root, --crio-root */
	const char *toolbox, *default_toolbox;	/* directories a session would take */
	bool no_record, allow_host, no_cgroup, quiet;
	const struct sessions_opts *sessions;	/* the reviewing commands: only these count */
};

/*
 * Delegated mode is on when dhidebug runs as root for someone who is not:
 * under sudo for a user other than root (SUDO_UID, else SUDO_USER), or with a
 * real uid that is not 0; or when the site policy says so
 * (`delegation.always`).
 */
void delegate_detect(const struct policy *site, struct delegate *out);

/*
 * In delegated mode, what the command asks (`ask`) against the site policy (`site`, the
 * one at POLICY_DEFAULT_FILE): an option that would widen it is refused, one
 * line naming the option and the policy key that would allow it. Socket
 * variables (DOCKER_HOST, CONTAINER_HOST, CONTAINERD_ADDRESS) are dropped
 * from the environment unless the site allows them, with a notice unless -q.
 * Nothing to do outside delegated mode.
 */
int delegate_check_ask(const struct delegate *d, const struct policy *site,
		       const struct delegate_ask *ask, struct dhi_err **err);

/*
 * In delegated mode, the session's profile and user: a profile outside the
 * site's `delegation.allowed_profiles`, and a --user that differs from the
 * user a profile sets (observe's nobody cannot signal the application; root
 * or the application's own uid can), are refused.
 */
int delegate_check_session(const struct delegate *d, const struct policy *site,
			   const struct profile *p, const char *user, uid_t uid, gid_t gid,
			   struct dhi_err **err);

/*
 * In delegated mode, records refusal `why` in the site's sessions folder
 * (RECORD_DIR): a session of its own whose session.start names the operator
 * and what was asked for, and whose session.end has status 125 and the reason.
 * Best effort: nothing when that folder cannot be written, or the site
 * policy's `record` is off.
 */
void delegate_record_refusal(const struct delegate *d, const struct policy *site,
			     const struct delegate_ask *ask, const struct dhi_err *why);

#endif

// SPDX-License-Identifier: Apache-2.0
/* delegate.c - delegated mode: every option checked against the site policy before anything runs. */
#include "injector/delegate.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/trust.h"
#include "common/xalloc.h"
#include "injector/record/record.h"
#include "injector/session.h"
#include "injector/toolbox_cmd.h"

#ifndef DHIDEBUG_VERSION
#define DHIDEBUG_VERSION "0.0.0"
#endif

/*
 * What a delegated operator's environment may not choose: the engines dhidebug believes,
 * and the configuration podman's CLI reads (which storage, so which containers, it shows).
 */
static const char *const socket_vars[] = { "DOCKER_HOST", "CONTAINER_HOST", "CONTAINERD_ADDRESS",
					   "CONTAINERS_CONF", "CONTAINERS_STORAGE_CONF",
					   "CONTAINERS_REGISTRIES_CONF", NULL };

void delegate_detect(const struct policy *site, struct delegate *out)
{
	const char *uid = getenv("SUDO_UID"), *user = getenv("SUDO_USER");

	memset(out, 0, sizeof(*out));
	out->uid = -1;
	if (uid && *uid && strspn(uid, "0123456789") == strlen(uid) && strlen(uid) < 11)
		out->uid = strtol(uid, NULL, 10);
	out->user = user && *user ? user : NULL;
	/* SUDO_UID says who ran sudo; SUDO_USER alone is the next best word */
	if (out->uid >= 0)
		out->by_sudo = out->uid != 0;
	else
		out->by_sudo = out->user && strcmp(out->user, "root") != 0;
	/* root's powers for a real uid that is not root's (a setuid install) */
	out->by_sudo |= geteuid() == 0 && getuid() != 0;
	out->on = out->by_sudo || site->delegation.always;
}

/* Sets the refusal of `what` (an option, a target): "<what> is refused in delegated mode (...): <why>". */
static int refuse(const struct delegate *d, struct dhi_err **err, const char *what,
		  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int refuse(const struct delegate *d, struct dhi_err **err, const char *what,
		  const char *fmt, ...)
{
	dhi_autofree char *why = NULL, *who = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&why, fmt, ap) < 0)
		why = NULL;
	va_end(ap);
	if (!d->by_sudo)
		who = xstrdup("the site policy's `delegation.always`");
	else if (d->user)
		who = xasprintf("sudo by `%s`", d->user);
	else
		who = xasprintf("sudo by uid %ld", d->uid);
	return dhi_err_set(err, 0, "%s is refused in delegated mode (%s): %s", what, who,
			   why ? why : "");
}

static bool listed(char *const *list, int n, const char *path)
{
	for (int i = 0; i < n; i++)
		if (strcmp(list[i], path) == 0)
			return true;
	return false;
}

/* A state directory option (--runtime-root…): only one the site lists. */
static int check_root(const struct delegate *d, const struct policy *site, const char *opt,
		      const char *dir, struct dhi_err **err)
{
	if (!dir || listed(site->delegation.roots, site->delegation.n_roots, dir))
		return 0;
	return refuse(d, err, opt, "the site policy does not list `%s` in "
		      "`delegation.runtime_roots`", dir);
}

/* What a target names (ask->target), for the commands that take one. */
static int check_target(const struct delegate *d, const struct policy *site, const char *target,
			struct dhi_err **err)
{
	if (target && strncmp(target, "pid://", 6) == 0 && !site->delegation.pid_targets)
		return refuse(d, err, "a pid:// target", "a pid names any process of the host; the "
			      "site policy does not allow it (`delegation.pid_targets`)");
	return 0;
}

/*
 * A toolbox directory: its files run with the profile's capabilities under the
 * names the audit records, so one the operator can change is refused.
 */
static int check_toolbox_dir(const struct delegate *d, const struct policy *site,
			     const char *opt, const char *dir, struct dhi_err **err)
{
	dhi_autoclose int fd = -1;
	struct dhi_err *why = NULL;
	int r;

	/* any directory of the host would do otherwise (`--toolbox /`: every host file) */
	if (!listed(site->delegation.toolboxes, site->delegation.n_toolboxes, dir))
		return refuse(d, err, opt,
			      "a toolbox directory must be one the site lists in "
			      "`delegation.toolboxes` (`%s` is not); toolboxes otherwise come from "
			      "the cache and the site's rules",
			      dir);
	r = trust_open(dir, O_PATH | O_DIRECTORY, &fd, &why);

	if (r == 0)
		return 0;
	if (r == 1)
		return dhi_err_set_kind(err, ENOENT, "toolbox `%s` does not exist", dir);
	r = refuse(d, err, opt, "a toolbox directory must be root's alone: %s", why->msg);
	dhi_err_clear(&why);
	return r;
}

static int check_sessions(const struct delegate *d, const struct policy *site,
			  const struct sessions_opts *o, struct dhi_err **err)
{
	if (o->dir)
		return refuse(d, err, "--dir", "recordings are read where the site keeps them (%s)",
			      RECORD_DIR);
	/* a file named by the user would be read as root: the copy comes on stdin, opened by the user */
	if (o->against && strcmp(o->against, "-") != 0)
		return refuse(d, err, "--against", "give the copy on stdin (`--against -`), "
			      "not a path dhidebug would read as root");
	if (o->policy && !listed(site->delegation.policies, site->delegation.n_policies, o->policy))
		return refuse(d, err, "--policy", "the site policy does not list `%s` in "
			      "`delegation.policies`", o->policy);
	return 0;
}

int delegate_check_ask(const struct delegate *d, const struct policy *site,
		       const struct delegate_ask *ask, struct dhi_err **err)
{
	const struct policy_delegation *dl = &site->delegation;

	if (!d->on)
		return 0;
	if (ask->sessions)
		return check_sessions(d, site, ask->sessions, err);
	if (ask->policy && !listed(dl->policies, dl->n_policies, ask->policy))
		return refuse(d, err, "--policy", "the site policy does not list `%s` in "
			      "`delegation.policies`", ask->policy);
	if (ask->sessions_dir)
		return refuse(d, err, "--sessions-dir", "sessions are recorded where the site "
			      "keeps them (%s)", RECORD_DIR);
	if (ask->no_record && !dl->no_record)
		return refuse(d, err, "--no-record", "the site policy records delegated sessions "
			      "(`delegation.no_record`)");
	if (ask->allow_host && !dl->allow_host)
		return refuse(d, err, "--allow-host", "the site policy does not allow the host as a "
			      "target (`delegation.allow_host`)");
	if (ask->net && strcmp(ask->net, "host") == 0 && !dl->allow_host)
		return refuse(d, err, "--net host", "the host's network is the host's; the site "
			      "policy does not allow it (`delegation.allow_host`)");
	if (ask->no_cgroup)
		return refuse(d, err, "--no-cgroup", "a delegated session is accounted to the "
			      "container (its limits, its cgroup.kill)");
	if (ask->toolbox_cache)
		return refuse(d, err, "--toolbox-cache", "toolboxes come from the site's verified "
			      "cache");
	if (ask->ro && (check_root(d, site, "--runtime-root", ask->ro->runtime_root, err) < 0 ||
			check_root(d, site, "--containerd-root", ask->ro->containerd_root, err) < 0 ||
			check_root(d, site, "--crio-root", ask->ro->crio_root, err) < 0))
		return -1;
	if (ask->checks_target && check_target(d, site, ask->target, err) < 0)
		return -1;
	/* a directory as toolbox_cmd_choose() takes one, for --toolbox and the default alike */
	if (ask->toolbox && toolbox_cmd_names_dir(ask->toolbox) &&
	    check_toolbox_dir(d, site, "--toolbox", ask->toolbox, err) < 0)
		return -1;
	if (ask->default_toolbox && toolbox_cmd_names_dir(ask->default_toolbox) &&
	    check_toolbox_dir(d, site, "--default-toolbox", ask->default_toolbox, err) < 0)
		return -1;
	for (int i = 0; !dl->socket_env && socket_vars[i]; i++) {
		if (!getenv(socket_vars[i]))
			continue;
		unsetenv(socket_vars[i]);
		if (!ask->quiet)
			fprintf(stderr, "dhidebug: %s ignored in delegated mode (the site policy "
				"does not allow socket variables: `delegation.socket_env`)\n",
				socket_vars[i]);
	}
	return 0;
}

int delegate_check_session(const struct delegate *d, const struct policy *site,
			   const struct profile *p, const char *user, uid_t uid, gid_t gid,
			   struct dhi_err **err)
{
	const struct policy_delegation *dl = &site->delegation;
	bool ok = dl->n_profiles < 0;

	if (!d->on)
		return 0;
	for (int i = 0; !ok && i < dl->n_profiles; i++)
		ok = strcmp(dl->profiles[i], p->name) == 0;
	if (!ok) {
		dhi_autofree char *what = xasprintf("profile `%s`", p->name);
		dhi_autofree char *names = xstrdup("");

		for (int i = 0; i < dl->n_profiles; i++) {
			char *n = xasprintf("%s%s%s", names, i ? ", " : "", dl->profiles[i]);

			free(names);
			names = n;
		}
		return refuse(d, err, what, "the site policy allows %s (`delegation.allowed_profiles`)",
			      *names ? names : "none");
	}
	if (user && p->has_user && (strcmp(user, "target") == 0 || uid != p->uid ||
					 gid != p->gid))
		return refuse(d, err, "--user", "profile `%s` runs as %u:%u", p->name,
			      (unsigned)p->uid, (unsigned)p->gid);
	return 0;
}

void delegate_record_refusal(const struct delegate *d, const struct policy *site,
			     const struct delegate_ask *ask, const struct dhi_err *why)
{
	struct dhi_err *err = NULL;
	dhi_autofree char *reason = NULL, *rt = NULL;
	const char *target = ask->target, *sep;
	struct recorder *r;
	char id[40];
	json_t *start;

	if (!d->on || site->record == POLICY_RECORD_OFF)
		return;
	r = record_open(RECORD_DIR, 80, 24, NULL, "dhidebug (refused)", id, &err);
	if (!r) {
		dhi_err_clear(&err);
		return;
	}
	reason = dhi_err_string(why);
	sep = target ? strstr(target, "://") : NULL;
	if (sep)
		rt = xstrndup(target, (size_t)(sep - target));
	start = json_pack("{s:s, s:o, s:{s:s?, s:s?}, s:n, s:{s:s?}, s:n, s:s?, s:s, s:b}",
			  "session", id, "operator", session_operator_json(true), "target",
			  "runtime", rt, "id", sep ? sep + 3 : target, "toolbox", "profile", "name",
			  ask->profile, "view", "command", ask->command, "dhidebug", DHIDEBUG_VERSION,
			  "refused", 1);
	/* a refusal is on disk, or it is not recorded at all */
	if (record_audit(r, "session.start", start, true) == 0) {
		dhi_autofree char *text = xasprintf("refused: %s", reason);

		record_audit(r, "session.end",
			     json_pack("{s:i, s:f, s:i, s:i, s:s}", "status", 125, "duration", 0.0,
				       "bytes_in", 0, "bytes_out", 0, "reason", text),
			     true);
	}
	record_close(r);
}

// SPDX-License-Identifier: Apache-2.0
/* session.c - the message channel between the session's processes and the supervisor. */
#include "injector/session.h"

#ifndef DHIDEBUG_VERSION
#define DHIDEBUG_VERSION "0.0.0"
#endif

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fdio.h"
#include "common/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

void session_msg_send(int fd, char kind, const char *fmt, ...)
{
	char buf[SESSION_MSG_MAX];
	va_list ap;
	int n;

	if (fd < 0)
		return;
	buf[0] = kind;
	va_start(ap, fmt);
	n = vsnprintf(buf + 1, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n + 1] = '\0';
	/* one write, NUL-terminated: messages from several processes never interleave */
	if (fd_write_all(fd, buf, (size_t)n + 2) < 0) {
		/* the supervisor is gone; nobody is left to tell */
	}
}

void session_msg_send_line(int fd, char kind, const char *head, const char *line)
{
	/* a message's text: SESSION_MSG_MAX less its kind byte and NUL */
	const size_t cap = SESSION_MSG_MAX - 2;
	size_t hl = strnlen(head, cap / 2), ll = strlen(line), room = cap - hl - 1;

	/* the start of the line in pieces, the rest with its head in the last message */
	while (ll > room) {
		size_t n = ll - room < cap ? ll - room : cap;

		session_msg_send(fd, SESSION_MSG_PART, "%.*s", (int)n, line);
		line += n;
		ll -= n;
	}
	session_msg_send(fd, kind, "%.*s\n%s", (int)hl, head, line);
}

void session_child_fail(int msgfd, struct dhi_err *err)
{
	char *s = dhi_err_string(err);
	int status = err->status ? err->status : 125;

	session_msg_send(msgfd, SESSION_MSG_ERROR, "%s", s);
	free(s);
	_exit(status);
}

json_t *session_operator_json(bool delegated)
{
	char host[256] = "", loginuid[32] = "";
	const char *sudo = getenv("SUDO_USER"), *sudo_uid = getenv("SUDO_UID");
	char *tty = ttyname(STDIN_FILENO);
	int fd = open("/proc/self/loginuid", O_RDONLY | O_CLOEXEC);
	json_t *o;

	if (fd >= 0) {
		ssize_t n = fd_read(fd, loginuid, sizeof(loginuid) - 1);

		loginuid[n > 0 ? n : 0] = '\0';
		close(fd);
	}
	gethostname(host, sizeof(host) - 1);
	/* 4294967295 (-1) is "not set": no login session behind this process */
	o = json_pack("{s:i, s:I, s:s?, s:s, s:s?, s:b}", "uid", (int)getuid(), "loginuid",
		      (json_int_t)strtoll(loginuid, NULL, 10), "sudo_user", sudo, "host", host, "tty",
		      tty, "delegated", delegated);
	/* the delegating user's uid, as sudo tells it (a number, or nothing) */
	if (sudo_uid && *sudo_uid && strspn(sudo_uid, "0123456789") == strlen(sudo_uid) &&
	    strlen(sudo_uid) < 11)
		json_object_set_new(o, "sudo_uid", json_integer(strtoll(sudo_uid, NULL, 10)));
	return o;
}

int session_record_start(struct session_spec *s, const char *dir, const char *command,
			 char id[40], struct dhi_err **err)
{
	struct winsize ws = { .ws_col = 80, .ws_row = 24 };
	char *title = xasprintf("dhidebug %s://%s", s->rt->runtime, s->rt->id);
	char *caps = policy_caps_string(s->profile->caps);
	char filter[65], policy_hex[65];
	const struct policy *pol = s->policy;
	json_t *f;
	size_t an = s->filters.n_allow * sizeof(struct sock_filter);
	size_t dn = s->filters.n_deny * sizeof(struct sock_filter);
	unsigned char *both = xmalloc(an + dn + 1);

	if (isatty(STDIN_FILENO))
		ioctl(STDIN_FILENO, TIOCGWINSZ, &ws);
	s->rec = record_open(dir, ws.ws_col, ws.ws_row, isatty(STDIN_FILENO) ? getenv("TERM") : NULL,
			     title, id, err);
	free(title);
	if (!s->rec) {
		free(caps);
		free(both);
		return -1;
	}
	record_set_redact(s->rec, pol ? &pol->redact : NULL);
	memcpy(both, s->filters.allow, an);
	memcpy(both + an, s->filters.deny, dn);
	record_sha256_hex(both, an + dn, filter);
	free(both);
	if (pol && pol->text)
		record_sha256_hex(pol->text, pol->text_len, policy_hex);
	f = json_pack("{s:s, s:o, s:{s:s, s:s, s:s, s:s?, s:s?, s:i, s:s?, s:b, s:s?, s:s?, s:s?,"
		      " s:s?}, s:{s:i, s:i}, s:{s:s?, s:s?}, s:{s:s, s:n}, s:{s:s, s:s, s:s}, s:s,"
		      " s:s?, s:s}",
		      "session", id, "operator", session_operator_json(s->delegated), "target", "runtime",
		      s->rt->runtime, "id", s->rt->id, "name", s->rt->name, "image",
		      s->rt->image_ref, "image_digest", s->rt->image_digest, "pid", (int)s->rt->pid,
		      "state", s->rt->state, "write", s->write, "net", s->net, "pod", s->rt->pod_name,
		      "namespace", s->rt->pod_namespace, "container", s->rt->container_name,
		      "user", "uid", (int)s->user.uid, "gid", (int)s->user.gid, "policy", "file",
		      pol ? pol->source : NULL, "sha256", pol && pol->text ? policy_hex : NULL,
		      "toolbox", "ref", s->toolbox.ref, "digest", "profile", "name",
		      s->profile->name, "capabilities", caps, "filter_sha256", filter, "view",
		      view_mode_name(s->view), "command", command, "dhidebug", DHIDEBUG_VERSION);
	free(caps);
	/* a session on the host itself says so (--allow-host) */
	if (s->host)
		json_object_set_new(json_object_get(f, "target"), "host", json_true());
	/*
	 * On disk before the shell starts, so a session that runs has a start on
	 * record: the supervisor fsyncs it (record_sync_audit) while the stage
	 * builds the view, and releases the stage only then.
	 */
	if (record_audit(s->rec, "session.start", f, false) < 0)
		return dhi_err_set(err, errno, "cannot write the session's start record");
	return 0;
}

/* A target found to be the host (`why`, NULL: it is not): refused, or said. */
static int refuse_host(bool allow_host, bool quiet, const struct rt_target *rt, const char *why,
		       bool *is_host, struct dhi_err **err)
{
	dhi_autofree char *label = NULL;

	*is_host = why != NULL;
	if (!why)
		return 0;
	label = rt_target_label(rt);
	if (!allow_host)
		return dhi_err_set(err, 0, "`%s` is the host, not a container: %s (--allow-host "
				   "debugs the host itself, where the policy allows it)",
				   label, why);
	if (!quiet)
		fprintf(stderr, "dhidebug: `%s` is the host (%s): debugging the host "
			"(--allow-host)\n", label, why);
	return 0;
}

int session_check_host(bool allow_host, bool quiet, const struct ns_target *t,
		       const struct rt_target *rt, bool *is_host, struct dhi_err **err)
{
	const char *why = NULL;
	dhi_autofree char *label = NULL;
	struct stat root, st;
	const char *which = NULL;
	int r = ns_target_is_host(t, &why, err);

	if (r < 0 || ns_target_foreign_owner(t, &which, err) < 0)
		return -1;
	if (which) {
		label = rt_target_label(rt);
		return dhi_err_set(err, 0, "`%s` is refused: its %s namespace belongs to a user "
				   "namespace that is not its pid namespace's (one its container "
				   "made for itself), where the container's root would hold every "
				   "capability over the session", label, which);
	}
	for (size_t i = 0; !why && rt->exited && rt->fs && stat("/", &root) == 0 &&
			   rt->fs->layers && rt->fs->layers[i]; i++)
		if (stat(rt->fs->layers[i], &st) == 0 && st.st_dev == root.st_dev &&
		    st.st_ino == root.st_ino)
			why = "its files are the host's root directory";
	return refuse_host(allow_host, quiet, rt, why, is_host, err);
}

int session_check_host_pid(bool allow_host, bool quiet, const struct ns_target *t,
			   const struct rt_target *rt, bool *is_host, struct dhi_err **err)
{
	const char *why = NULL;

	if (ns_target_host_pidns(t, &why, err) < 0)
		return -1;
	return refuse_host(allow_host, quiet, rt, why, is_host, err);
}

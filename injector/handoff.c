// SPDX-License-Identifier: Apache-2.0
/* handoff.c - dhish's configuration across the exec into the sealed copy of dhidebug. */
#include "injector/handoff.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/fdio.h"
#include "common/xalloc.h"
#include "injector/record/execaudit.h"
#include "injector/session.h"

/* What a configuration may weigh: the history is HISTORY_KEEP lines, the rest is small. */
#define HANDOFF_MAX (16u << 20)

static json_t *lines_json(char *const *lines)
{
	json_t *a = json_array();

	for (int i = 0; lines && lines[i]; i++)
		json_array_append_new(a, json_string(lines[i]));
	return a;
}

int handoff_write(int fd, const struct dhish_config *cfg, bool audit, struct dhi_err **err)
{
	json_t *o = json_pack("{s:s?, s:s?, s:s?, s:s?, s:b, s:b, s:s?, s:o, s:o, s:b}", "target",
			      cfg->target, "profile", cfg->profile, "toolbox", cfg->toolbox, "view",
			      cfg->view, "allow_shells", cfg->allow_shells, "exec_anywhere",
			      cfg->exec_anywhere, "command", cfg->command, "history",
			      lines_json(cfg->history), "inputrc", lines_json(cfg->inputrc), "audit",
			      audit);
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	int r = 0;

	json_decref(o);
	if (!text)
		return dhi_err_set(err, 0, "cannot encode dhish's configuration");
	if (fd_write_all(fd, text, strlen(text)) < 0 || lseek(fd, 0, SEEK_SET) < 0)
		r = dhi_err_set(err, errno, "cannot hand dhish its configuration");
	free(text);
	return r;
}

/*
 * The exec audit goes on before dhish runs anything; its listener goes to the
 * supervisor over the notify socket (SCM_RIGHTS) and is closed here: the
 * session never holds it.
 */
static int start_exec_audit(int notify, struct dhi_err **err)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	char one = 'x';
	struct iovec iov = { &one, 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	int listener = -1, r;

	if (execaudit_install(&listener, err) < 0)
		return -1;
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &listener, sizeof(int));
	r = (int)sendmsg(notify, &mh, MSG_NOSIGNAL);
	close(listener);
	close(notify);
	if (r < 0)
		return dhi_err_set(err, errno, "cannot hand the exec audit to the supervisor");
	return 0;
}

static void line_hook(const char *line, const char *cwd, void *arg)
{
	session_msg_send_line(HANDOFF_MSG_FD, SESSION_MSG_LINE, cwd, line);
}

static void done_hook(const char *line, int status, double seconds, void *arg)
{
	char head[64];

	snprintf(head, sizeof(head), "%d %.6f", status, seconds);
	session_msg_send_line(HANDOFF_MSG_FD, SESSION_MSG_DONE, head, line);
}

/* A JSON array of strings as a NULL-terminated vector (the strings stay the JSON's). */
static char **lines_of(json_t *a)
{
	size_t n = json_array_size(a);
	char **v = xzalloc((n + 1) * sizeof(char *));

	for (size_t i = 0, j = 0; i < n; i++)
		if (json_is_string(json_array_get(a, i)))
			v[j++] = (char *)json_string_value(json_array_get(a, i));
	return v;
}

static const char *str_of(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

int handoff_main(void)
{
	struct dhi_err *err = NULL;
	char *text = NULL;
	json_error_t je;
	json_t *o;

	/* only inside a session: under no_new_privs and a seccomp filter (see handoff.h) */
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1 || prctl(PR_GET_SECCOMP, 0, 0, 0, 0) != 2) {
		fprintf(stderr, "dhidebug: %s is for dhidebug's own use\n", HANDOFF_ARG);
		return 125;
	}
	/*
	 * Non-dumpable from the exec on where our binary is one we cannot read (the
	 * exec-only copy, common/selfexe.h); where a capability lets us read it
	 * anyway, the exec made us dumpable, and this ends it as soon as we can.
	 */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
		dhi_err_set(&err, errno, "cannot make dhish non-dumpable");
		session_child_fail(HANDOFF_MSG_FD, err);
	}
	prctl(PR_SET_NAME, "dhish", 0, 0, 0);
	/*
	 * The supervisor's message socket is dhish's alone: a program dhish runs that held
	 * it could write line and done records of its own choosing (tee /proc/self/fd/3).
	 * One that takes it anyway (pidfd_getfd) sends under its own pid, and the
	 * supervisor takes only ours from this message on (supervisor.c, from_session).
	 */
	if (fcntl(HANDOFF_MSG_FD, F_SETFD, FD_CLOEXEC) < 0) {
		dhi_err_set(&err, errno, "cannot make the message socket close-on-exec");
		session_child_fail(HANDOFF_MSG_FD, err);
	}
	session_msg_send(HANDOFF_MSG_FD, SESSION_MSG_SHELL, "%s", "");
	if (fd_read_file(HANDOFF_CONFIG_FD, HANDOFF_MAX, &text, NULL, &err) < 0) {
		dhi_err_prefix(&err, "cannot read dhish's configuration");
		session_child_fail(HANDOFF_MSG_FD, err);
	}
	close(HANDOFF_CONFIG_FD);
	o = json_loads(text, 0, &je);
	free(text);
	if (!json_is_object(o)) {
		dhi_err_set(&err, 0, "dhish's configuration is not valid: %s", je.text);
		session_child_fail(HANDOFF_MSG_FD, err);
	}
	if (json_is_true(json_object_get(o, "audit")) && start_exec_audit(HANDOFF_NOTIFY_FD, &err) < 0)
		session_child_fail(HANDOFF_MSG_FD, err);
	{
		extern char **environ;
		struct dhish_config cfg = {
			.target = str_of(o, "target"),
			.profile = str_of(o, "profile"),
			.toolbox = str_of(o, "toolbox"),
			.view = str_of(o, "view"),
			.allow_shells = json_is_true(json_object_get(o, "allow_shells")),
			.exec_anywhere = json_is_true(json_object_get(o, "exec_anywhere")),
			.command = str_of(o, "command"),
			.env = environ,
			.history = lines_of(json_object_get(o, "history")),
			.inputrc = lines_of(json_object_get(o, "inputrc")),
			.hooks = { .line = line_hook, .done = done_hook, .arg = NULL },
		};

		/* dhish copies its environment before it clears it */
		char **env = NULL;
		size_t n = 0;

		while (environ[n])
			n++;
		env = xzalloc((n + 1) * sizeof(char *));
		for (size_t i = 0; i < n; i++)
			env[i] = xstrdup(environ[i]);
		cfg.env = env;
		return dhish_run(&cfg);
	}
}

// SPDX-License-Identifier: Apache-2.0
/* supervisor.c - host side of a session: pty or pipes, relay, signals. */
#include "injector/supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fdio.h"
#include "common/xalloc.h"
#include "injector/record/execaudit.h"
#include "injector/init/init.h"
#include "injector/record/ship.h"
#include "injector/policy/execid.h"
#include "nsenter/cgroup.h"
#include "common/path.h"

#define RELAY_BUF 65536

struct relay {
	bool tty;
	int in_src;		/* operator's stdin, -1 once at EOF */
	int in_dst;		/* pty master or the session's stdin pipe; -1 once closed */
	int out_src;		/* pty master or the session's stdout pipe */
	int err_src;		/* the session's stderr pipe (pipe mode only) */
	int msg;		/* messages from the session's processes (SOCK_SEQPACKET) */
	int sig;		/* signalfd */
	int lifeline;		/* write end; closing it ends the session */
	char pending[RELAY_BUF];
	size_t pend_off, pend_len;
	pid_t stage;		/* the stage, and dhish once it said so (0 until then): */
	pid_t shell;		/* whose messages are taken from then on */
	char *error;		/* last error message from the session */
	struct history *history;	/* where dhish's lines go */
	struct recorder *rec;	/* NULL when not recording (or when it stopped) */
	bool rec_required;	/* a failed write ends the session */
	const struct session_spec *spec;
	int notify_sock;	/* where the session hands over its exec audit listener */
	int listener;		/* the exec audit listener, once received */
	int procfd;		/* the host's /proc, for the exec policy (made as the session starts) */
	struct execid *execid;	/* what the toolbox's shells are; files judged so far */
	unsigned long long execs;	/* exec notifications handled */
	char *first_denied;	/* why the first exec (the program's) was denied, or NULL */
	unsigned long long bytes_in, bytes_out;
	const char *end_reason;	/* set when the supervisor ends the session itself */
	char *part;		/* SESSION_MSG_PART pieces of the next line so far */
	size_t part_len;
	bool part_cut;		/* more came than SESSION_LINE_MAX: the line is cut there */
	bool collector_down;	/* a record could not be shipped: the rest waits for the end */
	int end_signal;		/* signal that ended the session, 0 if none */
	struct termios saved;
	bool raw;
};

static const int handled_signals[] = { SIGCHLD, SIGWINCH, SIGTERM, SIGHUP, SIGINT, SIGQUIT, 0 };

static int open_pty(int *master, int *slave, struct dhi_err **err)
{
	struct winsize ws;

	*master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (*master < 0)
		return dhi_err_set(err, errno, "cannot allocate a pty");
	if (grantpt(*master) < 0 || unlockpt(*master) < 0)
		return dhi_err_set(err, errno, "cannot unlock the pty");
	/* TIOCGPTPEER (4.13+) opens the peer without a path lookup */
	*slave = ioctl(*master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (*slave < 0) {
		char name[64];

		if (ptsname_r(*master, name, sizeof(name)) != 0)
			return dhi_err_set(err, errno, "cannot name the pty");
		*slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (*slave < 0)
			return dhi_err_set(err, errno, "cannot open `%s`", name);
	}
	if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
		ioctl(*master, TIOCSWINSZ, &ws);
	return 0;
}

static void set_raw(struct relay *r)
{
	struct termios t;

	if (tcgetattr(STDIN_FILENO, &r->saved) < 0)
		return;
	t = r->saved;
	cfmakeraw(&t);
	if (tcsetattr(STDIN_FILENO, TCSADRAIN, &t) == 0)
		r->raw = true;
}

static void restore_tty(struct relay *r)
{
	if (r->raw)
		tcsetattr(STDIN_FILENO, TCSADRAIN, &r->saved);
	r->raw = false;
}

/* A TERM value is passed on only if it looks like one: it is just a name. */
static const char *sane_term(void)
{
	const char *t = getenv("TERM");

	if (!t || !*t || strlen(t) > 64)
		return NULL;
	for (const char *p = t; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '+' || *p == '_'))
			return NULL;
	return t;
}

/* (what the session's processes send is text from a process that entered the container) */
static void print_line(struct relay *r, const char *text)
{
	dhi_autofree char *shown = dhi_printable(text);

	fprintf(stderr, "dhidebug: %s%s", shown, r->raw ? "\r\n" : "\n");
	fflush(stderr);
}

/*
 * A write to the recording failed: with `record: required` the session ends
 * (fail closed), otherwise it goes on unrecorded, and says so.
 */
static void recording_failed(struct relay *r)
{
	if (r->rec_required) {
		free(r->error);
		r->error = xstrdup("the recording failed (record: required): session ended");
		r->end_reason = "error";
		dhi_close_reset(&r->lifeline);
	} else {
		print_line(r, "the recording failed; the session goes on unrecorded");
	}
	r->rec = NULL;
}

static void rec_event(struct relay *r, char code, const char *data, size_t len)
{
	if (r->rec && record_event(r->rec, code, data, len) < 0)
		recording_failed(r);
}

/*
 * Records go to the collector as they are written. Once it fails, the rest
 * waits in the session folder (the spool) and goes at the end, in order, or
 * with `dhidebug sessions ship` later; a slow collector never slows the
 * session twice.
 */
static void ship(struct relay *r, bool final)
{
	struct dhi_err *e = NULL;

	if (!r->rec || !r->spec->collector || (r->collector_down && !final))
		return;
	if (ship_pending(record_dirfd(r->rec), record_id(r->rec), r->spec->collector, final, &e) <
	    0) {
		if (!r->collector_down || final) {
			char *why = dhi_err_string(e);
			char *msg = xasprintf("not shipped yet (kept for `dhidebug sessions ship`): %s",
					      why);

			print_line(r, msg);
			free(msg);
			free(why);
		}
		r->collector_down = true;
		dhi_err_clear(&e);
	}
}

static void rec_audit(struct relay *r, const char *type, json_t *fields, bool sync)
{
	if (!r->rec) {
		json_decref(fields);
		return;
	}
	if (record_audit(r->rec, type, fields, sync) < 0) {
		recording_failed(r);
		return;
	}
	ship(r, false);
}

/* Copies what is readable on `src` to `dst`; returns false at EOF or error (EIO on a pty). */
static bool pump_out(struct relay *r, int src, int dst)
{
	char buf[RELAY_BUF];
	ssize_t n = fd_read(src, buf, sizeof(buf));

	if (n < 0 && errno == EAGAIN)
		return true;
	if (n <= 0)
		return false;
	/* a closed stdout must not stop the session; its output is simply dropped */
	fd_write_all(dst, buf, (size_t)n);
	r->bytes_out += (unsigned long long)n;
	rec_event(r, 'o', buf, (size_t)n);
	return true;
}

/*
 * Text from the session (a path, an argument, a line) as a record's JSON
 * string: as it is when it is UTF-8, else with dhi_utf8_escaped()'s escapes,
 * and `field` is then named in the record's `escaped` list. A string that is
 * not UTF-8 must neither vanish from the record (json_string() refuses it)
 * nor take the record with it.
 */
static json_t *text_field(json_t *rec, const char *field, const char *s)
{
	dhi_autofree char *esc = dhi_utf8_escaped(s);
	json_t *list;

	if (!esc)
		return json_string(s);
	list = json_object_get(rec, "escaped");
	if (!list) {
		list = json_array();
		json_object_set_new(rec, "escaped", list);
	}
	for (size_t i = 0; i < json_array_size(list); i++)
		if (!strcmp(json_string_value(json_array_get(list, i)), field))
			return json_string(esc);
	json_array_append_new(list, json_string(field));
	return json_string(esc);
}

/* "cwd\nline" → the audit's `line` record and a marker in the recording. */
static void rec_line(struct relay *r, const char *text)
{
	const char *nl = strchr(text, '\n');
	const char *line = nl ? nl + 1 : text;
	json_t *f = json_object();

	json_object_set_new(f, "text", text_field(f, "text", line));
	if (r->part_cut)
		json_object_set_new(f, "truncated", json_true());
	if (nl) {
		dhi_autofree char *cwd = xstrndup(text, (size_t)(nl - text));

		json_object_set_new(f, "cwd", text_field(f, "cwd", cwd));
	} else {
		json_object_set_new(f, "cwd", json_null());
	}
	rec_event(r, 'm', line, strlen(line));
	rec_audit(r, "line", f, false);
	history_append(r->history, line);
}

/* "status seconds\nline" → the audit's `line.end` record. */
static void rec_line_end(struct relay *r, const char *text)
{
	const char *nl = strchr(text, '\n');
	int status = 0;
	double secs = 0;

	json_t *f;

	if (sscanf(text, "%d %lf", &status, &secs) != 2)
		return;
	f = json_pack("{s:i, s:f}", "status", status, "duration", secs);
	json_object_set_new(f, "text", text_field(f, "text", nl ? nl + 1 : ""));
	if (r->part_cut)
		json_object_set_new(f, "truncated", json_true());
	rec_audit(r, "line.end", f, false);
}

/* A piece of the next line (SESSION_MSG_PART), kept up to SESSION_LINE_MAX. */
static void take_part(struct relay *r, const char *text)
{
	size_t n = strlen(text);

	if (r->part_len + n > SESSION_LINE_MAX) {
		n = SESSION_LINE_MAX - r->part_len;
		r->part_cut = true;
	}
	r->part = xrealloc(r->part, r->part_len + n + 1);
	memcpy(r->part + r->part_len, text, n);
	r->part_len += n;
	r->part[r->part_len] = '\0';
}

/*
 * "<head>\n<rest>" with the pieces that came before it put back between head
 * and rest: the whole line; the pieces are then forgotten.
 */
static char *whole_line(struct relay *r, const char *text)
{
	const char *nl = strchr(text, '\n');
	char *s;

	if (!r->part_len || !nl)
		return xstrdup(text);
	s = xasprintf("%.*s\n%s%s", (int)(nl - text), text, r->part, r->part_cut ? "" : nl + 1);
	free(r->part);
	r->part = NULL;
	r->part_len = 0;
	return s;
}

/* The session hands over its exec audit listener, once. */
static void take_listener(struct relay *r)
{
	char cbuf[CMSG_SPACE(sizeof(int))], one;
	struct iovec iov = { &one, 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c;

	if (recvmsg(r->notify_sock, &mh, MSG_CMSG_CLOEXEC) > 0 && (c = CMSG_FIRSTHDR(&mh)) &&
	    c->cmsg_type == SCM_RIGHTS)
		memcpy(&r->listener, CMSG_DATA(c), sizeof(int));
	dhi_close_reset(&r->notify_sock);
}

/* The host's procfs and what the toolbox's shells are, once: the exec policy's judge. */
static void exec_policy_init(struct relay *r)
{
	struct dhi_err *err = NULL;

	if (r->procfd < 0) {
		r->procfd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (r->procfd >= 0 &&
		    path_check_fs(r->procfd, PROC_SUPER_MAGIC, "/proc", &err) < 0) {
			dhi_close_reset(&r->procfd);
			dhi_err_clear(&err);
		}
	}
	if (!r->execid && r->procfd >= 0)
		r->execid = execid_new(r->spec->toolbox.dirfd, r->procfd);
}

/*
 * The profile's exec policy, applied at the kernel's door (a record: another
 * thread can change the path after this; see docs/security.md). The path is
 * resolved in the process's own root from its cwd or execveat's dirfd, and
 * the file judged by what it is (injector/policy/execid.h), never by the
 * host's files or a name the process chose.
 */
static void decide_exec(struct exec_event *ev, void *arg)
{
	struct relay *r = arg;
	const struct profile *prof = r->spec->profile;
	unsigned int allow = (prof->allow_shells ? EXECID_SHELLS : 0) |
			     (prof->container_exec ? EXECID_ANYWHERE : 0);
	struct execid_proc p = { -1, -1, -1 };
	struct execid_verdict v;
	struct execid_exec e = { ev->path, -1, ev->flags, ev->argv, ev->env, ev->env_cut };
	dhi_autoclose int dirfd = -1;

	exec_policy_init(r);
	if (!ev->path_read) {
		ev->error = EFAULT;	/* what the kernel says of a path it cannot read */
		return;
	}
	if (ev->at && ev->dirfd != AT_FDCWD && ev->procdir >= 0) {
		char fd[32];

		snprintf(fd, sizeof(fd), "fd/%d", ev->dirfd);
		dirfd = openat(ev->procdir, fd, O_PATH | O_CLOEXEC);
		if (dirfd < 0 && ev->path[0] != '/') {
			ev->error = EBADF;
			return;
		}
		e.dirfd = dirfd;
	}
	if (!r->execid || ev->procdir < 0 ||
	    execid_proc_of(fcntl(ev->procdir, F_DUPFD_CLOEXEC, 3), &p) < 0) {
		/* gone (its answer is never read) or nothing to judge with */
		ev->denied = !prof->allow_shells;
		snprintf(ev->reason, sizeof(ev->reason), "a file that cannot be judged");
		return;
	}
	execid_decide(r->execid, &p, &e, allow, &v);
	execid_proc_close(&p);
	ev->denied = v.denied;
	ev->error = v.error;
	snprintf(ev->file, sizeof(ev->file), "%s", v.file);
	snprintf(ev->applet, sizeof(ev->applet), "%s", v.applet);
	if (v.denied)
		snprintf(ev->reason, sizeof(ev->reason), "%s, which the profile does not run",
			 v.reason);
	/* the first exec is the program's: dhidebug-init only knows it got EACCES */
	if (v.denied && r->execs == 0)
		r->first_denied = xstrdup(v.reason);
}

/* The exec record's fields but the decision's, from the event or a refusal. */
static json_t *exec_record(pid_t pid, pid_t ppid, const char *path, const char *file,
			   const char *applet, char *const *argv)
{
	json_t *a = json_array(), *f = json_object();

	json_object_set_new(f, "pid", json_integer(pid));
	json_object_set_new(f, "ppid", json_integer(ppid));
	json_object_set_new(f, "path", text_field(f, "path", path));
	json_object_set_new(f, "file", file && *file ? text_field(f, "file", file) : json_null());
	for (int i = 0; argv && argv[i]; i++)
		json_array_append_new(a, text_field(f, "argv", argv[i]));
	json_object_set_new(f, "argv", a);
	if (applet && *applet)
		json_object_set_new(f, "applet", text_field(f, "applet", applet));
	return f;
}

/* "pid ppid\npath\nfile\napplet\nreason": `-- PROGRAM` refused before it was executed. */
static void rec_refused(struct relay *r, char *text)
{
	char *field[5] = { NULL };
	int pid = 0, ppid = 0;
	json_t *f;

	for (int i = 0; i < 5; i++) {
		field[i] = text;
		text = text ? strchr(text, '\n') : NULL;
		if (text)
			*text++ = '\0';
	}
	if (!field[4] || sscanf(field[0], "%d %d", &pid, &ppid) != 2)
		return;
	f = exec_record(pid, ppid, field[1], field[2], field[3], r->spec->argv);
	json_object_set_new(f, "decision", json_string("denied"));
	json_object_set_new(f, "reason", text_field(f, "reason", field[4]));
	rec_audit(r, "exec", f, false);
}

static void handle_exec(struct relay *r)
{
	struct exec_event ev;
	json_t *f;
	static const char *const env_prefixes[] = EXECID_ENV_PREFIXES;
	int n = execaudit_handle(r->listener, env_prefixes, decide_exec, r, &ev);

	if (n < 0) {
		/* the audit channel is broken: no exec goes unrecorded, so the session ends */
		dhi_close_reset(&r->listener);
		free(r->error);
		r->error = xstrdup("the exec audit channel broke: session ended");
		r->end_reason = "error";
		dhi_close_reset(&r->lifeline);
		return;
	}
	if (n == 0)
		return;
	r->execs++;
	f = exec_record(ev.pid, ev.ppid, ev.path, ev.file, ev.applet, ev.argv);
	json_object_set_new(f, "decision", json_string(ev.denied ? "denied" : "allowed"));
	if (ev.denied)
		json_object_set_new(f, "reason", text_field(f, "reason", ev.reason));
	else if (ev.error)
		json_object_set_new(f, "error", json_string(strerror(ev.error)));
	rec_audit(r, "exec", f, false);
	execaudit_event_free(&ev);
}

/* dhidebug-init could not execute the program: "errno\nname". */
static void exec_failed(struct relay *r, const char *text)
{
	const struct profile *p = r->spec->profile;
	const char *nl = strchr(text, '\n');
	int e = atoi(text);
	bool noexec = e == EACCES && !p->container_exec;

	free(r->error);
	if (e == EACCES && r->first_denied)
		r->error = xasprintf("cannot execute `%s`: it is %s, which profile `%s` does not "
				     "run (sysadmin does)",
				     nl ? nl + 1 : "?", r->first_denied, p->name);
	else
		r->error = xasprintf("cannot execute `%s`: %s%s%s%s", nl ? nl + 1 : "?",
				     strerror(e), noexec ? " (profile `" : "",
				     noexec ? p->name : "",
				     noexec ? "` runs programs from the toolbox only)" : "");
}

/*
 * Whether a message from `pid` is one of the session's own. Until dhish says
 * it runs (SESSION_MSG_SHELL, before it runs anything) only dhidebug's code
 * holds the channel; from then on only dhish and the stage do, and a
 * program that took dhish's socket (pidfd_getfd, with CAP_SYS_PTRACE) sends
 * under its own pid, which the kernel gives (SCM_CREDENTIALS): dropped.
 */
static bool from_session(struct relay *r, pid_t pid, char kind)
{
	if (!r->shell) {
		if (kind == SESSION_MSG_SHELL && pid > 0)
			r->shell = pid;
		return kind != SESSION_MSG_SHELL;
	}
	return pid == r->shell || pid == r->stage;
}

/* One message: a kind byte, its text, a NUL, with its sender's credentials. */
static void take_messages(struct relay *r)
{
	char buf[SESSION_MSG_MAX + 1], *m = buf;
	char cbuf[CMSG_SPACE(sizeof(struct ucred))];
	struct iovec iov = { buf, SESSION_MSG_MAX };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct ucred cred = { 0, 0, 0 };
	bool has_cred = false;
	ssize_t n;

	do
		n = recvmsg(r->msg, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	for (struct cmsghdr *c = n >= 0 ? CMSG_FIRSTHDR(&mh) : NULL; c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET)
			continue;
		if (c->cmsg_type == SCM_CREDENTIALS && c->cmsg_len >= CMSG_LEN(sizeof(cred))) {
			memcpy(&cred, CMSG_DATA(c), sizeof(cred));
			has_cred = true;
		} else if (c->cmsg_type == SCM_RIGHTS) {
			/* nobody of the session's sends fds here */
			for (size_t i = 0; CMSG_LEN((i + 1) * sizeof(int)) <= c->cmsg_len; i++) {
				int fd;

				memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
				close(fd);
			}
		}
	}
	/* the end: every writer is gone (an empty message has its sender's credentials) */
	if (n < 0 || (n == 0 && !has_cred)) {
		dhi_close_reset(&r->msg);
		return;
	}
	if (n == 0 || (mh.msg_flags & MSG_TRUNC) || !from_session(r, cred.pid, buf[0]))
		return;
	buf[n] = '\0';
	if (m[0] == SESSION_MSG_ERROR) {
		free(r->error);
		r->error = xstrdup(m + 1);
	} else if (m[0] == SESSION_MSG_NOTICE) {
		print_line(r, m + 1);
	} else if (m[0] == SESSION_MSG_PART) {
		take_part(r, m + 1);
	} else if (m[0] == SESSION_MSG_LINE || m[0] == SESSION_MSG_DONE) {
		dhi_autofree char *whole = whole_line(r, m + 1);

		if (m[0] == SESSION_MSG_LINE)
			rec_line(r, whole);
		else
			rec_line_end(r, whole);
		r->part_cut = false;
	} else if (m[0] == INIT_MSG_EXEC_FAILED) {
		exec_failed(r, m + 1);
	} else if (m[0] == SESSION_MSG_REFUSED) {
		rec_refused(r, m + 1);
	}
}

/*
 * What is typed to a password prompt is not recorded. Such a prompt reads a
 * whole line with ECHO off (canonical mode); readline and full-screen programs
 * also turn ECHO off, but read raw (no ICANON) and echo what is typed
 * themselves, so their input is recorded.
 */
static bool echo_off(const struct relay *r)
{
	struct termios t;

	return r->tty && tcgetattr(r->in_dst, &t) == 0 && !(t.c_lflag & ECHO) &&
	       (t.c_lflag & ICANON);
}

static void pump_in(struct relay *r, short revents_src, short revents_dst)
{
	if (r->pend_len == 0 && revents_src) {
		ssize_t n = fd_read(r->in_src, r->pending, sizeof(r->pending));

		if (n <= 0) {
			r->in_src = -1;
			/* pipe mode: the session sees EOF on its stdin */
			if (!r->tty)
				dhi_close_reset(&r->in_dst);
			return;
		}
		r->pend_off = 0;
		r->pend_len = (size_t)n;
		r->bytes_in += (unsigned long long)n;
		if (r->spec->record_input && !echo_off(r))
			rec_event(r, 'i', r->pending, (size_t)n);
	}
	if (r->pend_len && (revents_dst & POLLOUT)) {
		ssize_t n = write(r->in_dst, r->pending + r->pend_off, r->pend_len);

		if (n > 0) {
			r->pend_off += (size_t)n;
			r->pend_len -= (size_t)n;
		} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
			r->pend_len = 0;
			r->in_src = -1;
		}
	}
}

/* Returns true when the stage has exited, with its status in *status. */
static bool handle_signal(struct relay *r, pid_t stage, int *status)
{
	struct signalfd_siginfo si;
	int st;

	if (fd_read(r->sig, &si, sizeof(si)) != (ssize_t)sizeof(si))
		return false;
	switch (si.ssi_signo) {
	case SIGWINCH: {
		struct winsize ws;

		if (r->tty && ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0) {
			char size[32];
			int n = snprintf(size, sizeof(size), "%ux%u", ws.ws_col, ws.ws_row);

			ioctl(r->out_src, TIOCSWINSZ, &ws);
			rec_event(r, 'r', size, (size_t)n);
			rec_audit(r, "resize",
				  json_pack("{s:i, s:i}", "width", ws.ws_col, "height", ws.ws_row),
				  false);
		}
		return false;
	}
	case SIGCHLD:
		if (waitpid(stage, &st, WNOHANG) == stage) {
			*status = st;
			return true;
		}
		return false;
	default:
		/* SIGTERM, SIGHUP, SIGINT, SIGQUIT: end the session, all of it */
		if (!r->end_signal)
			r->end_signal = (int)si.ssi_signo;
		dhi_close_reset(&r->lifeline);
		return false;
	}
}

static int relay_loop(struct relay *r, pid_t stage)
{
	bool stage_done = false, out_open = true, err_open = r->err_src >= 0;
	int status = 0;

	while (!stage_done || out_open || err_open || r->msg >= 0) {
		struct pollfd p[8];
		int n = 0, i_in = -1, i_dst = -1, i_out = -1, i_err = -1, i_msg = -1, i_sig;
		int i_ns = -1, i_lis = -1;
		int ready;

		if (r->in_src >= 0 && r->pend_len == 0) {
			i_in = n;
			p[n++] = (struct pollfd){ r->in_src, POLLIN, 0 };
		}
		if (r->in_dst >= 0 && r->pend_len) {
			i_dst = n;
			p[n++] = (struct pollfd){ r->in_dst, POLLOUT, 0 };
		}
		if (out_open) {
			i_out = n;
			p[n++] = (struct pollfd){ r->out_src, POLLIN, 0 };
		}
		if (err_open) {
			i_err = n;
			p[n++] = (struct pollfd){ r->err_src, POLLIN, 0 };
		}
		if (r->msg >= 0) {
			i_msg = n;
			p[n++] = (struct pollfd){ r->msg, POLLIN, 0 };
		}
		if (r->notify_sock >= 0) {
			i_ns = n;
			p[n++] = (struct pollfd){ r->notify_sock, POLLIN, 0 };
		}
		if (r->listener >= 0) {
			i_lis = n;
			p[n++] = (struct pollfd){ r->listener, POLLIN, 0 };
		}
		i_sig = n;
		p[n++] = (struct pollfd){ r->sig, POLLIN, 0 };

		/*
		 * Once the stage is gone every session process is gone too; what is
		 * left is buffered output. Stop if nothing arrives for a while, so a
		 * stray fd holder can never keep us here.
		 */
		ready = poll(p, (nfds_t)n, stage_done ? 200 : -1);
		if (ready < 0 && errno == EINTR)
			continue;
		if (ready <= 0)
			break;
		if (i_out >= 0 && p[i_out].revents && !pump_out(r, r->out_src, STDOUT_FILENO))
			out_open = false;
		if (i_err >= 0 && p[i_err].revents && !pump_out(r, r->err_src, STDERR_FILENO))
			err_open = false;
		if (i_ns >= 0 && p[i_ns].revents)
			take_listener(r);
		if (i_lis >= 0 && p[i_lis].revents) {
			if (p[i_lis].revents & (POLLHUP | POLLERR))
				dhi_close_reset(&r->listener);	/* no process of the session is left */
			else
				handle_exec(r);
		}
		if (i_msg >= 0 && p[i_msg].revents)
			take_messages(r);
		if ((i_in >= 0 && p[i_in].revents) || (i_dst >= 0 && p[i_dst].revents))
			pump_in(r, i_in >= 0 ? p[i_in].revents : 0, i_dst >= 0 ? p[i_dst].revents : 0);
		if (p[i_sig].revents && handle_signal(r, stage, &status))
			stage_done = true;
	}
	if (!stage_done) {
		dhi_close_reset(&r->lifeline);
		while (waitpid(stage, &status, 0) < 0 && errno == EINTR)
			;
	}
	return status;
}

/* Whether the pinned process has begun to exit (PF_EXITING in its stat's flags). */
static bool target_exiting(const struct ns_target *t)
{
	dhi_autofree char *buf = NULL;
	struct dhi_err *err = NULL;
	unsigned long flags = 0;
	const char *p;

	if (fd_read_proc_at(t->procfd, "stat", 4096, &buf, NULL, &err) < 0) {
		dhi_err_clear(&err);
		return false;
	}
	/* after "(comm)": state ppid pgrp session tty_nr tpgid flags */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %lu", &flags) != 1)
		return false;
	return flags & 0x4;	/* PF_EXITING */
}

/*
 * Whether the session's container has exited: its pinned process is gone or a
 * zombie (a pidfd is readable from the exit on, which a signal 0 is not).
 */
static bool target_gone(const struct ns_target *t)
{
	struct dhi_err *err = NULL;
	struct pollfd p = { t->pidfd, POLLIN, 0 };

	if (t->pidfd >= 0) {
		if (poll(&p, 1, 0) == 1 && (p.revents & (POLLIN | POLLHUP)))
			return true;
		/*
		 * A pid namespace's init that is exiting kills every process in it,
		 * ours too, before it is a zombie itself: the session can end first.
		 * One that is exiting (PF_EXITING) gets a moment to finish.
		 */
		if (!target_exiting(t))
			return false;
		p.revents = 0;
		return poll(&p, 1, 2000) == 1 && (p.revents & (POLLIN | POLLHUP));
	}
	if (ns_target_check_alive(t, &err) == 0)
		return false;
	dhi_err_clear(&err);
	return true;
}

/* Whether the program was killed by SIGKILL, as the end of its pid namespace kills it. */
static bool killed_status(int status)
{
	return (WIFEXITED(status) && WEXITSTATUS(status) == 128 + SIGKILL) ||
	       (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

static void record_end(struct relay *r, int status)
{
	const char *reason = r->end_reason;
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);

	if (!reason)
		reason = r->end_signal == SIGHUP ? "hangup" : r->end_signal ? "signal" : "exit";
	if (r->end_signal)
		code = 128 + r->end_signal;
	rec_audit(r, "session.end",
		  json_pack("{s:i, s:f, s:I, s:I, s:s}", "status", code, "duration",
			    r->rec ? record_elapsed(r->rec) : 0.0, "bytes_in",
			    (json_int_t)r->bytes_in, "bytes_out", (json_int_t)r->bytes_out, "reason",
			    reason),
		  true);
	ship(r, true);
}

/*
 * The stage joins the target's v1 cgroups itself and was born in its v2 one
 * (nsenter/cgroup.h); an older kernel leaves the v2 move to us, done while
 * the stage joins the namespaces and builds the view. The stage forks
 * nothing before the byte on `sync` says so, so every later process is born
 * in the target's cgroups.
 */
static int release_stage(struct cgroup_plan *cg, pid_t stage, int sync, struct dhi_err **err)
{
	siginfo_t si = { 0 };

	if (cgroup_plan_join_rest(cg, stage, err) == 0 && fd_write_all(sync, "", 1) == 0)
		return 0;
	if (!*err)
		dhi_err_set(err, errno, "cannot release the session");
	/* a stage that failed on its own has said why: its message is the one to print */
	if (waitid(P_PID, (id_t)stage, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == stage) {
		dhi_err_clear(err);
		return 0;
	}
	return -1;
}

int supervisor_run(struct session_spec *s, struct dhi_err **err)
{
	struct relay *r = xzalloc(sizeof(*r));
	struct session_chan ch = { { -1, -1, -1 }, -1, -1, -1, -1 };
	int msg[2] = { -1, -1 }, life[2] = { -1, -1 }, in[2] = { -1, -1 }, out[2] = { -1, -1 },
	    errp[2] = { -1, -1 }, cg[2] = { -1, -1 }, ns[2] = { -1, -1 };
	int master = -1, slave = -1, status, code = -1;
	struct cgroup_plan cgp;
	sigset_t mask, old;
	pid_t me = getpid(), stage;

	r->tty = isatty(STDIN_FILENO);
	r->in_src = STDIN_FILENO;
	r->history = &s->history;
	r->in_dst = r->out_src = r->err_src = r->lifeline = r->msg = r->sig = -1;
	r->notify_sock = r->listener = r->procfd = -1;
	r->rec = s->rec;
	r->rec_required = s->record_required;
	r->spec = s;
	cgroup_plan_init(&cgp);

	if (s->join_cgroup && cgroup_plan_open(s->target.procfd, &cgp, err) < 0)
		goto out;
	/*
	 * The message channel is a socket: unlike a pipe it cannot be reopened
	 * through /proc/<pid>/fd (a session program with CAP_DAC_OVERRIDE reached
	 * dhish's that way), and each message carries its sender's pid.
	 */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, msg) < 0 ||
	    setsockopt(msg[0], SOL_SOCKET, SO_PASSCRED, &(int){ 1 }, sizeof(int)) < 0 ||
	    shutdown(msg[0], SHUT_WR) < 0) {
		dhi_err_set(err, errno, "cannot create the message socket");
		goto out;
	}
	if (pipe2(life, O_CLOEXEC) < 0 || pipe2(cg, O_CLOEXEC) < 0) {
		dhi_err_set(err, errno, "cannot create pipes");
		goto out;
	}
	if (r->tty) {
		if (open_pty(&master, &slave, err) < 0)
			goto out;
		s->term = sane_term();
		ch.stdio[0] = ch.stdio[1] = ch.stdio[2] = slave;
	} else {
		if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 ||
		    pipe2(errp, O_CLOEXEC) < 0) {
			dhi_err_set(err, errno, "cannot create pipes");
			goto out;
		}
		ch.stdio[0] = in[0];
		ch.stdio[1] = out[1];
		ch.stdio[2] = errp[1];
	}
	ch.msg = msg[1];
	ch.lifeline = life[0];
	ch.cgsync = cg[0];
	/*
	 * The exec audit: the exec policy's decisions, and part of the recording
	 * when there is one. A session that is not recorded is decided all the
	 * same: --no-record must not be the way around the refusal of shells.
	 */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ns) < 0) {
		dhi_err_set(err, errno, "cannot create a socket pair");
		goto out;
	}
	ch.notify = ns[1];

	sigemptyset(&mask);
	for (int i = 0; handled_signals[i]; i++)
		sigaddset(&mask, handled_signals[i]);
	sigprocmask(SIG_BLOCK, &mask, &old);
	signal(SIGPIPE, SIG_IGN);
	r->sig = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (r->sig < 0) {
		dhi_err_set(err, errno, "cannot create a signalfd");
		goto out_mask;
	}

	stage = cgroup_plan_fork(&cgp);
	if (stage < 0) {
		dhi_err_set(err, errno, "cannot fork");
		goto out_mask;
	}
	if (stage == 0) {
		/*
		 * If we are already gone, do not start at all. The stage does not die
		 * with us: it ends the session when our lifeline closes, and must
		 * outlive the session's init, or that would be the container's PID 1's.
		 */
		if (getppid() != me)
			_exit(125);
		signal(SIGPIPE, SIG_DFL);
		sigprocmask(SIG_SETMASK, &old, NULL);
		close(r->sig);
		close(msg[0]);
		close(life[1]);
		close(cg[1]);
		if (ns[0] >= 0)
			close(ns[0]);
		if (master >= 0)
			close(master);
		if (in[1] >= 0)
			close(in[1]);
		if (out[0] >= 0)
			close(out[0]);
		if (errp[0] >= 0)
			close(errp[0]);
		s->cgroups = &cgp;
		attach_stage(s, &ch);
	}

	/* our copies of the session's ends: EOF arrives only when the session lets go */
	dhi_close_reset(&slave);
	dhi_close_reset(&in[0]);
	dhi_close_reset(&out[1]);
	dhi_close_reset(&errp[1]);
	dhi_close_reset(&msg[1]);
	dhi_close_reset(&life[0]);
	dhi_close_reset(&cg[0]);
	dhi_close_reset(&ns[1]);
	r->notify_sock = ns[0];
	ns[0] = -1;
	/* the recording opens while the stage works; a refused one stops the stage */
	if (s->record_start && s->record_start(s, s->record_arg, err) == 0)
		r->rec = s->rec;
	if (*err || release_stage(&cgp, stage, cg[1], err) < 0) {
		kill(stage, SIGKILL);
		while (waitpid(stage, NULL, 0) < 0 && errno == EINTR)
			;
		goto out_mask;
	}
	dhi_close_reset(&cg[1]);
	cgroup_plan_close(&cgp);
	/*
	 * The start record goes to disk while the stage starts the session: the
	 * program's execve waits for our answer to its exec notification, which
	 * comes after this. If it cannot, the lifeline closes with our return and
	 * the stage ends the session before anything ran.
	 */
	if (record_sync_audit(s->rec) < 0) {
		dhi_err_set(err, errno, "cannot write the session's start record to disk");
		goto out_mask;
	}
	/* ready before the first exec, while the stage starts the session */
	if (r->notify_sock >= 0)
		exec_policy_init(r);
	r->msg = msg[0];
	r->stage = stage;
	r->lifeline = life[1];
	msg[0] = life[1] = -1;
	if (r->tty) {
		r->in_dst = r->out_src = master;
		master = -1;
		fd_set_nonblock(r->in_dst, 1);
		set_raw(r);
	} else {
		r->in_dst = in[1];
		r->out_src = out[0];
		r->err_src = errp[0];
		in[1] = out[0] = errp[0] = -1;
		fd_set_nonblock(r->in_dst, 1);
	}

	status = relay_loop(r, stage);
	restore_tty(r);
	/*
	 * the container's end took the session's processes with it: say so, and
	 * record why. Only a session that was killed: where the target is not its
	 * pid namespace's init (the host's pid namespace, a pod's), its exit ends
	 * nothing, and a program that ran to its own end after it was not ended by it.
	 */
	if (!r->end_reason && !r->end_signal && killed_status(status) && target_gone(&s->target)) {
		dhi_autofree char *label = rt_target_label(s->rt);
		dhi_autofree char *line = xasprintf("container `%s` exited; the session ended",
						    label);

		r->end_reason = "target-exited";
		print_line(r, line);
	}
	record_end(r, status);

	if (r->error) {
		print_line(r, r->error);
		code = WIFEXITED(status) ? WEXITSTATUS(status) : 125;
	} else if (r->end_signal) {
		code = 128 + r->end_signal;
	} else if (WIFSIGNALED(status)) {
		dhi_err_set(err, 0, "the session was killed by signal %d", WTERMSIG(status));
		code = -1;
	} else {
		code = WEXITSTATUS(status);
	}

out_mask:
	sigprocmask(SIG_SETMASK, &old, NULL);
out:
	cgroup_plan_close(&cgp);
	if (r->out_src >= 0 && r->out_src != r->in_dst)
		close(r->out_src);
	for (int *fd = (int[]){ r->in_dst, r->err_src, r->msg, r->sig, r->lifeline, master, slave,
				msg[0], msg[1], life[0], life[1], in[0], in[1], out[0], out[1],
				errp[0], errp[1], cg[0], cg[1], ns[0], ns[1], r->notify_sock,
				r->listener, r->procfd, -2 };
	     *fd != -2; fd++)
		if (*fd >= 0)
			close(*fd);
	execid_free(r->execid);
	free(r->part);
	free(r->first_denied);
	free(r->error);
	free(r);
	return code;
}

// SPDX-License-Identifier: Apache-2.0
/* attach.c - `kubectl attach` under the plugin's own pty, recorded where the operator is. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fdio.h"
#include "common/xalloc.h"
#include "injector/kubectl/attach.h"
#include "injector/record/record.h"

#ifndef DHIDEBUG_VERSION
#define DHIDEBUG_VERSION "0.0.0"
#endif

char *kube_attach_default_dir(void)
{
	const char *x = getenv("XDG_STATE_HOME"), *home = getenv("HOME");

	if (geteuid() == 0)
		return xstrdup(RECORD_DIR);
	if (x && *x == '/')
		return xasprintf("%s/dhidebug/sessions", x);
	return xasprintf("%s/.local/state/dhidebug/sessions", home && *home ? home : "/nonexistent");
}

/* mkdir -p of the folders above the sessions folder (which record_open makes 0700 itself). */
static void make_parents(const char *dir)
{
	dhi_autofree char *p = xstrdup(dir);

	for (char *s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		mkdir(p, 0700);
		*s = '/';
	}
}

static void winsize_of(int fd, struct winsize *ws)
{
	if (ioctl(fd, TIOCGWINSZ, ws) < 0 || ws->ws_col == 0 || ws->ws_row == 0) {
		ws->ws_col = 80;
		ws->ws_row = 24;
	}
}

struct recorder *kube_record_open(const char *dir, const char *title, char id[40],
				  struct dhi_err **err)
{
	make_parents(dir);
	return record_open(dir, 80, 24, NULL, title, id, err);
}

static json_t *operator_fields(void);

json_t *kube_attach_operator(json_t *known)
{
	json_t *op = operator_fields();

	json_object_update_missing(op, known);
	return op;
}

static json_t *operator_fields(void)
{
	char host[256] = "";
	const char *sudo = getenv("SUDO_USER");
	char *tty = isatty(STDIN_FILENO) ? ttyname(STDIN_FILENO) : NULL;

	gethostname(host, sizeof(host) - 1);
	return json_pack("{s:I, s:s?, s:s, s:s?}", "uid", (json_int_t)getuid(), "sudo_user", sudo,
			 "host", host, "tty", tty);
}

static int open_pty(int *master, char **slave, struct dhi_err **err)
{
	char name[128];
	int fd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		return dhi_err_set(err, errno, "cannot open a pty");
	if (grantpt(fd) < 0 || unlockpt(fd) < 0 || ptsname_r(fd, name, sizeof(name)) != 0) {
		close(fd);
		return dhi_err_set(err, errno, "cannot set up the pty");
	}
	*master = fd;
	*slave = xstrdup(name);
	return 0;
}

/* In the child: the pty becomes the controlling terminal and stdio, then kubectl runs. */
static void __attribute__((noreturn)) child_exec(const char *slave, const struct winsize *ws,
						  char *const argv[])
{
	int fd;

	if (setsid() < 0)
		_exit(126);
	fd = open(slave, O_RDWR | O_CLOEXEC);
	if (fd < 0 || ioctl(fd, TIOCSCTTY, 0) < 0)
		_exit(126);
	ioctl(fd, TIOCSWINSZ, ws);
	if (dup2(fd, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
		_exit(126);
	if (fd > 2)
		close(fd);
	execvp(argv[0], argv);
	fprintf(stderr, "kubectl-dhidebug: cannot run `%s`: %s\n", argv[0], strerror(errno));
	_exit(127);
}

struct relay {
	struct recorder *rec;
	unsigned long long bytes_in, bytes_out;
	bool rec_failed;
};

static void rec_event(struct relay *r, char code, const char *data, size_t len)
{
	if (r->rec && !r->rec_failed && record_event(r->rec, code, data, len) < 0) {
		r->rec_failed = true;
		fprintf(stderr, "\r\nkubectl-dhidebug: writing the recording failed: %s\r\n",
			strerror(errno));
	}
}

/*
 * Takes the stop signals still pending when the session is over, so that
 * unblocking them does not kill us before the caller's cleanup; the first
 * becomes *stopped_by when none had come.
 */
static void take_stop_signals(int *stopped_by)
{
	static const struct timespec now = { 0, 0 };
	sigset_t stop;
	int s;

	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGHUP);
	sigaddset(&stop, SIGQUIT);
	while ((s = sigtimedwait(&stop, NULL, &now)) > 0)
		if (!*stopped_by)
			*stopped_by = s;
}

int kube_attach_recorded(char *const argv[], const char *dir, json_t *start, int *status,
			 int *stopped_by, struct dhi_err **err)
{
	json_t *target = start;
	struct relay r = { 0 };
	struct winsize ws = { 0 };
	struct termios saved, raw;
	bool is_tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
	dhi_autoclose int master = -1;
	dhi_autoclose int sfd = -1;
	dhi_autofree char *slave = NULL;
	sigset_t mask, old, none;
	char id[40] = "", buf[16384];
	bool in_open = true;
	struct timespec t0, t1;
	const char *reason = "exit";
	pid_t pid;
	int ws_status = 0;
	struct timespec kill_at = { 0 };
	bool killed = false, blocked = false, stopped;

	winsize_of(STDIN_FILENO, &ws);
	if (dir) {
		dhi_autofree char *title = xasprintf("kubectl dhidebug %s",
						     json_string_value(json_object_get(json_object_get(start, "target"), "name")) ?: "");
		const char *term = getenv("TERM");

		make_parents(dir);
		r.rec = record_open(dir, ws.ws_col, ws.ws_row, term ? term : "xterm", title, id, err);
		if (!r.rec) {
			json_decref(target);
			return dhi_err_prefix(err, "recording on this side");
		}
		json_object_set_new(start, "session", json_string(id));
		{
			/* the local fields, and what the caller knows (the Kubernetes user) */
			json_t *op = operator_fields();

			json_object_update_missing(op, json_object_get(start, "operator"));
			json_object_set_new(start, "operator", op);
		}
		json_object_set_new(start, "dhidebug", json_string(DHIDEBUG_VERSION));
		if (record_audit(r.rec, "session.start", start, true) < 0) {
			record_close(r.rec);
			return dhi_err_set(err, errno, "cannot write the audit log");
		}
		target = NULL;
		fprintf(stderr, "kubectl-dhidebug: recording session %s in %s\n", id, dir);
	}
	json_decref(target);
	if (open_pty(&master, &slave, err) < 0)
		goto fail;
	*stopped_by = 0;
	sigemptyset(&mask);
	sigaddset(&mask, SIGWINCH);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGQUIT);
	sigprocmask(SIG_BLOCK, &mask, &old);
	blocked = true;
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sfd < 0) {
		dhi_err_set(err, errno, "cannot create a signalfd");
		goto fail;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		dhi_err_set(err, errno, "cannot fork");
		goto fail;
	}
	if (pid == 0) {
		/* (the caller may block signals for its cleanup: kubectl gets none blocked) */
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		child_exec(slave, &ws, argv);
	}
	if (is_tty) {
		raw = saved;
		cfmakeraw(&raw);
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd p[3] = { { .fd = master, .events = POLLIN },
				       { .fd = sfd, .events = POLLIN },
				       { .fd = in_open ? STDIN_FILENO : -1, .events = POLLIN } };
		ssize_t n;
		int timeout = -1;

		if (*stopped_by && !killed) {
			struct timespec now;

			clock_gettime(CLOCK_MONOTONIC, &now);
			timeout = (int)((kill_at.tv_sec - now.tv_sec) * 1000 +
					(kill_at.tv_nsec - now.tv_nsec) / 1000000);
			if (timeout <= 0) {
				kill(-pid, SIGKILL);
				killed = true;
				timeout = -1;
			}
		}
		if (poll(p, 3, timeout) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) != sizeof(si)) {
				/* nothing */
			} else if (si.ssi_signo != SIGWINCH && si.ssi_signo != SIGCHLD) {
				/* stop: kubectl first, the relay when the pty closes */
				if (!*stopped_by) {
					*stopped_by = (int)si.ssi_signo;
					/* (its own session and process group: setsid in child_exec) */
					kill(-pid, SIGTERM);
					clock_gettime(CLOCK_MONOTONIC, &kill_at);
					kill_at.tv_sec += 5;
				}
			} else if (si.ssi_signo == SIGWINCH) {
				winsize_of(STDIN_FILENO, &ws);
				ioctl(master, TIOCSWINSZ, &ws);
				if (r.rec) {
					char sz[32];
					int k = snprintf(sz, sizeof(sz), "%dx%d", ws.ws_col, ws.ws_row);
					rec_event(&r, 'r', sz, (size_t)k);
				}
			}
		}
		if (p[2].revents & (POLLIN | POLLHUP | POLLERR)) {
			n = fd_read(STDIN_FILENO, buf, sizeof(buf));
			if (n <= 0) {
				/* no more input: a terminal's EOF reaches the session as ^D */
				in_open = false;
				if (!is_tty)
					(void)fd_write_all(master, "\004", 1);
			} else {
				r.bytes_in += (unsigned long long)n;
				if (fd_write_all(master, buf, (size_t)n) < 0)
					in_open = false;
			}
		}
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			n = fd_read(master, buf, sizeof(buf));
			if (n <= 0)
				break; /* EIO: every holder of the slave is gone */
			r.bytes_out += (unsigned long long)n;
			rec_event(&r, 'o', buf, (size_t)n);
			if (fd_write_all(STDOUT_FILENO, buf, (size_t)n) < 0)
				in_open = false;
		}
	}
	if (is_tty)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
	while (waitpid(pid, &ws_status, 0) < 0 && errno == EINTR)
		;
	stopped = *stopped_by != 0;
	take_stop_signals(stopped_by);
	sigprocmask(SIG_SETMASK, &old, NULL);
	blocked = false;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (stopped) {
		*status = 128 + *stopped_by;
		reason = "signal";
	} else if (WIFEXITED(ws_status)) {
		*status = WEXITSTATUS(ws_status);
	} else {
		*status = 128 + WTERMSIG(ws_status);
		reason = "signal";
	}
	if (r.rec) {
		double dur = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;

		record_audit(r.rec, "session.end",
			     json_pack("{s:i, s:f, s:I, s:I, s:s, s:s?}", "status", *status,
				       "duration", dur, "bytes_in", (json_int_t)r.bytes_in,
				       "bytes_out", (json_int_t)r.bytes_out, "reason", reason,
				       "signal", stopped ? sigabbrev_np(*stopped_by) : NULL),
			     true);
		record_close(r.rec);
		fprintf(stderr, "kubectl-dhidebug: session %s recorded in %s/%s\n", id, dir, id);
	}
	return 0;
fail:
	if (blocked)
		sigprocmask(SIG_SETMASK, &old, NULL);
	if (r.rec) {
		record_audit(r.rec, "session.end",
			     json_pack("{s:i, s:f, s:I, s:I, s:s}", "status", 125, "duration", 0.0,
				       "bytes_in", (json_int_t)0, "bytes_out", (json_int_t)0,
				       "reason", "error"),
			     true);
		record_close(r.rec);
	}
	return -1;
}

// SPDX-License-Identifier: Apache-2.0
/* replay.c - `dhidebug replay ID`: play session.cast in the terminal, as it was recorded. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fdio.h"
#include "common/xalloc.h"
#include "injector/record/sessions.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = sig;
}

void sessions_ts_add(struct timespec *t, double s)
{
	long long ns = (long long)(s * 1e9);

	t->tv_sec += ns / 1000000000LL;
	t->tv_nsec += ns % 1000000000LL;
	if (t->tv_nsec >= 1000000000L) {
		t->tv_sec++;
		t->tv_nsec -= 1000000000L;
	}
}

/* Sleeps until `at`; false when Ctrl-C came first. */
static bool sleep_until(const struct timespec *at)
{
	while (!stop) {
		int r = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, at, NULL);

		if (r == 0)
			return !stop;
		if (r != EINTR)
			return !stop;
	}
	return false;
}

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	/* \r\n: the terminal may be in the recording's raw-ish state */
	fprintf(stderr, "\r\n[dhidebug replay: %s]\r\n", s);
	free(s);
}

static void warn_if_invalid(int dirfd)
{
	struct dhi_err *err = NULL;
	struct session_check c;

	if (session_verify_at(dirfd, &c, &err) < 0) {
		dhi_err_clear(&err);
		return;
	}
	if (c.state == SESSION_INVALID)
		fprintf(stderr, "dhidebug: warning: this session does not verify: %s\n", c.problem);
	else if (c.state == SESSION_INCOMPLETE)
		fprintf(stderr, "dhidebug: note: this session is incomplete (no session.end)\n");
	session_check_free(&c);
}

static int header(FILE *f, double *idle, struct dhi_err **err)
{
	dhi_autofree char *line = NULL;
	size_t cap = 0;
	json_auto_t *h = NULL;
	struct winsize ws;
	json_int_t w, ht;

	if (getline(&line, &cap, f) < 0)
		return dhi_err_set(err, 0, "`session.cast` is empty");
	h = json_loads(line, 0, NULL);
	if (!json_is_object(h) || json_integer_value(json_object_get(h, "version")) != 2)
		return dhi_err_set(err, 0, "`session.cast` is not an asciicast v2 recording");
	if (*idle <= 0 && json_is_number(json_object_get(h, "idle_time_limit")))
		*idle = json_number_value(json_object_get(h, "idle_time_limit"));
	w = json_integer_value(json_object_get(h, "width"));
	ht = json_integer_value(json_object_get(h, "height"));
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && (ws.ws_col < w || ws.ws_row < ht))
		note("recorded at %" JSON_INTEGER_FORMAT "x%" JSON_INTEGER_FORMAT
		     ", this terminal is %ux%u: lines may wrap",
		     w, ht, ws.ws_col, ws.ws_row);
	return 0;
}

int sessions_replay_at(int dirfd, const struct sessions_opts *o, struct dhi_err **err)
{
	dhi_autofclose FILE *f = NULL;
	dhi_autofree char *line = NULL;
	struct sigaction sa = { .sa_handler = on_signal }, old_int, old_term;
	struct timespec at;
	double idle = o->idle_limit, speed = o->speed > 0 ? o->speed : 1, last = 0;
	size_t cap = 0, n = 1;
	ssize_t len;
	int fd = openat(dirfd, "session.cast", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	int status = 0;

	if (fd < 0)
		return dhi_err_set(err, errno, "cannot open `session.cast`");
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return dhi_err_set(err, errno, "cannot open `session.cast`");
	}
	warn_if_invalid(dirfd);
	if (header(f, &idle, err) < 0)
		return -1;

	/* no SA_RESTART: Ctrl-C must cut a sleep short */
	stop = 0;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	clock_gettime(CLOCK_MONOTONIC, &at);
	while (!stop && (len = getline(&line, &cap, f)) > 0) {
		/* (output may hold NULs: \u0000, which jansson refuses unless told) */
		json_auto_t *ev = json_loadb(line, (size_t)len, JSON_ALLOW_NUL, NULL);
		json_t *t = json_array_get(ev, 0);
		const char *code = json_string_value(json_array_get(ev, 1));
		json_t *data = json_array_get(ev, 2);
		double delay;

		n++;
		if (!json_is_number(t) || !code || !json_is_string(data)) {
			note("session.cast:%zu: not an event, skipped", n);
			continue;
		}
		delay = json_number_value(t) - last;
		last = json_number_value(t);
		if (delay < 0)
			delay = 0;
		if (idle > 0 && delay > idle)
			delay = idle;
		sessions_ts_add(&at, delay / speed);
		if (!sleep_until(&at))
			break;
		if (strcmp(code, "o") == 0) {
			if (fd_write_all(STDOUT_FILENO, json_string_value(data), json_string_length(data)) < 0) {
				status = dhi_err_set(err, errno, "cannot write to the terminal");
				break;
			}
		} else if (strcmp(code, "r") == 0) {
			note("the terminal was resized to %s", json_string_value(data));
		}
	}
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	if (stop) {
		/* leave the reviewer's terminal usable: attributes off, cursor shown */
		static const char reset[] = "\033[0m\033[?25h\r\n";

		(void)!write(STDOUT_FILENO, reset, sizeof(reset) - 1);
		fprintf(stderr, "dhidebug: replay stopped\n");
		return 128 + SIGINT;
	}
	return status;
}

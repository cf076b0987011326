// SPDX-License-Identifier: Apache-2.0
/* follow.c - `dhidebug sessions follow ID` and `replay --follow ID`: a live session's output and
 * audit records as they are written, read-only (docs/recording.md, "Following a live session"). */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fdio.h"
#include "common/xalloc.h"
#include "injector/record/sessions.h"

/* The longest line either file may have while we wait for its end (dhidebug writes both). */
#define PENDING_MAX ((size_t)64 << 20)
/* What one read takes of a file before its lines are shown (a fast writer never starves us). */
#define FILL_MAX ((size_t)1 << 20)
/* How often the supervisor's lock is looked at when nothing is written (SIGKILL writes nothing). */
#define WAIT_MS 250

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = sig;
}

/* The bytes of one file read so far and not yet used: `base` is the file offset of p[0]. */
struct tail {
	int fd;
	const char *name;
	char *p;
	size_t len, cap;
	uint64_t base;
};

struct follower {
	struct tail audit, cast;
	const char *id;
	ino_t audit_ino;
	bool header_seen;	/* session.cast's line 1 */
	bool at_bol;		/* the last output written ended a line */
	bool ended;		/* session.end or session.lost was read */
	const char *end_type;
	double t0;		/* the first record's time, for the offsets shown */
	/* replay --follow: the recorded pauses until the live end is reached */
	bool paced;
	double speed, idle, last;
	struct timespec at;
};

/*
 * Reads what was appended to the file since the last read, up to FILL_MAX bytes (pread: never
 * writes, never moves the fd's offset). Returns the bytes read, 0 at the end, or -1.
 */
static ssize_t tail_fill(struct tail *t, struct dhi_err **err)
{
	size_t got = 0;

	while (got < FILL_MAX) {
		ssize_t n;

		if (t->cap - t->len < 65536) {
			/* what is kept is one line not yet ended and what came after it */
			if (t->cap >= PENDING_MAX)
				return dhi_err_set(err, 0, "`%s`: a line longer than %zu MiB", t->name,
						   PENDING_MAX >> 20);
			t->cap = t->cap ? t->cap * 2 : 131072;
			t->p = xrealloc(t->p, t->cap);
		}
		n = pread(t->fd, t->p + t->len, t->cap - t->len - 1, (off_t)(t->base + t->len));
		if (n < 0 && errno == EINTR && !stop)
			continue;
		if (n < 0)
			return dhi_err_set(err, errno, "cannot read `%s`", t->name);
		if (n == 0)
			break;
		t->len += (size_t)n;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* Drops the first `n` bytes (a used line). */
static void tail_consume(struct tail *t, size_t n)
{
	memmove(t->p, t->p + n, t->len - n);
	t->len -= n;
	t->base += n;
}

/* replay --follow: waits the recorded pause before an event at `t` (s); false after Ctrl-C. */
static bool pace(struct follower *f, double t)
{
	double delay = t - f->last;
	struct timespec now;

	f->last = t;
	if (!f->paced)
		return !stop;
	if (delay < 0)
		delay = 0;
	if (f->idle > 0 && delay > f->idle)
		delay = f->idle;
	/* live events come in real time: never play one later than it arrived */
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (f->at.tv_sec < now.tv_sec || (f->at.tv_sec == now.tv_sec && f->at.tv_nsec < now.tv_nsec))
		f->at = now;
	sessions_ts_add(&f->at, delay / f->speed);
	while (!stop) {
		int r = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &f->at, NULL);

		if (r != EINTR)
			break;
	}
	return !stop;
}

/* A note on stderr on a line of its own (the output may have left the cursor mid-line). */
static void note(struct follower *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct follower *f, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s[dhidebug] %s\n", f->at_bol ? "" : "\n", s);
	f->at_bol = true;
	free(s);
}

/* One line of session.cast: "o" events to stdout, "r" as a note; "i" and "m" are not shown. */
static int cast_line(struct follower *f, const char *line, size_t len, struct dhi_err **err)
{
	json_auto_t *ev = NULL;
	json_t *data;
	const char *code;

	if (!f->header_seen) {
		f->header_seen = true;
		return 0;
	}
	/* (output may hold NULs: \u0000, which jansson refuses unless told) */
	ev = json_loadb(line, len, JSON_ALLOW_NUL, NULL);
	code = json_string_value(json_array_get(ev, 1));
	data = json_array_get(ev, 2);
	if (!json_is_number(json_array_get(ev, 0)) || !code || !json_is_string(data))
		return 0;
	if (!pace(f, json_number_value(json_array_get(ev, 0))))
		return 0;
	if (strcmp(code, "o") == 0 && json_string_length(data) > 0) {
		fflush(stderr);
		if (fd_write_all(STDOUT_FILENO, json_string_value(data), json_string_length(data)) < 0)
			return dhi_err_set(err, errno, "cannot write the output");
		f->at_bol = json_string_value(data)[json_string_length(data) - 1] == '\n';
	} else if (strcmp(code, "r") == 0) {
		note(f, "the terminal was resized to %s", json_string_value(data));
	}
	return 0;
}

/*
 * Shows the complete lines of session.cast that end at or before byte `upto`; with `fill`,
 * reads on until it has them all (or the file ends), else only what was read already.
 */
static int cast_upto(struct follower *f, uint64_t upto, bool fill, struct dhi_err **err)
{
	struct tail *t = &f->cast;
	char *nl;
	ssize_t r;

	for (;;) {
		while (!stop && (nl = memchr(t->p, '\n', t->len))) {
			size_t n = (size_t)(nl - t->p) + 1;

			if (t->base + n > upto)
				return 0;
			if (cast_line(f, t->p, n - 1, err) < 0)
				return -1;
			tail_consume(t, n);
		}
		if (!fill || stop || t->base + t->len >= upto)
			return 0;
		r = tail_fill(t, err);
		if (r <= 0)
			return (int)r;
	}
}

/* One audit record: the output it covers first, then the record as `sessions show` prints it. */
static int audit_line(struct follower *f, const char *line, size_t len, struct dhi_err **err)
{
	json_auto_t *rec = json_loadb(line, len, 0, NULL);
	json_t *cb = json_object_get(rec, "cast_bytes");
	const char *type = json_string_value(json_object_get(rec, "type"));
	char *text = NULL;
	size_t tlen = 0;
	FILE *m;

	if (!json_is_object(rec)) {
		note(f, "audit.jsonl: a line that is not a JSON object (see `sessions verify`)");
		return 0;
	}
	if (json_is_integer(cb) && json_integer_value(cb) > 0 &&
	    cast_upto(f, (uint64_t)json_integer_value(cb), true, err) < 0)
		return -1;
	if (f->t0 < 0)
		f->t0 = sessions_record_time(rec);
	m = open_memstream(&text, &tlen);
	if (!m)
		return dhi_err_set(err, errno, "cannot show a record");
	sessions_show_record(rec, f->t0, m);
	fclose(m);
	while (tlen > 0 && text[tlen - 1] == '\n')
		text[--tlen] = '\0';
	note(f, "%s", text);
	free(text);
	if (type && (strcmp(type, "session.end") == 0 || strcmp(type, "session.lost") == 0)) {
		f->ended = true;
		f->end_type = strcmp(type, "session.end") == 0 ? "session.end" : "session.lost";
	}
	return 0;
}

/*
 * Reads what both files gained (up to FILL_MAX each) and shows it in order, each record after
 * the output it covers. Returns 1 when there may be more to read at once, 0 when both files
 * were read to their end, -1 on error.
 */
static int step(struct follower *f, struct dhi_err **err)
{
	ssize_t a, c;
	char *nl;

	/* the audit first: the output a record covers was written before it */
	a = tail_fill(&f->audit, err);
	if (a < 0)
		return -1;
	while (!stop && !f->ended && (nl = memchr(f->audit.p, '\n', f->audit.len))) {
		size_t n = (size_t)(nl - f->audit.p) + 1;

		if (audit_line(f, f->audit.p, n - 1, err) < 0)
			return -1;
		tail_consume(&f->audit, n);
	}
	c = tail_fill(&f->cast, err);
	if (c < 0 || cast_upto(f, UINT64_MAX, false, err) < 0)
		return -1;
	return (size_t)a == FILL_MAX || (size_t)c == FILL_MAX;
}

/*
 * Whether the supervisor still holds its flock on audit.jsonl, read from /proc/locks: taking
 * the lock ourselves, even shared and for an instant, could make a starting supervisor's
 * LOCK_EX|LOCK_NB fail. Matched by inode number alone (btrfs shows another device there than
 * stat does); a lock on another file system's file of the same number keeps us waiting,
 * never ends us early.
 */
static bool supervisor_alive(const struct follower *f)
{
	dhi_autofclose FILE *locks = fopen("/proc/locks", "re");
	dhi_autofree char *line = NULL;
	size_t cap = 0;

	if (!locks)
		return true;
	while (getline(&line, &cap, locks) > 0) {
		char *save = NULL, *tok[9];
		int n = 0;

		for (char *w = strtok_r(line, " \t\n", &save); w && n < 9; w = strtok_r(NULL, " \t\n", &save))
			if (strcmp(w, "->") != 0)
				tok[n++] = w;
		/* "1: FLOCK ADVISORY WRITE PID MAJ:MIN:INODE START END" (a waiter has "->" first) */
		if (n >= 6 && strcmp(tok[1], "FLOCK") == 0 && strcmp(tok[3], "WRITE") == 0) {
			const char *ino = strrchr(tok[5], ':');

			if (ino && strtoull(ino + 1, NULL, 10) == (unsigned long long)f->audit_ino)
				return true;
		}
	}
	return false;
}

static int watch_fd(int in, int fd)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return inotify_add_watch(in, path, IN_MODIFY | IN_CLOSE_WRITE);
}

/* Sleeps until a file is written or closed by its writer, or WAIT_MS passed. */
static void wait_change(int in)
{
	struct pollfd p = { .fd = in, .events = POLLIN };
	char buf[4096];

	if (in < 0) {
		struct timespec ts = { 0, 100 * 1000000L };

		nanosleep(&ts, NULL);
		return;
	}
	if (poll(&p, 1, WAIT_MS) > 0)
		while (read(in, buf, sizeof(buf)) > 0)
			;
}

static void print_end(struct follower *f, int dirfd, int *status)
{
	struct dhi_err *e = NULL;
	struct session_check c;
	char *text = NULL;
	size_t tlen = 0;
	FILE *m;

	if (!f->ended)
		note(f, "%s: the supervisor is gone and wrote no session.end (killed or crashed)", f->id);
	if (session_verify_at(dirfd, &c, &e) < 0) {
		char *why = dhi_err_string(e);

		note(f, "%s: cannot verify: %s", f->id, why);
		free(why);
		dhi_err_clear(&e);
		*status = 1;
		return;
	}
	m = open_memstream(&text, &tlen);
	if (m) {
		sessions_print_check(f->id, &c, m);
		fclose(m);
		while (tlen > 0 && text[tlen - 1] == '\n')
			text[--tlen] = '\0';
		note(f, "%s", text);
		free(text);
	}
	if (c.state == SESSION_INVALID)
		*status = 1;
	session_check_free(&c);
}

int sessions_follow_at(int dirfd, const char *id, const struct sessions_opts *o,
		       struct dhi_err **err)
{
	dhi_autoclose int audit = openat(dirfd, "audit.jsonl", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	dhi_autoclose int cast = openat(dirfd, "session.cast", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	dhi_autoclose int in = -1;
	struct follower f = {
		.audit = { .fd = audit, .name = "audit.jsonl" },
		.cast = { .fd = cast, .name = "session.cast" },
		.id = id, .at_bol = true, .t0 = -1, .paced = o->verb == SESSIONS_REPLAY,
		.speed = o->speed > 0 ? o->speed : 1, .idle = o->idle_limit,
	};
	struct sigaction sa = { .sa_handler = on_signal }, old_int, old_term;
	struct stat st;
	int status = 0;

	if (audit < 0)
		return dhi_err_set(err, errno, "cannot open `audit.jsonl`");
	if (cast < 0)
		return dhi_err_set(err, errno, "cannot open `session.cast`");
	if (fstat(audit, &st) < 0)
		return dhi_err_set(err, errno, "cannot stat `audit.jsonl`");
	f.audit_ino = st.st_ino;
	/* inotify where there is one; a short poll otherwise */
	in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (in >= 0 && (watch_fd(in, audit) < 0 || watch_fd(in, cast) < 0))
		dhi_close_reset(&in);
	clock_gettime(CLOCK_MONOTONIC, &f.at);

	/* no SA_RESTART: Ctrl-C must cut a wait short */
	stop = 0;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	while (!stop) {
		int more = step(&f, err);

		if (more < 0) {
			status = -1;
			break;
		}
		if (f.ended || stop)
			break;
		if (more)
			continue;
		if (!supervisor_alive(&f)) {
			/* what it wrote before it let go of the lock */
			while ((more = step(&f, err)) > 0 && !f.ended && !stop)
				;
			if (more < 0)
				status = -1;
			break;
		}
		wait_change(in);
	}
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	free(f.audit.p);
	free(f.cast.p);
	if (stop) {
		static const char reset[] = "\033[0m\033[?25h\r\n";

		(void)!write(STDOUT_FILENO, reset, sizeof(reset) - 1);
		fprintf(stderr, "dhidebug: follow stopped\n");
		return 128 + SIGINT;
	}
	if (status < 0)
		return -1;
	print_end(&f, dirfd, &status);
	return status;
}

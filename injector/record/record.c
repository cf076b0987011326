// SPDX-License-Identifier: Apache-2.0
/* record.c - write session.cast and the hash-chained audit.jsonl as the session runs. */
#include "injector/record/record.h"

#include <dirent.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fdio.h"
#include "common/xalloc.h"
#include "injector/record/redact.h"
#include "injector/record/ring.h"

/*
 * Sessions not yet ended have a marker <sessions>/.open/<id>; while their
 * supervisor lives it holds an flock on their audit.jsonl. The next recording
 * to start finds the markers whose lock is free: a supervisor that died
 * (SIGKILL, a crash), whose audit then gets a closing session.lost record.
 */
#define OPEN_DIR ".open"
#define LOST_SCAN_MAX 64	/* markers looked at per start */
#define LOST_AUDIT_MAX (256u << 20)

struct recorder {
	int dirfd;
	int topfd;		/* the sessions folder, for our .open marker */
	int cast;		/* session.cast */
	int audit;		/* audit.jsonl */
	struct dhi_sha256 cast_md;	/* running SHA-256 of everything written to session.cast */
	uint64_t cast_bytes;
	char prev[65];		/* SHA-256 of the last audit line */
	uint64_t seq;
	struct timespec start;
	unsigned char carry[4];	/* an incomplete UTF-8 sequence from the last 'o' chunk */
	char id[40];
	unsigned char *in;	/* scratch buffers kept between events */
	char *line;
	size_t in_cap, line_cap;
	size_t ncarry;
	/* redaction: output waits here until its line ends, then goes through the patterns */
	const struct redact_set *redact;
	struct redact_state redact_st;
	char *pend;
	size_t pend_len, pend_cap;
	double pend_t;		/* when the first byte waiting came */
	bool flushing;
	/*
	 * The writer thread: events go to it through `q` and it escapes, redacts,
	 * digests and writes them, so the relay drains the session's output while
	 * the recording is written. Started at the first event. Between a peek and
	 * its pop it alone touches the state above; record_audit() drains the
	 * queue first, so records and events keep their order.
	 */
	struct rec_ring q;
	pthread_t writer;
	bool writer_on;
	bool no_writer;		/* none could start: events are written as they come */
	atomic_bool failed;	/* a write of the writer thread failed: the recording is over */
	atomic_int failed_errno;
	uint64_t synced_to;	/* session.cast's writeback was started up to here */
	uint64_t dropped_to;	/* and its page cache let go up to here */
};

/* Slots of the writer's queue: at most this many relay reads wait to be written. */
#define WRITER_SLOTS 8
/* session.cast's writeback is started every this many bytes, so session.end's fsync has little left */
#define WRITEBACK_STEP (2u << 20)
#define WRITEBACK_LAG 3

/* A line without its end is still written once this much of it waits (a match across it is missed). */
#define REDACT_PENDING_MAX 65536

void record_sha256_hex(const void *buf, size_t len, char out[65])
{
	unsigned char md[32];

	dhi_sha256(buf, len, md);
	dhi_sha256_hex(md, out);
}

void record_sha256_so_far(const struct dhi_sha256 *h, char out[65])
{
	unsigned char md[32];

	dhi_sha256_peek(h, md);
	dhi_sha256_hex(md, out);
}

double record_elapsed(const struct recorder *r)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - r->start.tv_sec) +
	       (double)(now.tv_nsec - r->start.tv_nsec) / 1e9;
}

/*
 * In the writer thread, every WRITEBACK_STEP bytes of session.cast: start
 * writing them to disk (SYNC_FILE_RANGE_WRITE does not wait for the writes),
 * and let go of the page cache of what was started WRITEBACK_LAG steps before
 * (POSIX_FADV_DONTNEED drops the pages already written, and waits for none).
 * The fsync with session.end still makes the whole file durable: it only finds
 * most of it written already. And a recording of a session's 100 MB keeps a
 * few MB of the page cache, not 100 MB of it taken from the host's workload;
 * the pages it lets go are the ones it takes next, where new ones cost more
 * (on a VM, a page new to the guest may be a fault in the hypervisor).
 */
static void writeback(struct recorder *r)
{
	const uint64_t lag = WRITEBACK_LAG * WRITEBACK_STEP;
	uint64_t drop = r->synced_to >= lag ? r->synced_to - lag : 0;

	(void)sync_file_range(r->cast, (off64_t)r->synced_to, (off64_t)(r->cast_bytes - r->synced_to),
			      SYNC_FILE_RANGE_WRITE);
	r->synced_to = r->cast_bytes;
	if (drop > r->dropped_to) {
		(void)posix_fadvise(r->cast, (off_t)r->dropped_to, (off_t)(drop - r->dropped_to),
				    POSIX_FADV_DONTNEED);
		r->dropped_to = drop;
	}
}

/* Everything that goes into session.cast goes through here: written, and digested. */
static int cast_write(struct recorder *r, const char *buf, size_t len)
{
	if (fd_write_all(r->cast, buf, len) < 0)
		return -1;
	dhi_sha256_update(&r->cast_md, buf, len);
	r->cast_bytes += len;
	if (r->writer_on && r->cast_bytes - r->synced_to >= WRITEBACK_STEP &&
	    pthread_equal(pthread_self(), r->writer))
		writeback(r);
	return 0;
}

/* Length of a valid UTF-8 sequence at p (1-4), 0 when invalid, -1 when cut short. */
static int utf8_len(const unsigned char *p, size_t avail)
{
	int n;

	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xe0) == 0xc0 && p[0] >= 0xc2)
		n = 2;
	else if ((p[0] & 0xf0) == 0xe0)
		n = 3;
	else if ((p[0] & 0xf8) == 0xf0 && p[0] <= 0xf4)
		n = 4;
	else
		return 0;
	for (int i = 1; i < n; i++) {
		if ((size_t)i >= avail)
			return -1;
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	}
	return n;
}

/* Printable ASCII that needs no escaping: the bulk of any terminal output. */
static inline bool plain(unsigned char c)
{
	return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

#ifdef __SSE2__
/*
 * Sixteen bytes of `d` at a time (SSE2 is x86-64's baseline): the bit per
 * byte of those that plain() refuses, but for '\n', and of the '\n' in *nl.
 */
static inline unsigned hard16(const unsigned char *d, unsigned *nl)
{
	__m128i x = _mm_loadu_si128((const __m128i *)d);
	__m128i lf = _mm_cmpeq_epi8(x, _mm_set1_epi8('\n'));
	__m128i ctl = _mm_cmpeq_epi8(_mm_max_epu8(x, _mm_set1_epi8(0x1f)), _mm_set1_epi8(0x1f));
	__m128i top = _mm_cmpeq_epi8(_mm_max_epu8(x, _mm_set1_epi8(0x7f)), x);
	__m128i q = _mm_cmpeq_epi8(x, _mm_set1_epi8('"'));
	__m128i b = _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'));

	*nl = (unsigned)_mm_movemask_epi8(lf);
	return (unsigned)_mm_movemask_epi8(
		_mm_or_si128(_mm_or_si128(_mm_andnot_si128(lf, ctl), top), _mm_or_si128(q, b)));
}
#endif

/* One byte (or UTF-8 sequence) at d[*i] into out + *o. */
static void escape_one(const unsigned char *d, size_t len, size_t *i, char *out, size_t *o)
{
	unsigned char c = d[*i];
	int n;

	if (plain(c)) {
		out[(*o)++] = (char)c;
		(*i)++;
		return;
	}
	/* the commonest of the rest, before any UTF-8 decoding */
	if (c == '\n') {
		memcpy(out + *o, "\\n", 2);
		*o += 2;
		(*i)++;
		return;
	}
	n = utf8_len(d + *i, len - *i);
	if (n <= 0) {
		/* invalid (or, at the very end, cut short: the caller kept those back) */
		memcpy(out + *o, "\xef\xbf\xbd", 3);
		*o += 3;
		(*i)++;
		return;
	}
	if (n > 1) {
		memcpy(out + *o, d + *i, (size_t)n);
		*o += (size_t)n;
		*i += (size_t)n;
		return;
	}
	if (c == '"' || c == '\\') {
		out[(*o)++] = '\\';
		out[(*o)++] = (char)c;
	} else if (c == '\r') {
		memcpy(out + *o, "\\r", 2);
		*o += 2;
	} else {
		/* the other controls and DEL (plain() took the rest of ASCII) */
		*o += (size_t)sprintf(out + *o, "\\u%04x", c);
	}
	(*i)++;
}

size_t record_json_escape(const unsigned char *d, size_t len, char *out)
{
	size_t o = 0, i = 0;

	while (i < len) {
#ifdef __SSE2__
		/*
		 * Plain text and line ends, the bulk of any output, 16 bytes at a time:
		 * each piece between line ends is copied as 16 bytes, and the output
		 * advanced by the piece only (the loads stay within `d`, as i + 32 <=
		 * len; the stores within `out`, which has 6 bytes for each of `d`'s).
		 */
		for (; i + 32 <= len; i += 16) {
			unsigned nl, pos = 0;

			if (hard16(d + i, &nl))
				break;
			for (; nl; nl &= nl - 1) {
				unsigned k = (unsigned)__builtin_ctz(nl);

				memcpy(out + o, d + i + pos, 16);
				o += k - pos;
				memcpy(out + o, "\\n", 2);
				o += 2;
				pos = k + 1;
			}
			memcpy(out + o, d + i + pos, 16);
			o += 16 - pos;
		}
		/* a block with something else: byte by byte up to and with its first such byte */
		if (i + 32 <= len) {
			unsigned nl;
			size_t stop = i + (size_t)__builtin_ctz(hard16(d + i, &nl)) + 1;

			while (i < stop)
				escape_one(d, len, &i, out, &o);
			continue;
		}
#endif
		escape_one(d, len, &i, out, &o);
	}
	return o;
}

static void *grow(void *p, size_t *cap, size_t want)
{
	if (want <= *cap)
		return p;
	*cap = want > 2 * *cap ? want : 2 * *cap;
	return xrealloc(p, *cap);
}

static int event_write(struct recorder *r, double t, char code, const char *data, size_t len)
{
	unsigned char *in;
	size_t n = 0, keep = 0;
	char *line;
	int pre;

	if (!r)
		return 0;
	in = r->in = grow(r->in, &r->in_cap, len + sizeof(r->carry));
	/* output arrives in arbitrary chunks: a UTF-8 sequence cut in two waits for its end */
	if (code == 'o' || code == 'i') {
		memcpy(in, r->carry, r->ncarry);
		n = r->ncarry;
		r->ncarry = 0;
	}
	memcpy(in + n, data, len);
	n += len;
	if (code == 'o' || code == 'i') {
		for (size_t back = 1; back <= 3 && back <= n; back++) {
			int l = utf8_len(in + n - back, back);

			if (l == -1) {
				keep = back;
				break;
			}
			if (l != 0 || in[n - back] < 0x80)
				break;
		}
		memcpy(r->carry, in + n - keep, keep);
		r->ncarry = keep;
		n -= keep;
		if (n == 0)
			return 0;
	}
	line = r->line = grow(r->line, &r->line_cap, n * 6 + 64);
	pre = snprintf(line, 64, "[%.6f, \"%c\", \"", t, code);
	n = (size_t)pre + record_json_escape(in, n, line + pre);
	memcpy(line + n, "\"]\n", 3);
	return cast_write(r, line, n + 3);
}

static int audit_write(struct recorder *r, const char *type, json_t *fields, bool sync);

/*
 * Writes the first `len` bytes waiting (whole lines, or all of it) through the
 * redaction patterns as one "o" event, then a `redact` record for each
 * pattern that replaced something, with the event's offset in session.cast.
 * `now` is when the output that made it flush came (what still waits is
 * timed from then).
 */
static int redact_flush(struct recorder *r, size_t len, double now)
{
	unsigned counts[REDACT_MAX] = { 0 };
	uint64_t at = r->cast_bytes;
	size_t n;
	char *text;
	int ret;

	if (len == 0)
		return 0;
	text = redact_apply(r->redact, &r->redact_st, r->pend, len, &n, counts);
	memmove(r->pend, r->pend + len, r->pend_len - len);
	r->pend_len -= len;
	ret = n ? event_write(r, r->pend_t, 'o', text, n) : 0;
	free(text);
	r->pend_t = now;
	r->flushing = true;
	for (int i = 0; i < r->redact->n && ret == 0; i++)
		if (counts[i])
			ret = audit_write(r, "redact",
					  json_pack("{s:s, s:i, s:I}", "pattern", r->redact->p[i].name, "count",
						    (int)counts[i], "cast_offset", (json_int_t)at),
					  false);
	r->flushing = false;
	return ret;
}

void record_set_redact(struct recorder *r, const struct redact_set *s)
{
	if (r)
		r->redact = s && s->n ? s : NULL;
}

/* One event that came at `t`: written, or (output under redaction) kept until its line ends. */
static int event_take(struct recorder *r, double t, char code, const char *data, size_t len)
{
	const char *nl;

	if (!r->redact)
		return event_write(r, t, code, data, len);
	/* whatever waits goes before any other event */
	if (code != 'o')
		return redact_flush(r, r->pend_len, t) < 0 ? -1 : event_write(r, t, code, data, len);
	if (r->pend_len == 0)
		r->pend_t = t;
	if (r->pend_len + len > r->pend_cap) {
		r->pend_cap = (r->pend_len + len) * 2;
		r->pend = xrealloc(r->pend, r->pend_cap);
	}
	memcpy(r->pend + r->pend_len, data, len);
	r->pend_len += len;
	if (r->pend_len >= REDACT_PENDING_MAX)
		return redact_flush(r, r->pend_len, t);
	nl = memrchr(r->pend, '\n', r->pend_len);
	return nl ? redact_flush(r, (size_t)(nl - r->pend) + 1, t) : 0;
}

static void *writer_main(void *arg)
{
	struct recorder *r = arg;
	const struct rec_chunk *c;

	while ((c = rec_ring_peek(&r->q))) {
		/* after a failure the rest is not recorded (the relay hears of it at its next call) */
		if (!atomic_load(&r->failed) &&
		    event_take(r, c->t, c->code, (const char *)c->data, c->len) < 0) {
			atomic_store(&r->failed_errno, errno);
			atomic_store(&r->failed, true);
		}
		rec_ring_pop(&r->q);
	}
	return NULL;
}

/* The writer thread, with every signal blocked (they are the relay's signalfd's); false: none. */
static bool writer_start(struct recorder *r)
{
	sigset_t all, old;
	int rc;

	if (rec_ring_init(&r->q, WRITER_SLOTS) < 0)
		return false;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&r->writer, NULL, writer_main, r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		rec_ring_free(&r->q);
		return false;
	}
	r->writer_on = true;
	return true;
}

/* Whether the writer thread failed (errno set to its error). */
static bool writer_failed(struct recorder *r)
{
	if (!atomic_load(&r->failed))
		return false;
	errno = atomic_load(&r->failed_errno);
	return true;
}

int record_event(struct recorder *r, char code, const char *data, size_t len)
{
	double t;

	if (!r)
		return 0;
	t = record_elapsed(r);
	if (writer_failed(r))
		return -1;
	/* without a thread (none could start) the events are written here, as they come */
	if (!r->writer_on && (r->no_writer || !writer_start(r))) {
		r->no_writer = true;
		return event_take(r, t, code, data, len);
	}
	rec_ring_push(&r->q, code, t, data, len);
	return 0;
}

static void utc_now(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	char date[20];

	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%06dZ", date, (int)(ts.tv_nsec / 1000) % 1000000);
}

/* One audit line (without its newline): seq, time, type, `fields` (consumed), the chain. */
static char *audit_line(uint64_t seq, const char *type, json_t *fields, const char *prev,
			uint64_t cast_bytes, const char *cast_hex)
{
	char now[48];
	json_t *rec;
	char *text;

	utc_now(now, sizeof(now));
	rec = json_pack("{s:I, s:s, s:s}", "seq", (json_int_t)seq, "time", now, "type", type);
	if (fields) {
		json_object_update(rec, fields);
		json_decref(fields);
	}
	json_object_set_new(rec, "prev", json_string(prev));
	json_object_set_new(rec, "cast_bytes", json_integer((json_int_t)cast_bytes));
	json_object_set_new(rec, "cast_sha256", json_string(cast_hex));
	text = json_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(rec);
	if (!text)
		abort();
	return text;
}

int record_audit(struct recorder *r, const char *type, json_t *fields, bool sync)
{
	if (!r) {
		json_decref(fields);
		return 0;
	}
	/* every event before the record is written first: the record covers them */
	if (r->writer_on)
		rec_ring_drain(&r->q);
	if (writer_failed(r)) {
		json_decref(fields);
		return -1;
	}
	return audit_write(r, type, fields, sync);
}

static int audit_write(struct recorder *r, const char *type, json_t *fields, bool sync)
{
	char cast_hex[65];
	char *text;
	int ret = 0;

	/* a record covers all the output before it, the part of a line still waiting too */
	if (r->redact && !r->flushing && redact_flush(r, r->pend_len, record_elapsed(r)) < 0)
		ret = -1;
	record_sha256_so_far(&r->cast_md, cast_hex);
	text = audit_line(r->seq, type, fields, r->prev, r->cast_bytes, cast_hex);
	record_sha256_hex(text, strlen(text), r->prev);
	{
		size_t n = strlen(text);
		char *line = xmalloc(n + 2);

		memcpy(line, text, n);
		line[n] = '\n';
		if (fd_write_all(r->audit, line, n + 1) < 0)
			ret = -1;
		free(line);
	}
	free(text);
	r->seq++;
	if (sync && ret == 0 && (fsync(r->audit) < 0 || fsync(r->cast) < 0))
		ret = -1;
	return ret;
}

int record_sync_audit(struct recorder *r)
{
	return r && fsync(r->audit) < 0 ? -1 : 0;
}

static int create_file(int dirfd, const char *name, struct dhi_err **err)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_NOFOLLOW | O_CLOEXEC,
			0600);

	if (fd < 0)
		return dhi_err_set(err, errno, "cannot create `%s`", name);
	return fd;
}

/* SHA-256 and size of the whole file `fd`; -1 on a read error. */
static int hash_file(int fd, char hex_out[65], uint64_t *size)
{
	struct dhi_sha256 h;
	unsigned char buf[65536], md[32];
	ssize_t n;

	*size = 0;
	dhi_sha256_init(&h);
	while ((n = fd_read(fd, buf, sizeof(buf))) > 0) {
		dhi_sha256_update(&h, buf, (size_t)n);
		*size += (uint64_t)n;
	}
	dhi_sha256_final(&h, md);
	dhi_sha256_hex(md, hex_out);
	return n < 0 ? -1 : 0;
}

/*
 * Session `name` under `top`, marked open: 1 when its supervisor still holds
 * its lock (leave the marker), 0 when it needs no more (ended, gone, or now
 * closed with a session.lost record naming `by`).
 */
static int close_lost(int top, const char *name, const char *by)
{
	dhi_autoclose int dir = -1, audit = -1, cast = -1;
	dhi_autofree char *buf = NULL, *line = NULL, *text = NULL;
	char prev[65], cast_hex[65];
	uint64_t cast_bytes;
	const char *last, *type;
	struct dhi_err *err = NULL;
	json_error_t jerr;
	json_t *rec;
	json_int_t seq;
	size_t len, ll;

	dir = openat(top, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dir < 0)
		return 0;
	audit = openat(dir, "audit.jsonl", O_RDWR | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
	if (audit < 0)
		return 0;
	if (flock(audit, LOCK_EX | LOCK_NB) < 0)
		return errno == EWOULDBLOCK ? 1 : 0;
	if (fd_read_file(audit, LOST_AUDIT_MAX, &buf, &len, &err) < 0 || len == 0 ||
	    buf[len - 1] != '\n') {
		/* unreadable, empty, or cut in the middle of a line: nothing can follow it */
		dhi_err_clear(&err);
		return 0;
	}
	buf[len - 1] = '\0';
	last = strrchr(buf, '\n');
	last = last ? last + 1 : buf;
	ll = strlen(last);
	rec = json_loadb(last, ll, 0, &jerr);
	type = json_string_value(json_object_get(rec, "type"));
	seq = json_integer_value(json_object_get(rec, "seq"));
	if (!type || strcmp(type, "session.end") == 0 || strcmp(type, "session.lost") == 0 ||
	    seq < 0) {
		json_decref(rec);
		return 0;
	}
	json_decref(rec);
	record_sha256_hex(last, ll, prev);
	cast = openat(dir, "session.cast", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (cast < 0 || hash_file(cast, cast_hex, &cast_bytes) < 0)
		return 0;
	text = audit_line((uint64_t)seq + 1, "session.lost",
			  json_pack("{s:s, s:s}", "reason",
				    "the supervisor ended without closing the session (killed or "
				    "crashed)",
				    "detected_by", by),
			  prev, cast_bytes, cast_hex);
	line = xasprintf("%s\n", text);
	(void)!fd_write_all(audit, line, strlen(line));
	(void)fsync(audit);
	return 0;
}

/* Closes the audit of every marked session whose supervisor is gone; unmarks the ended ones. */
static void close_lost_sessions(int top, const char *by)
{
	dhi_autoclose int open_dir = openat(top, OPEN_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
							   O_CLOEXEC);
	int scanned = 0;
	struct dirent *e;
	DIR *d;

	if (open_dir < 0)
		return;
	d = fdopendir(dup(open_dir));
	if (!d)
		return;
	while ((e = readdir(d)) && scanned < LOST_SCAN_MAX) {
		if (e->d_name[0] == '.' || strlen(e->d_name) >= 40 ||
		    strspn(e->d_name, "0123456789TZabcdef-") != strlen(e->d_name))
			continue;
		scanned++;
		if (close_lost(top, e->d_name, by) == 0)
			(void)unlinkat(open_dir, e->d_name, 0);
	}
	closedir(d);
}

struct recorder *record_open(const char *dir, int width, int height, const char *term,
			     const char *title, char id[40], struct dhi_err **err)
{
	dhi_autoclose int top = fd_open_private_dir(dir);
	struct recorder *r;
	uint32_t rnd = 0;
	time_t now = time(NULL);
	struct tm tm;
	json_t *hdr;
	char *text;

	if (top < 0) {
		dhi_err_set(err, errno,
			    "cannot use the sessions folder `%s` (it must be root's, mode 0700)", dir);
		return NULL;
	}
	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		rnd = (uint32_t)getpid() ^ (uint32_t)now;
	gmtime_r(&now, &tm);
	{
		char date[24];

		strftime(date, sizeof(date), "%Y%m%dT%H%M%SZ", &tm);
		snprintf(id, 40, "%s-%08x", date, rnd);
	}
	if (mkdirat(top, id, 0700) < 0) {
		dhi_err_set(err, errno, "cannot create session folder `%s/%s`", dir, id);
		return NULL;
	}
	close_lost_sessions(top, id);
	r = xzalloc(sizeof(*r));
	r->cast = r->audit = -1;
	r->topfd = -1;
	snprintf(r->id, sizeof(r->id), "%s", id);
	r->dirfd = openat(top, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (r->dirfd < 0 || (r->cast = create_file(r->dirfd, "session.cast", err)) < 0 ||
	    (r->audit = create_file(r->dirfd, "audit.jsonl", err)) < 0) {
		if (r->dirfd < 0)
			dhi_err_set(err, errno, "cannot open session folder `%s`", id);
		record_close(r);
		return NULL;
	}
	/* held while we live: a free lock on a marked session means its supervisor died */
	if (flock(r->audit, LOCK_EX | LOCK_NB) < 0) {
		dhi_err_set(err, errno, "cannot lock `%s/audit.jsonl`", id);
		record_close(r);
		return NULL;
	}
	(void)mkdirat(top, OPEN_DIR, 0700);
	{
		dhi_autoclose int od = openat(top, OPEN_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
							 O_CLOEXEC);
		int m = od < 0 ? -1 : openat(od, id, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
							     O_CLOEXEC, 0600);

		if (m >= 0) {
			close(m);
			r->topfd = dup(top);
		}
	}
	dhi_sha256_init(&r->cast_md);
	memset(r->prev, '0', 64);
	r->prev[64] = '\0';
	clock_gettime(CLOCK_MONOTONIC, &r->start);

	hdr = json_pack("{s:i, s:i, s:i, s:I, s:{s:s?, s:s}, s:s}", "version", 2, "width", width,
			"height", height, "timestamp", (json_int_t)now, "env", "TERM", term,
			"SHELL", "dhish", "title", title);
	text = json_dumps(hdr, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(hdr);
	if (!text || cast_write(r, text, strlen(text)) < 0 || cast_write(r, "\n", 1) < 0) {
		free(text);
		dhi_err_set(err, errno, "cannot write the recording");
		record_close(r);
		return NULL;
	}
	free(text);
	return r;
}

int record_dirfd(const struct recorder *r)
{
	return r->dirfd;
}

const char *record_id(const struct recorder *r)
{
	return r->id;
}

void record_close(struct recorder *r)
{
	if (!r)
		return;
	/* what is still queued is written before the files close */
	if (r->writer_on) {
		rec_ring_close(&r->q);
		pthread_join(r->writer, NULL);
		rec_ring_free(&r->q);
		r->writer_on = false;
	}
	/* ended on our own terms (or failed before starting): not lost */
	if (r->topfd >= 0) {
		char path[64];

		snprintf(path, sizeof(path), OPEN_DIR "/%s", r->id);
		(void)unlinkat(r->topfd, path, 0);
		dhi_close_reset(&r->topfd);
	}
	dhi_close_reset(&r->cast);
	dhi_close_reset(&r->audit);
	dhi_close_reset(&r->dirfd);
	free(r->in);
	free(r->line);
	free(r->pend);
	free(r);
}

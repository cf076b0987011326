// SPDX-License-Identifier: Apache-2.0
/*
 * test_record.c - the recorder's writer path: the chunk queue between the relay
 * and the writer thread (order, backpressure, end of stream), the JSON escaping
 * of session.cast against a byte-by-byte reference, and a recording written
 * through the thread (events and records in order, nothing lost at the close).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "injector/record/record.h"
#include "injector/record/ring.h"
#include "tests/unit/testutil.h"

/* --- the queue ------------------------------------------------------------------------------ */

struct consumer {
	struct rec_ring *q;
	unsigned n;		/* chunks seen */
	unsigned bad;		/* chunks out of order or changed */
};

/* Chunk `k`: its code, time and bytes, so that the consumer can check each one. */
static size_t chunk_of(unsigned k, unsigned char *buf, char *code, double *t)
{
	size_t len = (k * 7919u) % 3000;

	for (size_t j = 0; j < len; j++)
		buf[j] = (unsigned char)(k + j);
	*code = "oirm"[k % 4];
	*t = k * 0.25;
	return len;
}

static void *consume(void *arg)
{
	struct consumer *c = arg;
	const struct rec_chunk *ch;
	unsigned char want[3000];

	while ((ch = rec_ring_peek(c->q))) {
		char code;
		double t;
		size_t len = chunk_of(c->n, want, &code, &t);

		if (ch->code != code || ch->t != t || ch->len != len ||
		    (len && memcmp(ch->data, want, len)))
			c->bad++;
		c->n++;
		rec_ring_pop(c->q);
	}
	return NULL;
}

static void test_ring_order(void **state)
{
	struct rec_ring q;
	struct consumer c = { .q = &q };
	unsigned char buf[3000];
	pthread_t th;

	(void)state;
	assert_int_equal(rec_ring_init(&q, 4), 0);
	assert_int_equal(pthread_create(&th, NULL, consume, &c), 0);
	for (unsigned k = 0; k < 5000; k++) {
		char code;
		double t;
		size_t len = chunk_of(k, buf, &code, &t);

		rec_ring_push(&q, code, t, buf, len);
		/* the copy is the queue's: the caller's buffer is free again at once */
		memset(buf, 0xee, sizeof(buf));
	}
	rec_ring_close(&q);
	pthread_join(th, NULL);
	assert_int_equal(c.n, 5000);
	assert_int_equal(c.bad, 0);
	rec_ring_free(&q);
}

struct pusher {
	struct rec_ring *q;
	int done;
};

static void *push_third(void *arg)
{
	struct pusher *p = arg;

	rec_ring_push(p->q, 'o', 3, "third", 5);
	__atomic_store_n(&p->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static unsigned waiting(struct rec_ring *q)
{
	unsigned w;

	pthread_mutex_lock(&q->mu);
	w = q->waiting;
	pthread_mutex_unlock(&q->mu);
	return w;
}

static void test_ring_backpressure(void **state)
{
	struct rec_ring q;
	struct pusher p = { .q = &q };
	const struct rec_chunk *c;
	pthread_t th;

	(void)state;
	assert_int_equal(rec_ring_init(&q, 2), 0);
	rec_ring_push(&q, 'o', 1, "first", 5);
	rec_ring_push(&q, 'o', 2, "second", 6);
	assert_int_equal(q.waits, 0);
	/* full: the third push waits (nothing is dropped), until a slot is popped */
	assert_int_equal(pthread_create(&th, NULL, push_third, &p), 0);
	while (waiting(&q) == 0)
		sched_yield();
	assert_int_equal(__atomic_load_n(&p.done, __ATOMIC_SEQ_CST), 0);
	assert_int_equal(q.count, 2);
	c = rec_ring_peek(&q);
	assert_memory_equal(c->data, "first", 5);
	/* a peeked chunk still holds its slot */
	assert_int_equal(waiting(&q), 1);
	rec_ring_pop(&q);
	pthread_join(th, NULL);
	assert_int_equal(p.done, 1);
	assert_int_equal(q.waits, 1);
	c = rec_ring_peek(&q);
	assert_int_equal(c->len, 6);
	assert_memory_equal(c->data, "second", 6);
	rec_ring_pop(&q);
	c = rec_ring_peek(&q);
	assert_int_equal(c->len, 5);
	assert_memory_equal(c->data, "third", 5);
	assert_true(c->t == 3);
	rec_ring_pop(&q);
	rec_ring_free(&q);
}

static void test_ring_end_of_stream(void **state)
{
	struct rec_ring q;
	const struct rec_chunk *c;

	(void)state;
	assert_int_equal(rec_ring_init(&q, 8), 0);
	rec_ring_push(&q, 'o', 0, "a", 1);
	rec_ring_push(&q, 'r', 0, "80x24", 5);
	rec_ring_push(&q, 'o', 0, "", 0);
	rec_ring_close(&q);
	/* closed: what was queued still comes out, in order, then the end */
	c = rec_ring_peek(&q);
	assert_int_equal(c->code, 'o');
	assert_memory_equal(c->data, "a", 1);
	rec_ring_pop(&q);
	c = rec_ring_peek(&q);
	assert_int_equal(c->code, 'r');
	rec_ring_pop(&q);
	c = rec_ring_peek(&q);
	assert_int_equal(c->len, 0);
	rec_ring_pop(&q);
	assert_null(rec_ring_peek(&q));
	rec_ring_drain(&q);
	rec_ring_free(&q);
	assert_int_equal(rec_ring_init(&q, 0), -1);
}

static void *slow_consume(void *arg)
{
	struct consumer *c = arg;

	while (rec_ring_peek(c->q)) {
		sched_yield();
		__atomic_add_fetch(&c->n, 1, __ATOMIC_SEQ_CST);
		rec_ring_pop(c->q);
	}
	return NULL;
}

static void test_ring_drain(void **state)
{
	struct rec_ring q;
	struct consumer c = { .q = &q };
	pthread_t th;

	(void)state;
	assert_int_equal(rec_ring_init(&q, 3), 0);
	assert_int_equal(pthread_create(&th, NULL, slow_consume, &c), 0);
	for (unsigned round = 1; round <= 50; round++) {
		for (int k = 0; k < 7; k++)
			rec_ring_push(&q, 'o', 0, "x", 1);
		/* drained: every chunk pushed so far was popped, the last one included */
		rec_ring_drain(&q);
		assert_int_equal(__atomic_load_n(&c.n, __ATOMIC_SEQ_CST), round * 7);
	}
	rec_ring_close(&q);
	pthread_join(th, NULL);
	rec_ring_free(&q);
}

/* --- the escaping --------------------------------------------------------------------------- */

/* UTF-8 as RFC 3629 has it, the recorder's rule: 1-4, 0 invalid, -1 cut short. */
static int ref_utf8(const unsigned char *p, size_t avail)
{
	int n = p[0] < 0x80 ? 1 : p[0] >= 0xc2 && p[0] <= 0xdf ? 2 : (p[0] & 0xf0) == 0xe0 ? 3 :
		p[0] >= 0xf0 && p[0] <= 0xf4 ? 4 : 0;

	for (int i = 1; i < n; i++) {
		if ((size_t)i >= avail)
			return -1;
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	}
	return n;
}

/* The escaping, one byte at a time, written from the format's description. */
static size_t ref_escape(const unsigned char *d, size_t len, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < len;) {
		unsigned char c = d[i];
		int n = ref_utf8(d + i, len - i);

		if (n > 1) {
			memcpy(out + o, d + i, (size_t)n);
			o += (size_t)n;
			i += (size_t)n;
			continue;
		}
		if (n <= 0)
			o += (size_t)sprintf(out + o, "\xef\xbf\xbd");
		else if (c == '"' || c == '\\')
			o += (size_t)sprintf(out + o, "\\%c", c);
		else if (c == '\n')
			o += (size_t)sprintf(out + o, "\\n");
		else if (c == '\r')
			o += (size_t)sprintf(out + o, "\\r");
		else if (c < 0x20 || c == 0x7f)
			o += (size_t)sprintf(out + o, "\\u%04x", c);
		else
			out[o++] = (char)c;
		i++;
	}
	return o;
}

static void check_escape(const unsigned char *d, size_t len)
{
	char *got = malloc(6 * len + 1), *want = malloc(6 * len + 8);
	size_t g = record_json_escape(d, len, got), w = ref_escape(d, len, want);

	if (g != w || memcmp(got, want, w) != 0) {
		size_t at = 0;

		while (at < g && at < w && got[at] == want[at])
			at++;
		fail_msg("escape of %zu bytes: %zu bytes, want %zu; first difference at %zu", len, g,
			 w, at);
	}
	free(got);
	free(want);
}

static void test_escape_matches_reference(void **state)
{
	static const char *const alphabets[] = {
		"0123456789abcdefghijklmnopqrstuvwxyz ",
		"0123456789\n",
		"ab\n\r\t\"\\\x1b[m",
		"a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\n",	/* é € 😀, cut anywhere */
		"\x7f\x80\xbf\xc0\xc1\xf5\xff\xed\xa0\x80 x",
	};
	unsigned char buf[70000];

	(void)state;
	srand(18);
	for (size_t a = 0; a < sizeof(alphabets) / sizeof(*alphabets); a++) {
		size_t an = strlen(alphabets[a]);

		for (size_t len = 0; len < 200; len++) {
			for (size_t j = 0; j < len; j++)
				buf[j] = (unsigned char)alphabets[a][(size_t)rand() % an];
			check_escape(buf, len);
		}
		for (size_t j = 0; j < sizeof(buf); j++)
			buf[j] = (unsigned char)alphabets[a][(size_t)rand() % an];
		check_escape(buf, sizeof(buf));
	}
	/* every byte value at every place of a block, in plain text and in lines */
	for (int v = 0; v < 256; v++) {
		for (size_t at = 0; at < 48; at++) {
			for (size_t j = 0; j < 48; j++)
				buf[j] = j % 11 == 10 ? '\n' : (unsigned char)('0' + j % 10);
			buf[at] = (unsigned char)v;
			check_escape(buf, 48);
			check_escape(buf + 1, 47);
		}
	}
	for (size_t j = 0; j < sizeof(buf); j++)
		buf[j] = (unsigned char)rand();
	check_escape(buf, sizeof(buf));
}

/* --- a recording through the writer thread -------------------------------------------------- */

static char *slurp(int dirfd, const char *name, size_t *len)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	char *buf = NULL;
	size_t cap = 0, n = 0;
	ssize_t r;

	assert_true(fd >= 0);
	do {
		if (n + 65536 > cap)
			buf = realloc(buf, cap = 2 * cap + 65536);
		r = read(fd, buf + n, 65536);
		assert_true(r >= 0);
		n += (size_t)r;
	} while (r > 0);
	close(fd);
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* The "o" data of the cast's first `upto` bytes (all: SIZE_MAX), joined. */
static char *cast_output(const char *cast, size_t upto, size_t *len)
{
	const char *p = strchr(cast, '\n') + 1;
	char *all = malloc(1);

	*len = 0;
	while (*p && (size_t)(p - cast) < upto) {
		const char *e = strchr(p, '\n');
		json_error_t jerr;
		json_t *ev = json_loadb(p, (size_t)(e - p), 0, &jerr);

		if (!ev)
			fail_msg("a cast line is not JSON: %s", jerr.text);
		if (strcmp(json_string_value(json_array_get(ev, 1)), "o") == 0) {
			size_t n = json_string_length(json_array_get(ev, 2));

			all = realloc(all, *len + n + 1);
			memcpy(all + *len, json_string_value(json_array_get(ev, 2)), n);
			*len += n;
		}
		json_decref(ev);
		p = e + 1;
	}
	return all;
}

static void test_recording_through_the_writer(void **state)
{
	char tmp[] = "/tmp/dhi-test-record.XXXXXX", top[64], id[40], sha[65];
	struct dhi_err *err = NULL;
	struct recorder *r;
	char *want = malloc(1 << 22), *cast, *audit, *out, *line2;
	size_t wn = 0, half = 0, cn, an, on, cb;
	json_t *rec;
	int dirfd;

	(void)state;
	assert_non_null(mkdtemp(tmp));
	snprintf(top, sizeof(top), "%s/sessions", tmp);
	r = record_open(top, 80, 24, NULL, "test", id, &err);
	assert_non_null(r);
	for (unsigned k = 0; k < 2000; k++) {
		char chunk[2048];
		/* lines, quotes and a multi-byte character split between two chunks */
		int n = snprintf(chunk, sizeof(chunk), "%u \"line\" \\ \xe2\x82", k), cut = n;

		chunk[n++] = (char)0xac;
		n += snprintf(chunk + n, sizeof(chunk) - (size_t)n, "%.*s\n", (int)(k % 1500),
			      "0123456789012345678901234567890123456789012345678901234567890123456789"
			      "0123456789012345678901234567890123456789012345678901234567890123456789"
			      "0123456789012345678901234567890123456789012345678901234567890123456789"
			      "0123456789012345678901234567890123456789012345678901234567890123456789"
			      "0123456789012345678901234567890123456789012345678901234567890123456789"
			      "0123456789012345678901234567890123456789012345678901234567890123456789"
			      "0123456789012345678901234567890123456789012345678901234567890123456789"
			      "0123456789012345678901234567890123456789012345678901234567890123456789"
			      "0123456789012345678901234567890123456789012345678901234567890123456789"
			      "0123456789012345678901234567890123456789012345678901234567890123456789"
			      "0123456789012345678901234567890123456789012345678901234567890123456789"
			      "0123456789012345678901234567890123456789012345678901234567890123456789"
			      "0123456789012345678901234567890123456789012345678901234567890123456789"
			      "0123456789012345678901234567890123456789012345678901234567890123456789"
			      "0123456789012345678901234567890123456789012345678901234567890123456789"
			      "0123456789012345678901234567890123456789012345678901234567890123456789"
			      "0123456789012345678901234567890123456789012345678901234567890123456789"
			      "0123456789012345678901234567890123456789012345678901234567890123456789"
			      "0123456789012345678901234567890123456789012345678901234567890123456789"
			      "0123456789012345678901234567890123456789012345678901234567890123456789"
			      "0123456789012345678901234567890123456789012345678901234567890123456789"
			      "0123456789012345678901234567890123456789012345678901234567890123456789");
		/* the split: the last byte of the euro sign opens the next event */
		assert_int_equal(record_event(r, 'o', chunk, (size_t)cut), 0);
		assert_int_equal(record_event(r, 'o', chunk + cut, (size_t)(n - cut)), 0);
		memcpy(want + wn, chunk, (size_t)n);
		wn += (size_t)n;
		if (k == 999) {
			/* a record in the middle covers exactly what came before it */
			assert_int_equal(record_audit(r, "line", json_pack("{s:s}", "text", "x"), false),
					 0);
			half = wn;
		}
	}
	/* no session.end: the close writes what is still queued */
	dirfd = dup(record_dirfd(r));
	record_close(r);

	cast = slurp(dirfd, "session.cast", &cn);
	out = cast_output(cast, SIZE_MAX, &on);
	assert_int_equal(on, wn);
	assert_memory_equal(out, want, wn);
	free(out);

	audit = slurp(dirfd, "audit.jsonl", &an);
	line2 = audit;
	rec = json_loads(line2, JSON_DISABLE_EOF_CHECK, NULL);
	assert_non_null(rec);
	assert_string_equal(json_string_value(json_object_get(rec, "type")), "line");
	cb = (size_t)json_integer_value(json_object_get(rec, "cast_bytes"));
	record_sha256_hex(cast, cb, sha);
	assert_string_equal(json_string_value(json_object_get(rec, "cast_sha256")), sha);
	/* the record's prefix of the cast ends after the 1000th chunk's last event */
	out = cast_output(cast, cb, &on);
	assert_int_equal(on, half);
	assert_memory_equal(out, want, half);
	free(out);
	json_decref(rec);

	free(cast);
	free(audit);
	free(want);
	close(dirfd);
	testutil_rmtree(tmp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ring_order),
		cmocka_unit_test(test_ring_backpressure),
		cmocka_unit_test(test_ring_end_of_stream),
		cmocka_unit_test(test_ring_drain),
		cmocka_unit_test(test_escape_matches_reference),
		cmocka_unit_test(test_recording_through_the_writer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

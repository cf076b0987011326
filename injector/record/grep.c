// SPDX-License-Identifier: Apache-2.0
/* grep.c - search the recorded output of a session (`sessions grep`,
 * docs/recording.md, "Searching"). */
#include "injector/record/sessions.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/xalloc.h"

/* A longer line is searched in pieces of this size (output without line feeds,
 * as a progress bar). */
#define LINE_MAX_BYTES 65536

/*
 * The text of the output as a reader of the terminal saw it, line by line:
 * escape sequences (CSI, OSC, and two-byte ESC ones) and control characters
 * other than tab are dropped, across event boundaries.
 */
struct liner {
	enum { L_TEXT, L_ESC, L_CSI, L_OSC, L_OSC_ESC, L_C2 } state;
	char *buf;
	size_t len;
	double start; /* the time of the event the line began in; < 0 before its first
                   byte */
	const char *id;
	const regex_t *re;
	FILE *out;
	json_t *json;
	int matches;
};

static void line_end(struct liner *l)
{
	if (l->start < 0)
		return;
	l->buf[l->len] = '\0';
	if (regexec(l->re, l->buf, 0, NULL, 0) == 0) {
		l->matches++;
		if (l->json) {
			json_t *m = json_object();

			json_object_set_new(m, "session", json_string(l->id));
			json_object_set_new(m, "offset", json_real(l->start));
			json_object_set_new(m, "line", json_stringn(l->buf, l->len));
			json_array_append_new(l->json, m);
		} else {
			fprintf(l->out, "%s  %10.3f  %s\n", l->id, l->start, l->buf);
		}
	}
	l->len = 0;
	l->start = -1;
}

static void put(struct liner *l, double t, unsigned char c)
{
	if (l->start < 0)
		l->start = t;
	/* cut before a character, never inside one: the pieces stay UTF-8 */
	if (l->len >= LINE_MAX_BYTES && (c & 0xc0) != 0x80) {
		double t0 = l->start;

		line_end(l);
		l->start = t0;
	}
	l->buf[l->len++] = (char)c;
}

static void line_feed(struct liner *l, double t, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		switch (l->state) {
		case L_C2:
			/*
			 * U+0080 to U+009F are the C1 controls, which a terminal may take as
			 * ESC and a letter: CSI (U+009B), OSC, DCS, SOS, PM and APC (their
			 * strings end as OSC's do); the others are dropped like C0's
			 */
			l->state = L_TEXT;
			if (c >= 0x80 && c <= 0x9f) {
				l->state = c == 0x9b				? L_CSI
					   : c == 0x9d || c == 0x90 || c == 0x98 ||
							   c == 0x9e || c == 0x9f ? L_OSC
											: L_TEXT;
				continue;
			}
			put(l, t, 0xc2);
			i--;	/* the byte after it, as itself */
			continue;
		case L_ESC:
			l->state = c == '[' ? L_CSI : c == ']' ? L_OSC : L_TEXT;
			continue;
		case L_CSI:
			/* parameters and intermediates, up to the final byte */
			if (c >= 0x40 && c <= 0x7e)
				l->state = L_TEXT;
			continue;
		case L_OSC:
			if (c == 0x07)
				l->state = L_TEXT;
			else if (c == 0x1b)
				l->state = L_OSC_ESC;
			continue;
		case L_OSC_ESC:
			l->state = c == '\\' ? L_TEXT : L_OSC;
			continue;
		case L_TEXT:
			break;
		}
		if (c == '\n') {
			line_end(l);
			continue;
		}
		if (c == 0x1b) {
			l->state = L_ESC;
			continue;
		}
		if (c == 0xc2) {
			l->state = L_C2;
			continue;
		}
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			continue;
		put(l, t, c);
	}
}

static int hex4(const char *s, const char *end, unsigned *out)
{
	*out = 0;
	if (end - s < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		char c = s[i];
		int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;

		if (v < 0)
			return -1;
		*out = *out << 4 | (unsigned)v;
	}
	return 0;
}

/*
 * The JSON string whose opening quote is before `s`, decoded into `out` (its decoded form is
 * never longer than its JSON); the position after its closing quote, or NULL for what this
 * does not judge (bytes past ASCII, whose UTF-8 jansson checks; \u0000; anything invalid).
 */
static const char *fast_string(const char *s, const char *end, char *out, size_t *len)
{
	size_t n = 0;

	while (s < end) {
		unsigned char c = (unsigned char)*s++;
		unsigned cp, lo;

		if (c == '"') {
			*len = n;
			return s;
		}
		if (c < 0x20 || c >= 0x80)
			return NULL;
		if (c != '\\') {
			out[n++] = (char)c;
			continue;
		}
		if (s >= end)
			return NULL;
		switch (*s++) {
		case '"': out[n++] = '"'; break;
		case '\\': out[n++] = '\\'; break;
		case '/': out[n++] = '/'; break;
		case 'b': out[n++] = '\b'; break;
		case 'f': out[n++] = '\f'; break;
		case 'n': out[n++] = '\n'; break;
		case 'r': out[n++] = '\r'; break;
		case 't': out[n++] = '\t'; break;
		case 'u':
			if (hex4(s, end, &cp) < 0 || cp == 0 || (cp >= 0xdc00 && cp < 0xe000))
				return NULL;
			s += 4;
			if (cp >= 0xd800 && cp < 0xdc00) {
				if (end - s < 6 || s[0] != '\\' || s[1] != 'u' || hex4(s + 2, end, &lo) < 0 ||
				    lo < 0xdc00 || lo >= 0xe000)
					return NULL;
				s += 6;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			}
			/* UTF-8: at most 3 bytes for 6 characters, 4 for 12 */
			if (cp < 0x80) {
				out[n++] = (char)cp;
			} else if (cp < 0x800) {
				out[n++] = (char)(0xc0 | cp >> 6);
				out[n++] = (char)(0x80 | (cp & 0x3f));
			} else if (cp < 0x10000) {
				out[n++] = (char)(0xe0 | cp >> 12);
				out[n++] = (char)(0x80 | (cp >> 6 & 0x3f));
				out[n++] = (char)(0x80 | (cp & 0x3f));
			} else {
				out[n++] = (char)(0xf0 | cp >> 18);
				out[n++] = (char)(0x80 | (cp >> 12 & 0x3f));
				out[n++] = (char)(0x80 | (cp >> 6 & 0x3f));
				out[n++] = (char)(0x80 | (cp & 0x3f));
			}
			break;
		default:
			return NULL;
		}
	}
	return NULL;
}

static const char *skip_ws(const char *s, const char *end)
{
	while (s < end && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'))
		s++;
	return s;
}

/*
 * An event line as the recorder writes it, `[T, "o", "DATA"]`, read without building JSON
 * values (they were most of grep's time): 1 with the time and the decoded data (in `out`,
 * room for the line's length), 0 for another event code, -1 for what jansson must judge.
 */
static int fast_event(const char *line, size_t n, char *out, double *t, size_t *len)
{
	const char *s = line, *end = line + n, *num;
	char *e;

	s = skip_ws(s, end);
	if (s >= end || *s++ != '[')
		return -1;
	s = skip_ws(s, end);
	/* JSON's number grammar (strtod alone would take hex, inf and nan) */
	num = s;
	if (s < end && *s == '-')
		s++;
	if (s >= end || *s < '0' || *s > '9')
		return -1;
	/* no leading zeros */
	if (*s == '0' && s + 1 < end && s[1] >= '0' && s[1] <= '9')
		return -1;
	while (s < end && *s >= '0' && *s <= '9')
		s++;
	if (s < end && *s == '.') {
		if (++s >= end || *s < '0' || *s > '9')
			return -1;
		while (s < end && *s >= '0' && *s <= '9')
			s++;
	}
	if (s < end && (*s == 'e' || *s == 'E')) {
		if (++s < end && (*s == '+' || *s == '-'))
			s++;
		if (s >= end || *s < '0' || *s > '9')
			return -1;
		while (s < end && *s >= '0' && *s <= '9')
			s++;
	}
	*t = strtod(num, &e);
	/* jansson refuses a real it cannot hold */
	if (e != s || !isfinite(*t))
		return -1;
	/* an integer is one to jansson (so -0 is 0), and one past long long is an error */
	if (!memchr(num, '.', (size_t)(s - num)) && !memchr(num, 'e', (size_t)(s - num)) &&
	    !memchr(num, 'E', (size_t)(s - num))) {
		if (s - num > 18)
			return -1;
		*t = (double)strtoll(num, NULL, 10);
	}
	s = skip_ws(s, end);
	if (s >= end || *s++ != ',')
		return -1;
	s = skip_ws(s, end);
	if (end - s < 3 || s[0] != '"' || s[2] != '"' || s[1] == '\\' || (unsigned char)s[1] < 0x20 ||
	    (unsigned char)s[1] >= 0x80)
		return -1;
	if (s[1] != 'o')
		return 0;
	s = skip_ws(s + 3, end);
	if (s >= end || *s++ != ',')
		return -1;
	s = skip_ws(s, end);
	if (s >= end || *s++ != '"')
		return -1;
	s = fast_string(s, end, out, len);
	if (!s)
		return -1;
	s = skip_ws(s, end);
	if (s >= end || *s++ != ']')
		return -1;
	return skip_ws(s, end) == end ? 1 : -1;
}

int sessions_grep_cast_at(int dirfd, const char *id, const regex_t *re, FILE *out, json_t *json,
			  struct dhi_err **err)
{
	int fd = openat(dirfd, "session.cast", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	dhi_autofclose FILE *f = NULL;
	dhi_autofree char *line = NULL, *data = NULL;
	dhi_autofree char *buf = xmalloc(LINE_MAX_BYTES + 8);
	size_t data_cap = 0;
	struct liner l = {.buf = buf, .start = -1, .id = id, .re = re, .out = out, .json = json};
	size_t cap = 0;
	ssize_t n;
	bool header = true;

	if (fd < 0)
		return errno == ENOENT ? 0 : dhi_err_set(err, errno, "cannot open `session.cast`");
	f = fdopen(fd, "re");
	if (!f) {
		close(fd);
		return dhi_err_set(err, errno, "cannot read `session.cast`");
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		json_auto_t *ev = NULL;
		const char *code;
		double t;
		size_t len;
		int fast;

		if (header) {
			/* line 1 is the header object */
			header = false;
			continue;
		}
		if (data_cap < (size_t)n) {
			data_cap = (size_t)n;
			free(data);
			data = xmalloc(data_cap);
		}
		fast = fast_event(line, (size_t)n, data, &t, &len);
		if (fast == 0)
			continue;
		if (fast == 1) {
			line_feed(&l, t, data, len);
			continue;
		}
		/* (output may hold NULs: \u0000, which jansson refuses unless told) */
		ev = json_loadb(line, (size_t)n, JSON_ALLOW_NUL, NULL);
		code = json_string_value(json_array_get(ev, 1));
		if (!json_is_array(ev) || !code || strcmp(code, "o") != 0 ||
		    !json_is_number(json_array_get(ev, 0)) ||
		    !json_is_string(json_array_get(ev, 2)))
			continue;
		line_feed(&l, json_number_value(json_array_get(ev, 0)),
			  json_string_value(json_array_get(ev, 2)),
			  json_string_length(json_array_get(ev, 2)));
	}
	if (ferror(f))
		return dhi_err_set(err, errno, "cannot read `session.cast`");
	line_end(&l);
	return l.matches;
}
